"""What `mlcode run` reports for each model, as a value, as JSON and as text.

Pure: the caller (`mlcode.project.run_report`) reads the files and asks DVC for
`dvc metrics diff REV --json` and `dvc params diff REV --json`; this module parses the texts,
merges them and renders.

The rules that keep the report honest:
- a missing metrics file is "no metrics yet"; a file that exists but cannot be read (not JSON, not an
  object, no numeric metric) is "unreadable: <reason>", and so is one metric that is NaN, infinite,
  not a number, or declared but absent;
- DVC leaves unchanged metrics out of its diff, so a metric that is not in the diff is unchanged;
  `old: null` means "not in the revision" only when DVC could read the revision: when DVC says it
  could not, the change is "unknown" (DVC's reason in the warnings), never "new";
- params changes are grouped by model (params.yaml has one top-level key per model);
- the drift verdict comes from the drift step's metrics file (`metrics/M-drift.json`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Literal

FileState = Literal["ok", "missing", "unreadable"]


@dataclass(frozen=True)
class MetricChange:
    """One metric of one model: its value now, at the revision, the difference, or why unknown."""

    value: float | None
    old: float | None
    diff: float | None
    error: str | None = None

    def to_json(self) -> dict[str, float | str | None]:
        """`{"value", "old", "diff", "error"}` for `--json`."""
        return {"value": self.value, "old": self.old, "diff": self.diff, "error": self.error}


Table = dict[str, dict[str, MetricChange]]


@dataclass(frozen=True)
class MetricsFile:
    """A model's metrics file as read: its numeric values, and what could not be read."""

    path: str
    state: FileState
    values: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # metric → "unreadable: why" / "missing"
    reason: str | None = None  # why the whole file is unreadable

    def to_json(self) -> dict[str, str | None]:
        """`{"path", "state", "reason"}` for `--json`."""
        return {"path": self.path, "state": self.state, "reason": self.reason}


@dataclass(frozen=True)
class ParamChange:
    """One parameter of a model that differs from the revision (None: absent on that side)."""

    name: str
    old: Any
    new: Any


@dataclass(frozen=True)
class ParamsDiff:
    """A model's changed params, and why the comparison is incomplete (None: it is complete)."""

    changed: tuple[ParamChange, ...] = ()
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """`{"changed": {name: {"old", "new"}}, "error"}` for `--json`."""
        return {
            "changed": {p.name: {"old": p.old, "new": p.new} for p in self.changed},
            "error": self.error,
        }


@dataclass(frozen=True)
class DriftVerdict:
    """The drift step's verdict for a model, from its drift metrics file."""

    state: Literal["ok", "not run", "unreadable"]
    drifted_columns: int | None = None
    columns: int | None = None
    drifted_share: float | None = None
    dataset_drift: bool | None = None
    reason: str | None = None

    def text(self) -> str:
        """`none (0/4 columns drifted)`, `2/10 columns drifted (share 0.20)`, `not run`, ..."""
        if self.state == "not run":
            return "not run"
        if self.state == "unreadable":
            return f"unreadable: {self.reason}"
        if not self.drifted_columns:
            return f"none (0/{self.columns} columns drifted)"
        text = f"{self.drifted_columns}/{self.columns} columns drifted (share {self.drifted_share:.2f})"
        return text + (", dataset drift" if self.dataset_drift else "")

    def to_json(self) -> dict[str, Any]:
        """Every field plus the rendered `text`."""
        return {
            "state": self.state,
            "drifted_columns": self.drifted_columns,
            "columns": self.columns,
            "drifted_share": self.drifted_share,
            "dataset_drift": self.dataset_drift,
            "reason": self.reason,
            "text": self.text(),
        }


