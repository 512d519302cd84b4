"""`mlcode schema`: print the JSON Schema of ml.yaml."""

from __future__ import annotations

import click


@click.command("schema")
def command() -> None:
    """Print the JSON Schema of ml.yaml (for yaml-language-server and other editors)."""
    from mlcode.spec.jsonschema import ml_schema_text

    click.echo(ml_schema_text(), nl=False)
