"""The built-in drift step: `mlcode step drift M` (DVC stage `drift_M`).

Reads only `M.drift` of params.yaml (reference and current files, the declared feature columns, the
method, thresholds, per-column settings and `max_drifted_share`), compares the two datasets column
by column (`mlcode.drift.files`: memory bounded by about one column of both datasets at a time) and
writes, each atomically:

- `metrics/M-drift.json` (DVC metrics, the summary only, so that `dvc metrics show` stays a
  readable table with several models): drifted_share, drifted_columns, columns, dataset_drift;
- `build/M/drift-report.json`: the full report with each column's method, statistic, threshold,
  verdict, kind and distinct values, its plot data (`mlcode.drift.plotdata`: histogram counts or
  category frequencies), the skipped columns and the dataset gate;
- `build/M/drift-report.html`: the same report as one self-contained page with a chart per column
  (`mlcode.drift.report_html`).

The step succeeds when drift is found: the gate's verdict is data (`dataset_drift`, `gate_passed`)
that `mlcode run` reports; it fails only when the comparison cannot be made.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from mlcode.adapters.fs import atomic_write
from mlcode.errors import UserError
from mlcode.layout import PARAMS_FILE, model_paths
from mlcode.spec.names import stage_name

if TYPE_CHECKING:
    from mlcode.drift.detect import DriftResult
    from mlcode.drift.files import DataFile, Progress
    from mlcode.drift.plotdata import PlotData

STEP = "drift"
_METHODS = ("auto", "psi", "ks", "chi2", "wasserstein", "jensenshannon")


@dataclass(frozen=True)
class _Side:
    path: str
    format: str | None


@dataclass(frozen=True)
class DriftParams:
    """`M.drift` of params.yaml, checked (the settings types live in mlcode.drift.detect)."""

    reference: _Side
    current: _Side
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    method: str
    threshold: float | None
    columns: Mapping[str, Mapping[str, Any]]
    max_drifted_share: float


def run(root: Path, model: str) -> None:
    """Compare the reference and current datasets of `model`; write its drift metrics and report."""
    from mlcode.drift.report_html import render_html

    params = _load(root, model)
    result, plots = compare(root, model, params)
    full = report(model, params, result, plots)
    paths = model_paths(model)
    atomic_write(root / paths.drift_report, json.dumps(full, indent=2) + "\n")
    atomic_write(root / paths.drift_html, render_html(full))
    atomic_write(root / paths.drift_metrics, json.dumps(result.metrics(), indent=2) + "\n")


def compare(
    root: Path, model: str, params: DriftParams, progress: Progress | None = None
) -> tuple[DriftResult, dict[str, PlotData]]:
    """The drift result of `model`'s datasets under its settings (`mlcode drift MODEL` too)."""
    from mlcode.drift.files import DataFile

    reference = DataFile.at(root, params.reference.path, params.reference.format)
    current = DataFile.at(root, params.current.path, params.current.format)
    try:
        return measure(reference, current, params, progress)
    except UserError as exc:
        raise _error(model, exc.message, hint=exc.hint) from None


def measure(
    reference: DataFile, current: DataFile, params: DriftParams, progress: Progress | None = None
) -> tuple[DriftResult, dict[str, PlotData]]:
    """The drift of `current` against `reference` under `params`' columns and settings (its paths
    are not read): the one computation behind the drift step, `mlcode drift MODEL` and `mlcode
    retrain` (which compares the training data with the champion's). A comparison that cannot be
    made is a UserError naming the file and the column."""
    from mlcode.drift.detect import ColumnSettings, Requested
    from mlcode.drift.files import compare_files

    dataset = ColumnSettings(method=cast(Requested, params.method), threshold=params.threshold)
    per_column = {
        name: ColumnSettings(
            method=cast(Requested, spec.get("method") or "auto"),
            threshold=spec.get("threshold"),
            ignore=bool(spec.get("ignore", False)),
        )
        for name, spec in params.columns.items()
    }
    plots: dict[str, PlotData] = {}
    result = compare_files(
        reference,
        current,
        params.numeric,
        params.categorical,
        dataset,
        per_column,
        params.max_drifted_share,
        plots,
        progress=progress,
    )
    return result, plots


