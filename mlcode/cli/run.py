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
@click.pass_context
def command(ctx: click.Context, models: tuple[str, ...], as_json: bool) -> None:
    """Reproduce MODELS (default: all) through DVC and show their metrics vs HEAD.

    Only stale stages run; with nothing stale, the metrics are shown as they are.
    """
    from mlcode.project import metrics_table, run_report

    run = run_report.prepare(options.root(ctx), models)
    if run.stale:
        if not as_json:
            click.echo(f"Stale: {', '.join(run.stale)}; running dvc repro.")
        run_report.reproduce(run.root, run.targets, capture=as_json)
    ran = bool(run.stale)
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
