"""`mlcode step STEP MODEL`: run one built-in pipeline step (what dvc.yaml's stages call)."""

from __future__ import annotations

import click

from mlcode.cli import options
from mlcode.steps import STEPS


@click.command("step")
@click.argument("step", type=click.Choice(STEPS))
@click.argument("model")
@click.pass_context
def command(ctx: click.Context, step: str, model: str) -> None:
    """Run built-in STEP (prepare, train, evaluate, drift) for MODEL, reading params.yaml.

    DVC runs this from the repository root; run it by hand to debug one stage.
    """
    import time

    from mlcode.spec.names import stage_name
    from mlcode.steps import run_step

    started = time.perf_counter()
    run_step(step, options.root(ctx, needs_git=False), model)
    click.echo(
        f"{stage_name(step, model)}: done in {time.perf_counter() - started:.1f} s", err=True
    )