@dataclass(frozen=True)
class Report:
    """Everything `mlcode run` shows: per model its metrics, file state, params and drift."""

    baseline: str | None  # the revision compared with; None when there is none (no commit yet)
    table: Table
    files: dict[str, MetricsFile]
    params: dict[str, ParamsDiff]
    drift: dict[str, DriftVerdict | None]  # None: the model has no drift gate
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The report as plain data (`models` keeps the shape of the metrics table)."""
        return {
            "baseline": self.baseline,
            "models": to_json(self.table),
            "metrics_files": {m: f.to_json() for m, f in self.files.items()},
            "params": {m: p.to_json() for m, p in self.params.items()},
            "drift": {m: None if d is None else d.to_json() for m, d in self.drift.items()},
            "warnings": list(self.warnings),
        }


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return type(value).__name__


def parse_metrics(path: str, text: str | None, expected: tuple[str, ...] = ()) -> MetricsFile:
    """Read a metrics file's text (None: the file does not exist) like DVC: nested keys joined
    with '.', booleans as 1/0, other non-numeric leaves ignored unless `expected` names them."""
    if text is None:
        return MetricsFile(path, "missing")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        reason = f"{path} is not JSON (line {exc.lineno} column {exc.colno}: {exc.msg})"
        return MetricsFile(path, "unreadable", reason=reason)
    if not isinstance(data, dict):
        return MetricsFile(path, "unreadable", reason=f"{path} is {_kind(data)}, not a JSON object")
    values: dict[str, float] = {}
    errors: dict[str, str] = {}

    def walk(node: dict[Any, Any], prefix: str) -> None:
        for key, value in node.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                walk(value, f"{name}.")
            elif isinstance(value, bool):
                values[name] = float(value)
            elif isinstance(value, int | float):
                if math.isfinite(value):
                    values[name] = float(value)
                else:
                    errors[name] = f"unreadable: {value} is not a finite number"
            elif name in expected:
                errors[name] = (
                    f"unreadable: {_kind(value)} ({json.dumps(value)[:40]}), not a number"
                )

    walk(data, "")
    for name in expected:
        if name not in values and name not in errors:
            errors[name] = f"missing from {path}"
    if not values and not errors:
        return MetricsFile(path, "unreadable", reason=f"{path} holds no numeric metric")
    return MetricsFile(path, "ok", values, errors)


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def parse_drift(path: str, text: str | None) -> DriftVerdict:
    """The drift verdict in a drift metrics file's text (None: the drift step has not run)."""
    if text is None:
        return DriftVerdict("not run")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return DriftVerdict("unreadable", reason=f"{path} is not JSON ({exc.msg})")
    if not isinstance(data, dict):
        return DriftVerdict("unreadable", reason=f"{path} is {_kind(data)}, not a JSON object")
    drifted, columns = _whole(data.get("drifted_columns")), _whole(data.get("columns"))
    share, flag = _number(data.get("drifted_share")), data.get("dataset_drift")
    problem = None
    if drifted is None or columns is None:
        problem = "drifted_columns and columns must be whole numbers"
    elif drifted > columns:
        problem = f"drifted_columns ({drifted}) is more than columns ({columns})"
    elif share is None or not 0 <= share <= 1:
        got = json.dumps(data.get("drifted_share"))
        problem = f"drifted_share must be a number from 0 to 1, got {got}"
    elif not isinstance(flag, bool):
        problem = f"dataset_drift must be true or false, got {json.dumps(flag)}"
    if problem or drifted is None or share is None or not isinstance(flag, bool):
        return DriftVerdict("unreadable", reason=f"{path}: {problem}")
    return DriftVerdict("ok", drifted, columns, share, flag)


def params_by_model(
    data: dict[str, Any] | None, models: list[str], unreadable: Collection[str], rev: str
) -> dict[str, ParamsDiff]:
    """Split `dvc params diff REV --json` by model (keys `M.section...`).

    `unreadable`: revisions DVC could not read ('workspace' or REV). DVC shows that side as null,
    so those entries are dropped and the model's params are marked "unknown".
    """
    rev_failed, ws_failed = rev in unreadable, "workspace" in unreadable
    sides = [side for side, failed in ((rev, rev_failed), ("the workspace", ws_failed)) if failed]
    error = f"unknown: DVC could not read {' and '.join(sides)}" if sides else None
    changed: dict[str, list[ParamChange]] = {m: [] for m in models}
    for entries in (data or {}).values():
        if not isinstance(entries, dict):
            continue
        for key, change in sorted(entries.items()):
            model, _, name = str(key).partition(".")
            if model not in changed or not name or not isinstance(change, dict):
                continue
            old, new = change.get("old"), change.get("new")
            if (old is None and rev_failed) or (new is None and ws_failed):
                continue
            changed[model].append(ParamChange(name, old, new))
    return {m: ParamsDiff(tuple(c), error) for m, c in changed.items()}


def _norm(path: str) -> str:
    return str(PurePosixPath(path.replace("\\", "/")))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _row(value: float, change: Any, unreadable: bool, rev: str) -> MetricChange:
    """One readable metric against its diff entry (None: DVC listed no change for it).

    `unreadable`: DVC could not read `rev`, so a missing old value means "unknown", not "new".
    """
    if change is None:
        return MetricChange(value, value, 0.0)
    unknown = MetricChange(value, None, None, f"unknown: DVC could not read {rev}")
    if not isinstance(change, dict):
        return unknown
    raw = change.get("old")
    old = _number(raw)
    if old is None:
        if unreadable:
            return unknown
        if raw is not None:
            return MetricChange(value, None, None, f"unknown: {rev} has {json.dumps(raw)[:40]}")
        return MetricChange(value, None, None)
    delta = _number(change.get("diff"))
    return MetricChange(value, old, value - old if delta is None else delta)