def report(
    model: str, params: DriftParams, result: DriftResult, plots: Mapping[str, PlotData]
) -> dict[str, Any]:
    """The full report written to build/M/drift-report.json, each column with its plot data."""
    from mlcode.drift.plotdata import attach

    return attach(
        {
            "model": model,
            "reference": params.reference.path,
            "current": params.current.path,
            "method": params.method,
            **result.report(),
        },
        plots,
    )


def params_of(model: str, drift: object) -> DriftParams:
    """`model`'s drift settings from its `drift` section of params.yaml (or of the compiled spec)."""
    if not isinstance(drift, dict):
        raise _error(
            model,
            f"{PARAMS_FILE} has no {model}.drift section: the model has no drift gate",
            hint="Add `gates.drift` to the model in ml.yaml, then run `mlcode apply`.",
        )
    try:
        return _parse(drift)
    except ValueError as exc:
        raise _error(
            model,
            f"{PARAMS_FILE}: {model}.drift.{exc}",
            hint="Run `mlcode apply` to regenerate params.yaml from ml.yaml.",
        ) from None


def _error(model: str, message: str, *, hint: str | None = None) -> UserError:
    return UserError(f"model {model!r}, stage {stage_name(STEP, model)}: {message}", hint=hint)


def _load(root: Path, model: str) -> DriftParams:
    """Read and check `model`'s `drift` section of params.yaml."""
    from mlcode.steps.common import read_section

    return params_of(model, read_section(root, model, STEP).get("drift"))


def _parse(drift: Mapping[str, Any]) -> DriftParams:
    ref = _mapping(drift, "reference")
    cur = _mapping(drift, "current")
    columns = drift.get("columns") or {}
    if not isinstance(columns, dict):
        raise ValueError("columns: expected a mapping of column name to settings")
    for name, spec in columns.items():
        if not isinstance(spec, dict):
            raise ValueError(f"columns.{name}: expected a mapping (method, threshold, ignore)")
        if spec.get("method") is not None:
            _method(spec["method"], f"columns.{name}.method")
        _threshold(spec.get("threshold"), f"columns.{name}.threshold")
        if not isinstance(spec.get("ignore", False), bool):
            raise ValueError(f"columns.{name}.ignore: expected true or false")
    share = drift.get("max_drifted_share", 0.5)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
        raise ValueError(f"max_drifted_share: expected a number from 0 to 1, got {share!r}")
    return DriftParams(
        reference=_side(ref, "reference"),
        current=_side(cur, "current"),
        numeric=_names(ref, "numeric"),
        categorical=_names(ref, "categorical"),
        method=_method(drift.get("method", "auto"), "method"),
        threshold=_threshold(drift.get("threshold"), "threshold"),
        columns={str(k): v for k, v in columns.items()},
        max_drifted_share=float(share),
    )


def _mapping(doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = doc.get(key)
    if not isinstance(value, dict):
        raise ValueError(f"{key}: expected a mapping with `path`")
    return value


def _side(doc: Mapping[str, Any], key: str) -> _Side:
    path = doc.get("path")
    if not isinstance(path, str) or not path:
        raise ValueError(f"{key}.path: expected a file path")
    fmt = doc.get("format")
    if fmt not in (None, "csv", "parquet"):
        raise ValueError(f"{key}.format: expected csv or parquet, got {fmt!r}")
    return _Side(path, fmt)


def _names(doc: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = doc.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"reference.{key}: expected a list of column names")
    return tuple(value)


def _method(value: object, where: str) -> str:
    if value not in _METHODS:
        raise ValueError(f"{where}: expected one of {', '.join(_METHODS)}, got {value!r}")
    return str(value)


def _threshold(value: object, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"{where}: expected a positive number or null, got {value!r}")
    return float(value)


if __name__ == "__main__":  # pragma: no cover - `python -m mlcode.steps.drift MODEL`
    from mlcode.steps import main_for

    main_for(STEP)
