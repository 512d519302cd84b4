"""`mlcode gates [MODEL...]`: may these models be promoted? Every gate of ml.yaml, with numbers.

Exit 0 when every gate passed, 1 when one failed, 3 when the gates cannot be evaluated (stale
stages, unknown model, missing base branch, invalid ml.yaml). `mlcode.gates.evaluate` does the
work; this module renders the report as a table, JSON or Markdown.
"""

from __future__ import annotations

import json

import click

from mlcode.cli import options
from mlcode.errors import EXIT_CHECK_FAILED


@click.command("gates")
@click.argument("models", nargs=-1)
@options.json_output("Print the result as JSON (see the README for its fields).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "markdown"]),
    default="table",
    show_default=True,
    help="Plain table, or Markdown for a pull-request body.",
)
@click.option(
    "--champion",
    "champion",
    metavar="REF",
    default=None,
    help="Compare with this revision or version (e.g. v0.2.0) instead of the registry's "
    "champion or the promotion base branch.",
)
@click.pass_context
def command(
    ctx: click.Context, models: tuple[str, ...], as_json: bool, fmt: str, champion: str | None
) -> None:
    """Evaluate the gates of MODELS (default: all): metric rules, the champion, the drift gate.

    Exit 0 when all passed, 1 when a gate failed, 3 when they cannot be evaluated.
    """
    from mlcode.gates.evaluate import evaluate_gates

    report = evaluate_gates(options.root(ctx), models, champion)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    elif fmt == "markdown":
        click.echo(report.to_markdown(), nl=False)
    else:
        click.echo(report.to_table(), nl=False)
    if not report.passed:
        ctx.exit(EXIT_CHECK_FAILED)
