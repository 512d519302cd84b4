"""`mlcode init`: scaffold ml.yaml, optionally with an example dataset from scikit-learn."""

from __future__ import annotations

import click

from mlcode.cli import options
from mlcode.project.scaffold import EXAMPLES


@click.command("init")
@click.option(
    "--stack", default="local", show_default=True, help="Stack preset or stack file path."
)
@click.option(
    "--example",
    type=click.Choice(sorted(EXAMPLES)),
    default=None,
    help="Also write a bundled scikit-learn dataset and a model for it.",
)
@click.option("--project", default=None, help="Project name (default: from the folder name).")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.pass_context
def command(
    ctx: click.Context, stack: str, example: str | None, project: str | None, force: bool
) -> None:
    """Scaffold ml.yaml (and with --example, data under data/) at the repository root."""
    from mlcode.project.init import write_project
    from mlcode.spec.jsonschema import SCHEMA_FILE

    root = options.root(ctx, needs_git=False)
    written = write_project(root, stack=stack, example=example, project=project, force=force)
    click.echo(f"Wrote {', '.join(written)} and {SCHEMA_FILE} in {root}.")
    click.echo("Next: mlcode validate")
