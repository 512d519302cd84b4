"""`mlcode plan`: what `apply` would change, Terraform-style."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mlcode.cli import options


@click.command("plan")
@options.json_output("Print the plan as JSON.")
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
    from mlcode.project.workspace import start_status

    cwd = options.settings(ctx).cwd  # a relative --out is where the user is, not the root
    target = None if out_file is None else _out_target(cwd, out_file)
    # DVC's status runs while mlcode imports, loads and compiles: plan costs about max(), not the
    # sum. So DVC starts first, before the heavy imports below (pydantic, the compiler).
    pending = None if no_status else start_status(options.root(ctx))
    try:
        from mlcode.project import savedplan
        from mlcode.project.planview import render_text, to_json
        from mlcode.project.workspace import compute_plan

        ws = options.workspace(ctx)
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
        savedplan.save(ws, target, data, compiled)
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
