"""`mlcode run [MODEL...]`: reproduce the models' stale stages through DVC and show the report.

DVC decides what is stale (`dvc status --with-deps`) and runs it (`dvc repro`), so a stage whose
inputs did not change never runs again. The report (`mlcode.project.run_report`) shows each metric and its
change against HEAD (like `dvc metrics diff HEAD`), the params that changed, and the drift verdict;
this module only runs the stages and renders the report.
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
    from mlcode.adapters import dvc
    from mlcode.project import metrics_table, run_report
    from mlcode.spec.load import load_project

    root = options.root(ctx)
    project = load_project(root)
    names = run_report.selected_models(list(project.spec.models), models)
    targets = run_report.stage_targets(root, names)
    ran = False
    if targets:
        # --with-deps: a target is stale when anything upstream of it is, not only its own inputs.
        stale = dvc.status(root, targets, with_deps=True)
        ran = bool(stale)
        if ran:
            if not as_json:
                click.echo(f"Stale: {', '.join(sorted(stale))}; running dvc repro.")
            dvc.repro(root, targets, capture=as_json)
    report = run_report.collect(root, project.spec, names)
    if as_json:
        click.echo(json.dumps({"ran": ran, **report.to_json()}, indent=2))
        return
    if not ran:
        click.echo("Everything is up to date; nothing to run.")
    if not names:
        click.echo("ml.yaml declares no models.")
        return
    click.echo(metrics_table.render_report(report))
