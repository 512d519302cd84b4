"""Are a model's metrics those of its current code, data and params? DVC says, as for `mlcode run`.

Gates read metrics files; a file DVC would regenerate describes an older model or older data, and a
gate must never pass on it. `stale_stages` asks `dvc status --with-deps` about the same stages
`mlcode run` reproduces (evaluate_M, and drift_M when the model has a drift gate), so anything
upstream of them (prepare, train, the data, params.yaml) counts too. `require_fresh` also refuses
when dvc.yaml or params.yaml no longer match ml.yaml (`mlcode apply` has not run since ml.yaml
changed), since DVC would then judge an outdated pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mlcode.errors import UserError
from mlcode.layout import DVC_FILE, PARAMS_FILE

ALWAYS_CHANGED = "always changed"  # what `dvc status --json` says of an `always_changed` stage


def stale_stages(root: Path, models: Sequence[str]) -> list[str]:
    """The DVC stages of `models` (and anything upstream of them) that are not up to date."""
    from mlcode.adapters import dvc
    from mlcode.project.run_report import stage_targets

    targets = stage_targets(root, list(models))
    if not targets:
        return []
    status = dvc.status(root, targets, with_deps=True)
    # An `always_changed` stage (an ingest command that fetches from outside) is never up to date
    # for DVC; it is stale only when something else changed too. Data it brought in since shows
    # as a changed dependency of the stages that read it.
    return sorted(
        name.split(":")[-1] for name, changes in status.items() if changes != [ALWAYS_CHANGED]
    )


def out_of_sync(root: Path) -> list[str]:
    """dvc.yaml / params.yaml when they differ from what ml.yaml compiles to (empty: in sync)."""
    from mlcode.compile import compile_project
    from mlcode.project.sync import in_sync_fast
    from mlcode.project.workspace import open_workspace, read_manifest, read_text

    if in_sync_fast(root, read_manifest(root)):
        return []
    ws = open_workspace(root)
    compiled = compile_project(ws.project.spec, ws.project.stack)
    return [
        path
        for path in (DVC_FILE, PARAMS_FILE)
        if path in compiled and compiled[path] != read_text(root / path)
    ]


def require_fresh(root: Path, models: Sequence[str]) -> None:
    """UserError (exit 3) unless the pipeline matches ml.yaml and every stage of `models` is up to
    date."""
    behind = out_of_sync(root)
    if behind:
        raise UserError(
            f"{' and '.join(behind)} {'does' if len(behind) == 1 else 'do'} not match ml.yaml: "
            "the gates would judge metrics of an outdated pipeline",
            hint="Run `mlcode apply`, then `mlcode run`, then `mlcode gates` again.",
        )
    stale = stale_stages(root, models)
    if stale:
        raise UserError(
            f"stages not up to date with their code, data or params: {', '.join(stale)}; the "
            "metrics on disk are not those of the current model, so no gate is evaluated",
            hint="Run `mlcode run` to reproduce them, then `mlcode gates` again.",
        )
