"""`mlcode plan`: what `apply` would change, Terraform-style."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mlcode.cli.boundary import settings


@click.command("plan")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there are no changes, 2 when there are changes (1 on error).",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Save the plan; `mlcode apply FILE` runs it only if nothing changed since.",
)
@click.option("--no-status", is_flag=True, help="Do not ask DVC which stages are stale.")
@click.pass_context
def command(
    ctx: click.Context,
    as_json: bool,
    detailed_exitcode: bool,
    out_file: Path | None,
    no_status: bool,
) -> None:
    """Show each generated file to create, update or delete, remote changes, and stale stages."""
    from mlcode.repo import find_root
    from mlcode.workspace import start_status

    cwd = settings(ctx).cwd
    target = None if out_file is None else _out_target(cwd, out_file)
    # DVC's status runs while mlcode imports, loads and compiles: plan costs about max(), not the
    # sum. So DVC starts first, before the heavy imports below (pydantic, the compiler).
    pending = None if no_status else start_status(find_root(cwd))
    try:
        from mlcode.apply import saved_plan
        from mlcode.fsutil import atomic_write
        from mlcode.planview import render_text, to_json
        from mlcode.workspace import compute_plan, open_workspace

        ws = open_workspace(cwd)
        plan, compiled = compute_plan(ws, with_status=not no_status, pending=pending)
    except BaseException:
        if pending is not None:
            pending.cancel()
        raise
    data = to_json(plan)
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(render_text(plan))
    if out_file is not None and target is not None:
        atomic_write(target, saved_plan(ws, data, compiled))
        if not as_json:
            click.echo(f"Saved the plan to {out_file}; run `mlcode apply {out_file}` to apply it.")
    if detailed_exitcode and plan.has_changes:
        ctx.exit(2)


def _out_target(cwd: Path, out_file: Path) -> Path:
    """Where `--out` writes, checked before anything runs: its folder must already exist."""
    from mlcode.errors import UserError

    target = out_file if out_file.is_absolute() else cwd / out_file
    parent = target.parent
    if not parent.exists():
        raise UserError(
            f"cannot save the plan to {out_file}: the folder {parent} does not exist "
            "(plan --out creates no folders; create it first or choose another path)"
        )
    if not parent.is_dir():
        raise UserError(f"cannot save the plan to {out_file}: {parent} is not a folder")
    return target