def build(
    files: dict[str, str],
    current: Mapping[str, MetricsFile],
    diff: dict[str, Any] | None,
    *,
    order: dict[str, tuple[str, ...]] | None = None,
    baseline_unreadable: bool = False,
    absent_at_rev: frozenset[str] = frozenset(),
    rev: str = "HEAD",
) -> Table:
    """Merge workspace values and a DVC metrics diff.

    `files`: model → its metrics file; `current`: model → the file as read (`parse_metrics`);
    `diff`: DVC's diff output, or None when there is nothing to compare with (no commit yet);
    `order`: model → metric names to list first;
    `baseline_unreadable`: DVC said it could not read `rev` (its reason goes in the warnings);
    `absent_at_rev`: metrics files `rev` does not hold, whose values are new whatever DVC said.
    """
    by_file = {_norm(k): v for k, v in (diff or {}).items() if isinstance(v, dict)}
    absent = {_norm(p) for p in absent_at_rev}
    table: Table = {}
    for model, file in files.items():
        read = current.get(model) or MetricsFile(file, "missing")
        if read.state != "ok":
            table[model] = {}
            continue
        first = [m for m in (order or {}).get(model, ()) if m in read.values or m in read.errors]
        rest = sorted(m for m in {*read.values, *read.errors} if m not in first)
        changes = by_file.get(_norm(file))
        rows: dict[str, MetricChange] = {}
        for name in first + rest:
            if name in read.errors:
                rows[name] = MetricChange(None, None, None, read.errors[name])
            elif diff is None:
                rows[name] = MetricChange(read.values[name], None, None)
            else:
                # Absent from the diff: DVC found it equal on both sides (a side it could not
                # read is listed as null).
                entry = (changes or {}).get(name)
                unreadable = baseline_unreadable and _norm(file) not in absent
                rows[name] = _row(read.values[name], entry, unreadable, rev)
        table[model] = rows
    return table


def to_json(table: Table) -> dict[str, dict[str, dict[str, float | str | None]]]:
    """The table as plain dicts."""
    return {m: {k: v.to_json() for k, v in rows.items()} for m, rows in table.items()}


def fmt(value: float) -> str:
    """A metric value with 4 decimals, or 4 significant digits when very large or small."""
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.4g}"
    return f"{value:.4f}"


def _change(row: MetricChange, rev: str) -> str:
    if row.error is not None:
        return row.error
    if row.old is None:
        return f"new (not in {rev})"
    if row.diff is None or row.diff == 0:
        return "no change"
    sign = "+" if row.diff > 0 else "-"
    return f"{sign}{fmt(abs(row.diff))}"


def render(table: Table, rev: str = "HEAD", files: dict[str, MetricsFile] | None = None) -> str:
    """An aligned text table: model, metric, value, change against `rev`."""
    header = ("Model", "Metric", "Value", f"Change vs {rev}")
    lines: list[tuple[str, str, str, str]] = []
    for model, rows in table.items():
        read = (files or {}).get(model)
        if read is not None and read.state == "unreadable":
            lines.append((model, "-", "-", f"unreadable: {read.reason}"))
            continue
        if not rows:
            lines.append((model, "-", "-", "no metrics yet"))
            continue
        for name, row in rows.items():
            value = "-" if row.value is None else fmt(row.value)
            lines.append((model, name, value, _change(row, rev)))
    if not lines:
        return "No models."
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(3)]
    out = []
    for cells in [header, *lines]:
        out.append(
            f"{cells[0]:<{widths[0]}}  {cells[1]:<{widths[1]}}  {cells[2]:>{widths[2]}}  "
            f"{cells[3]}".rstrip()
        )
    return "\n".join(out)


def _param(value: Any) -> str:
    return "(absent)" if value is None else str(value)


def render_report(report: Report) -> str:
    """The metrics table, then per model its changed params and drift verdict, then warnings."""
    rev = report.baseline or "HEAD"
    parts = [render(report.table, rev, report.files)]
    notes: list[tuple[str, str]] = []
    for model in report.table:
        params = report.params.get(model)
        if params is not None:
            if params.changed:
                listed = ", ".join(
                    f"{p.name} {_param(p.old)} -> {_param(p.new)}" for p in params.changed
                )
                notes.append((model, f"params changed vs {rev}: {listed}"))
            if params.error:
                notes.append((model, f"params vs {rev}: {params.error}"))
        drift = report.drift.get(model)
        if drift is not None:
            notes.append((model, f"drift: {drift.text()}"))
    if notes:
        width = max(len(m) for m, _ in notes)
        parts.append("\n".join(f"{m:<{width}}  {text}" for m, text in notes))
    if report.warnings:
        parts.append("\n".join(f"DVC: {w}" for w in report.warnings))
    return "\n\n".join(parts)
