"""`mlcode params pull [EXP]`: keep a DVC experiment's params in ml.yaml (thin CLI over
`mlcode.project.pull`)."""

from __future__ import annotations

import click

from mlcode.cli import options


@click.group("params")
def command() -> None:
    """Work with the params DVC experiments set (`dvc exp run -S`)."""


@command.command("pull")
@click.argument("exp", required=False, metavar="[EXP]")
@click.option("--dry-run", is_flag=True, help="Show the ml.yaml diff; write nothing.")
@click.pass_context
def pull(ctx: click.Context, exp: str | None, dry_run: bool) -> None:
    """Carry an experiment's params back into ml.yaml, then regenerate params.yaml.

    Without EXP, from the working tree's params.yaml (what `dvc exp run -S` or `dvc exp apply EXP`
    left there); with EXP, from that experiment as `dvc exp show` lists it (the working tree's
    other files stay as they are). Only the changed values of ml.yaml are rewritten.
    """
    from mlcode.cli.needs import require_full
    from mlcode.layout import LOCK_FILE
    from mlcode.project.lock import exclusive
    from mlcode.project.pull import prepare, write

    # Checked here, not through needs.NEEDS_FULL: that guards the group, which would also stop
    # `mlcode params pull --help` in the light install.
    require_full("params pull")
    root = options.root(ctx)
    with exclusive(root / LOCK_FILE):
        result = prepare(root, exp)
        if result is None:
            source = f"experiment {exp}" if exp else "params.yaml"
            click.echo(f"Nothing to pull: {source} already holds what ml.yaml compiles to.")
            return
        click.echo(result.diff(), nl=False)
        if dry_run:
            click.echo(
                f"Dry run: {len(result.changes)} change(s) from {result.source}; nothing written."
            )
            return
        applied = write(result)
    click.echo(
        f"Pulled {len(result.changes)} change(s) from {result.source} into ml.yaml; "
        f"regenerated {', '.join(applied.written) or 'nothing'}; the changes are staged in git."
    )
