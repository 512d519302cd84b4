"""`mlcode promote [MODEL...]`: a model that passes its gates becomes a reviewed git change — a
branch, a version tag and a pull request (or a commit on the base branch) — after its data reached
the DVC remote; `--finalize` assigns the stage to versions that landed on the base.

The work is `mlcode.promote.run` (and `.finalize`); this module parses options and prints.
"""

from __future__ import annotations

import json
from typing import Any

import click

from mlcode.cli import options


@click.command("promote")
@click.argument("models", nargs=-1)
@click.option(
    "--mode",
    type=click.Choice(["pr", "commit"]),
    default=None,
    help="Pull request, or a commit on the base branch (default: each model's promotion.mode).",
)
@click.option(
    "--bump",
    type=click.Choice(["major", "minor", "patch"]),
    default="minor",
    show_default=True,
    help="Which part of the version a new promotion raises.",
)
@click.option("--dry-run", is_flag=True, help="Print every step; change nothing.")
@click.option(
    "--finalize",
    is_flag=True,
    help="Assign the stage to each model's newest version that landed on the base branch.",
)
@options.json_output()
@click.pass_context
def command(
    ctx: click.Context,
    models: tuple[str, ...],
    mode: str | None,
    bump: str,
    dry_run: bool,
    finalize: bool,
    as_json: bool,
) -> None:
    """Promote MODELS (default: all) that pass their gates.

    In order: refuse on a dirty tree or stale stages; evaluate the gates (a failure stops here,
    exit 1); push the data to the DVC remote and verify it; commit dvc.lock, pointers, metrics and
    the report on a promotion branch; tag the version; push; open or update the pull request.
    """
    root = options.root(ctx)
    if finalize:
        from mlcode.promote.finalize import finalize as run_finalize

        done = run_finalize(root, models, dry_run=dry_run)
        if as_json:
            click.echo(json.dumps({"dry_run": dry_run, "finalized": done}, indent=2))
            return
        for entry in done:
            step: Any = entry["step"]
            click.echo(f"{entry['model']}: {step['status']}: {step['detail']}")
        return
    from mlcode.promote.run import Options, promote

    outcome = promote(
        root,
        models,
        Options(mode=mode, bump=bump, dry_run=dry_run),  # type: ignore[arg-type]
    )
    if as_json:
        click.echo(json.dumps(outcome.to_json(), indent=2))
        return
    click.echo(outcome.gates_table.rstrip())
    for item in outcome.promotions:
        head = "would promote" if dry_run else "promoted"
        click.echo(f"\n{item.model} {item.version}: {head} ({item.mode} mode)")
        for i, step in enumerate(item.steps, 1):
            click.echo(f"  {i}. {step.name}: {step.status}: {step.detail}")
        click.echo(f"  branch: {item.branch}")
        click.echo(f"  tag:    {item.tag}")
        click.echo(f"  report: {item.report}")
        if item.message:
            click.echo("  " + item.message.replace("\n", "\n  "))
