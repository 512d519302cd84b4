"""`mlcode run [MODEL...]`: reproduce the models' stale stages through DVC and show the report.

DVC decides what is stale (`dvc status --with-deps`) and runs it (`dvc repro`), so a stage whose
inputs did not change never runs again. `mlcode.project.run_report` does the work and gathers the
report (each metric and its change against HEAD, like `dvc metrics diff HEAD`, the params that
changed, the drift verdict); this module only says what runs and renders the report.
"""

from __future__ import annotations

import json

import click

from mlcode.cli import options


@click.command("run")
@click.argument("models", nargs=-1)
@options.json_output("Print the result as JSON (DVC's output hidden).")
@click.option(
    "--pull",
    is_flag=True,
    help="Restore stages another runner already computed from the DVC remote's run-cache "
    "instead of running them (fetching the data they need).",
)
@click.option(
    "--push",
    is_flag=True,
    help="Afterwards push the models' outputs and the run-cache (metrics and plots included) "
    "to the DVC remote, so other runners restore them.",
)
@click.pass_context
def command(
    ctx: click.Context, models: tuple[str, ...], as_json: bool, pull: bool, push: bool
) -> None:
    """Reproduce MODELS (default: all) through DVC and show their metrics vs HEAD.

    Only stale stages run; with nothing stale, the metrics are shown as they are. On CI runners
    that share one DVC remote, `--pull --push` makes every stage run once across all of them.
    """
    from mlcode.project import metrics_table, run_report

    run = run_report.prepare(options.root(ctx), models)
    if run.stale:
        if not as_json:
            click.echo(f"Stale: {', '.join(run.stale)}; running dvc repro.")
        run_report.reproduce(run.root, run.targets, capture=as_json, pull=pull)
    ran = bool(run.stale)
    if push:
        extra = run_report.share(run.root, run.targets, capture=as_json)
        if not as_json:
            click.echo(f"Pushed outputs and run-cache ({extra} metrics/plots object(s) added).")
    report = run_report.collect(run.root, run.spec, run.models)
    if as_json:
        click.echo(json.dumps({"ran": ran, **report.to_json()}, indent=2))
        return
    if not ran:
        click.echo("Everything is up to date; nothing to run.")
    if not run.models:
        click.echo("ml.yaml declares no models.")
        return
    click.echo(metrics_table.render_report(report))
