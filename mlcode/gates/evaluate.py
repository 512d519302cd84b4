"""`mlcode gates`' work: every gate of ml.yaml for each model, as a `GatesReport`.

The I/O edge of the gates: loads ml.yaml, refuses stale stages (`freshness`), reads the models'
metrics files and drift results, finds each champion (`champion`) and its values
(`champion_values`); the verdicts themselves are pure (`rules`, `readings`). Refusals that mean
"cannot evaluate at all" raise UserError (exit 3): invalid ml.yaml, an unknown model, stale
stages, a promotion base branch that does not exist, a `--champion` that names nothing. Everything
else that cannot be read is a failing row with the reason (fail closed).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlcode.gates import rules
from mlcode.gates.champion_values import ChampionValues, champion_values, metrics_path
from mlcode.gates.readings import MetricsDoc, drift_reading, parse_metrics, unreadable
from mlcode.gates.report import ChampionInfo, GateRow, GatesReport, ModelGates, model_gates
from mlcode.layout import model_paths

if TYPE_CHECKING:
    from mlcode.spec.model import MlSpec, Model

__all__ = [
    "ChampionInfo",
    "GateRow",
    "GatesReport",
    "ModelGates",
    "evaluate_gates",
]


def evaluate_gates(
    root: Path, models: Sequence[str] | None = None, champion_ref: str | None = None
) -> GatesReport:
    """Evaluate every gate of `models` (all models of ml.yaml when None or empty).

    `champion_ref` overrides the champion of every model (`--champion REF`). Raises UserError when
    the gates cannot be evaluated (see the module docstring).
    """
    from mlcode.gates.freshness import require_fresh
    from mlcode.project.run_report import selected_models
    from mlcode.spec.load import load_project

    spec = load_project(root).spec
    names = selected_models(list(spec.models), tuple(models or ()))
    if names:
        require_fresh(root, names)
    return GatesReport.of(tuple(_model(root, spec, name, champion_ref) for name in names))


def _model(root: Path, spec: MlSpec, name: str, champion_ref: str | None) -> ModelGates:
    model = spec.models[name]
    gates = model.gates
    strict = gates.fail_on_missing
    current = _read_metrics(root, metrics_path(spec, name))
    champion, values = _champion(root, spec, name, model, champion_ref)
    rows: list[GateRow] = []
    for gate in gates.metrics:
        reading = current.get(gate.metric)
        if gate.min is not None:
            rows.append(
                rules.threshold_row(
                    name, gate.metric, "min", gate.min, reading, fail_on_missing=strict
                )
            )
        if gate.max is not None:
            rows.append(
                rules.threshold_row(
                    name, gate.metric, "max", gate.max, reading, fail_on_missing=strict
                )
            )
        if gate.vs_champion is not None:
            vs = gate.vs_champion
            # No values: no champion yet (or no rule asked for one).
            got = values.get(vs.confidence) if values is not None else None
            rows.append(
                rules.champion_row(
                    name,
                    gate.metric,
                    rules.ChampionRule(vs.min_improvement, vs.max_regression, vs.relative),
                    reading,
                    None if got is None else got.get(gate.metric),
                    require_champion=model.promotion.require_champion,
                    fail_on_missing=strict,
                    interval=None if got is None else got.intervals.get(gate.metric),
                )
            )
    if gates.drift is not None:
        rows.append(
            rules.drift_row(
                name, gates.drift.max_drifted_share, _read_drift(root, name), fail_on_missing=strict
            )
        )
    return model_gates(name, tuple(rows), champion)


def _champion(
    root: Path, spec: MlSpec, name: str, model: Model, champion_ref: str | None
) -> tuple[ChampionInfo | None, dict[float | None, ChampionValues] | None]:
    """The champion (None when no rule compares with one) and its values per confidence asked."""
    from mlcode.gates.champion import resolve

    asked = [g for g in model.gates.metrics if g.vs_champion is not None]
    if not asked:
        return None, None
    info = resolve(
        root,
        name,
        stage=model.promotion.stage,
        base=model.promotion.base,
        metrics_path=metrics_path(spec, name),
        override=champion_ref,
    )
    if not info.found:
        return info, None
    by_confidence: dict[float | None, list[str]] = {}
    for gate in asked:
        assert gate.vs_champion is not None
        metrics = by_confidence.setdefault(gate.vs_champion.confidence, [])
        if gate.metric not in metrics:
            metrics.append(gate.metric)
    values = {
        conf: champion_values(root, name, info, metrics, conf, spec=spec)
        for conf, metrics in by_confidence.items()
    }
    rescored = any(v.rescored for v in values.values())
    notes = [v.note for v in values.values() if v.note]
    if rescored or notes:
        note = "; ".join(n for n in dict.fromkeys([info.note, *notes]) if n)
        info = dataclasses.replace(info, rescored=rescored, note=note)
    return info, values


def _read_text(root: Path, rel: str) -> tuple[str | None, str | None]:
    """(text, None), (None, None) when absent, or (None, why) when unreadable."""
    try:
        return (root / rel).read_text(encoding="utf-8"), None
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError) as exc:
        return None, str(exc)


def _read_metrics(root: Path, rel: str) -> MetricsDoc:
    text, why = _read_text(root, rel)
    if why is not None:
        return unreadable(rel, why)
    return parse_metrics(rel, text, absent=f"{rel} does not exist; run `mlcode run`")


def _read_drift(root: Path, name: str) -> rules.DriftReading | rules.Missing:
    paths = model_paths(name)
    metrics, why = _read_text(root, paths.drift_metrics)
    if why is not None:
        return rules.Missing(f"{paths.drift_metrics} cannot be read: {why}")
    report, _ = _read_text(root, paths.drift_report)
    return drift_reading(paths.drift_metrics, metrics, paths.drift_report, report)
