"""`mlcode run [MODEL...]`: reproduce the models' stale stages through DVC and show their metrics.

DVC decides what is stale (`dvc status --with-deps`) and runs it (`dvc repro`), so a stage whose
inputs did not change never runs again. The metrics table shows each value and its change against
HEAD (like `dvc metrics diff HEAD`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from mlcode.cli.boundary import settings
from mlcode.errors import UserError


@click.command("run")
@click.argument("models", nargs=-1)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the result as JSON (DVC's output hidden)."
)
@click.pass_context
def command(ctx: click.Context, models: tuple[str, ...], as_json: bool) -> None:
    """Reproduce MODELS (default: all) through DVC and show their metrics vs HEAD.

    Only stale stages run; with nothing stale, the metrics are shown as they are.
    """
    from mlcode import metrics_table
    from mlcode.adapters import dvc, git
    from mlcode.spec.load import load_project

    root = git.toplevel(settings(ctx).cwd)
    project = load_project(root)
    names = selected_models(list(project.spec.models), models)
    targets = stage_targets(root, names)
    ran = False
    if targets:
        # --with-deps: a target is stale when anything upstream of it is, not only its own inputs.
        stale = dvc.status(root, targets, with_deps=True)
        ran = bool(stale)
        if ran:
            if not as_json:
                click.echo(f"Stale: {', '.join(sorted(stale))}; running dvc repro.")
            dvc.repro(root, targets, capture=as_json)
    table = metrics_table.build(*collect(root, project.spec, names), order=_order(project, names))
    if as_json:
        click.echo(json.dumps({"ran": ran, "models": metrics_table.to_json(table)}, indent=2))
        return
    if not ran:
        click.echo("Everything is up to date; nothing to run.")
    if not names:
        click.echo("ml.yaml declares no models.")
        return
    click.echo(metrics_table.render(table))


def selected_models(known: list[str], asked: tuple[str, ...]) -> list[str]:
    """The models to run: those asked for (checked), or all of them."""
    if not asked:
        return sorted(known)
    unknown = [m for m in asked if m not in known]
    if unknown:
        listing = ", ".join(sorted(known)) or "none"
        raise UserError(f"unknown model(s) {', '.join(unknown)}; models in ml.yaml: {listing}")
    return list(dict.fromkeys(asked))


def stage_targets(root: Path, names: list[str]) -> list[str]:
    """evaluate_M (and drift_M when dvc.yaml has it) of each model; dvc.yaml must be current."""
    import yaml

    from mlcode.layout import DVC_FILE
    from mlcode.spec.names import stage_name

    path = root / DVC_FILE
    if not path.is_file():
        raise UserError(
            f"{DVC_FILE} not found in {root}; run `mlcode apply` first to generate the pipeline"
        )
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"{DVC_FILE} is not valid YAML: {exc}") from None
    stages = doc.get("stages") if isinstance(doc, dict) else None
    stages = stages if isinstance(stages, dict) else {}
    targets: list[str] = []
    for model in names:
        evaluate = stage_name("evaluate", model)
        if evaluate not in stages:
            raise UserError(
                f"{DVC_FILE} has no stage {evaluate} for model {model!r}; it is out of date "
                "with ml.yaml: run `mlcode apply` first"
            )
        targets.append(evaluate)
        drift = stage_name("drift", model)
        if drift in stages:
            targets.append(drift)
    return targets


def _head_exists(root: Path) -> bool:
    from mlcode.adapters import git

    return bool(git.git(root, "rev-parse", "--verify", "-q", "HEAD^{commit}", check=False).strip())


def collect(
    root: Path, spec: Any, names: list[str]
) -> tuple[dict[str, str], dict[str, dict[str, float] | None], dict[str, Any] | None]:
    """Metrics files, their current values and DVC's diff against HEAD (None: no HEAD yet)."""
    from mlcode import metrics_table
    from mlcode.adapters import dvc
    from mlcode.layout import model_paths

    files = {m: model_paths(m, spec.models[m]).metrics for m in names}
    current: dict[str, dict[str, float] | None] = {}
    for model, rel in files.items():
        try:
            current[model] = metrics_table.flatten(
                json.loads((root / rel).read_text(encoding="utf-8"))
            )
        except (OSError, ValueError):
            current[model] = None
    diff: dict[str, Any] | None = None
    if names and _head_exists(root):
        try:
            diff = dvc.metrics_diff(root, "HEAD")
        except UserError:
            diff = None
    return files, current, diff


def _order(project: Any, names: list[str]) -> dict[str, tuple[str, ...]]:
    return {m: tuple(project.spec.models[m].resolved_metrics) for m in names}
