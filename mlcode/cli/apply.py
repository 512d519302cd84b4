"""`mlcode apply`: write the generated files, set up DVC and its remote, stage them in git."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TypeVar

import click

from mlcode.cli import options
from mlcode.errors import UserError

T = TypeVar("T")


def _terminated(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _interruptible(work: Callable[[], T]) -> T:
    """Run `work` with SIGTERM raising like Ctrl-C, so apply rolls back on both."""
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        return work()
    finally:
        signal.signal(signal.SIGTERM, previous)


@click.command("apply")
@click.argument(
    "plan_file", required=False, type=click.Path(dir_okay=False, path_type=Path), metavar="[PLAN]"
)
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--force", is_flag=True, help="Overwrite generated files that were edited by hand.")
@click.option("--run", "run_after", is_flag=True, help="Reproduce the pipeline afterwards.")
@options.json_output()
@click.pass_context
def command(
    ctx: click.Context,
    plan_file: Path | None,
    auto_approve: bool,
    force: bool,
    run_after: bool,
    as_json: bool,
) -> None:
    """Apply ml.yaml: write generated files atomically, `dvc init`, configure the remote, git add.

    With PLAN (saved by `mlcode plan --out`), apply only if nothing changed since it was saved.
    """
    from mlcode.layout import LOCK_FILE
    from mlcode.project import savedplan
    from mlcode.project.apply import execute
    from mlcode.project.lock import exclusive
    from mlcode.project.planview import render_text, to_json
    from mlcode.project.workspace import compute_plan

    cwd = options.settings(ctx).cwd  # a relative PLAN is where the user is, not the root
    ws = options.workspace(ctx)
    with exclusive(ws.root / LOCK_FILE):
        plan, compiled = compute_plan(ws, with_status=False)
        if plan_file is not None:
            savedplan.check(ws, plan_file if plan_file.is_absolute() else cwd / plan_file, compiled)
            auto_approve = True  # the saved plan was the review
        if not as_json:
            click.echo(render_text(plan))
        if plan.has_changes:
            if not auto_approve:
                if not sys.stdin.isatty():
                    raise UserError(
                        "apply needs confirmation: run it in a terminal, or pass --auto-approve"
                    )
                click.confirm("Apply these changes?", abort=True)
            result = _interruptible(lambda: execute(ws, plan, compiled, force=force))
            if not as_json:
                click.echo(
                    f"Applied: {len(result.written)} written, {len(result.deleted)} deleted"
                    + (
                        f", {len(result.tracked)} dataset(s) put under DVC"
                        if result.tracked
                        else ""
                    )
                    + (f", DVC remote {result.remote!r} configured" if result.remote else "")
                    + "; the changes are staged in git."
                )
                if result.credentials:
                    from mlcode.project.remote import credential_hint

                    hint = credential_hint(ws.project.stack)
                    if hint:
                        click.echo(hint)
        if as_json:
            click.echo(json.dumps({"applied": plan.has_changes, "plan": to_json(plan)}, indent=2))
    if run_after:
        from mlcode.project.run_report import reproduce

        reproduce(ws.root, [], capture=as_json)
