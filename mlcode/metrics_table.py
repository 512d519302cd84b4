"""Each model's metrics with their change against a git revision, as a value and as text.

Pure: the caller reads the metrics files and asks DVC for `dvc metrics diff REV --json`; this module
merges them. DVC leaves unchanged metrics out of its diff, so a metric that is in the workspace but
not in the diff is unchanged (when the revision exists) — a file that is not in the revision shows
every metric with `old: null`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any


@dataclass(frozen=True)
class MetricChange:
    """One metric of one model: its value now, at the revision, and the difference."""

    value: float | None
    old: float | None
    diff: float | None

    def to_json(self) -> dict[str, float | None]:
        """`{"value", "old", "diff"}` for `--json`."""
        return {"value": self.value, "old": self.old, "diff": self.diff}


Table = dict[str, dict[str, MetricChange]]


def flatten(data: Any, prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a metrics document, nested keys joined with '.' (as DVC names them)."""
    out: dict[str, float] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
    elif isinstance(data, int | float) and prefix:  # bool is an int: True → 1.0
        out[prefix[:-1]] = float(data)
    return out


def _norm(path: str) -> str:
    return str(PurePosixPath(path.replace("\\", "/")))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def build(
    files: dict[str, str],
    current: dict[str, dict[str, float] | None],
    diff: dict[str, Any] | None,
    *,
    order: dict[str, tuple[str, ...]] | None = None,
) -> Table:
    """Merge workspace values and a DVC metrics diff.

    `files`: model → its metrics file; `current`: model → its flattened metrics (None when the
    file does not exist yet); `diff`: DVC's diff output, or None when there is nothing to compare
    with (no commit yet, or the diff failed); `order`: model → metric names to list first.
    """
    by_file = {_norm(k): v for k, v in (diff or {}).items() if isinstance(v, dict)}
    table: Table = {}
    for model, file in files.items():
        values = current.get(model)
        if values is None:
            table[model] = {}
            continue
        first = [m for m in (order or {}).get(model, ()) if m in values]
        names = first + sorted(m for m in values if m not in first)
        changes = by_file.get(_norm(file), {})
        rows: dict[str, MetricChange] = {}
        for name in names:
            value = values[name]
            if diff is None:
                rows[name] = MetricChange(value, None, None)
            elif name in changes and isinstance(changes[name], dict):
                old = _number(changes[name].get("old"))
                delta = _number(changes[name].get("diff"))
                if delta is None and old is not None:
                    delta = value - old
                rows[name] = MetricChange(value, old, delta)
            else:
                rows[name] = MetricChange(value, value, 0.0)
        table[model] = rows
    return table


def to_json(table: Table) -> dict[str, dict[str, dict[str, float | None]]]:
    """The table as plain dicts."""
    return {m: {k: v.to_json() for k, v in rows.items()} for m, rows in table.items()}


def fmt(value: float) -> str:
    """A metric value with 4 decimals, or 4 significant digits when very large or small."""
    if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
        return f"{value:.4g}"
    return f"{value:.4f}"


def _change(row: MetricChange, rev: str) -> str:
    if row.old is None:
        return f"new (not in {rev})"
    if row.diff is None or row.diff == 0:
        return "no change"
    sign = "+" if row.diff > 0 else "-"
    return f"{sign}{fmt(abs(row.diff))}"


def render(table: Table, rev: str = "HEAD") -> str:
    """An aligned text table: model, metric, value, change against `rev`."""
    header = ("Model", "Metric", "Value", f"Change vs {rev}")
    lines: list[tuple[str, str, str, str]] = []
    for model, rows in table.items():
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
