"""`mlcode init`: scaffold ml.yaml, optionally with an example dataset from scikit-learn."""

from __future__ import annotations

import click

from mlcode.cli import options
from mlcode.errors import UserError
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
    """Scaffold ml.yaml (and with --example, data under data/) in the current folder."""
    from mlcode.adapters.fs import atomic_write
    from mlcode.project.scaffold import project_name, render_spec
    from mlcode.resources import is_stack_path, stack_presets
    from mlcode.spec import names
    from mlcode.spec.jsonschema import SCHEMA_FILE, ml_schema_text

    root = options.root(ctx, needs_git=False)
    if not is_stack_path(stack) and stack not in stack_presets():
        raise UserError(
            f"unknown stack {stack!r}; presets: {', '.join(stack_presets())} "
            "(or give a path to your own stack file)"
        )
    name = project or project_name(root.name)
    if not names.NAME.match(name):
        raise UserError(f"invalid project name {name!r}: use {names.NAME_RULE}")
    files: dict[str, str] = {}
    numeric: tuple[str, ...] = ()
    if example is not None:
        from mlcode.project.examples import build

        data = build(example)
        files.update(data.files)
        numeric = data.numeric
    files["ml.yaml"] = render_spec(name, stack, EXAMPLES[example] if example else None, numeric)
    existing = [p for p in files if (root / p).exists()]
    if existing and not force:
        raise UserError(
            f"refusing to overwrite {', '.join(existing)} in {root}; use --force to replace them"
        )
    # Data first, ml.yaml last: an interrupted init never leaves an ml.yaml without its data.
    for rel in sorted(files, key=lambda p: p == "ml.yaml"):
        atomic_write(root / rel, files[rel])
    atomic_write(root / SCHEMA_FILE, ml_schema_text())
    click.echo(f"Wrote {', '.join(sorted(files))} and {SCHEMA_FILE} in {root}.")
    click.echo("Next: mlcode validate")
