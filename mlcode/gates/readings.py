"""Metric values and the drift result from the text of their files (pure: the caller reads).

Every failure becomes a `Missing` naming the file and the field, so a rule fails closed with the
reason: a file that is absent, unreadable, not JSON, not an object; a metric that is absent, not
a number, NaN or infinite.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlcode.gates.rules import DriftReading, Missing, Reading


@dataclass(frozen=True)
class MetricsDoc:
    """A metrics file: its JSON object, or why there is none."""

    path: str
    data: Mapping[str, Any] | None
    problem: str | None = None

    def get(self, metric: str) -> Reading:
        """The metric's value, or Missing with the reason."""
        if self.data is None:
            return Missing(self.problem or f"{self.path} cannot be read")
        if metric not in self.data:
            known = ", ".join(sorted(self.data)) or "none"
            return Missing(f"{self.path} has no metric {metric!r} (it has: {known})")
        return number(self.data[metric], f"{self.path}: {metric}")


def parse_metrics(path: str, text: str | None, *, absent: str | None = None) -> MetricsDoc:
    """The metrics file `path` from its text (None: the file does not exist; `absent` says so)."""
    if text is None:
        return MetricsDoc(path, None, absent or f"{path} does not exist")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return MetricsDoc(path, None, f"{path} is not JSON ({exc.msg} at line {exc.lineno})")
    if not isinstance(data, dict):
        return MetricsDoc(path, None, f"{path} is not a JSON object of metrics")
    return MetricsDoc(path, data)


def unreadable(path: str, why: str) -> MetricsDoc:
    """A metrics file that exists but could not be read."""
    return MetricsDoc(path, None, f"{path} cannot be read: {why}")


def number(value: object, where: str) -> Reading:
    """`value` as a finite float, or Missing saying what it is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return Missing(f"{where} is not a number ({json.dumps(value)[:60]})")
    out = float(value)
    if math.isnan(out):
        return Missing(f"{where} is NaN")
    if math.isinf(out):
        return Missing(f"{where} is infinite")
    return out


def drift_reading(
    metrics_path: str,
    metrics_text: str | None,
    report_path: str,
    report_text: str | None,
) -> DriftReading | Missing:
    """The drift step's result: the summary from its metrics file, the drifted columns' names from
    its report (or, without a readable report, from the metrics file's per-column part)."""
    doc = parse_metrics(
        metrics_path, metrics_text, absent=f"no drift result: {metrics_path} does not exist"
    )
    if doc.data is None:
        return Missing(doc.problem or f"{metrics_path} cannot be read")
    values: dict[str, float] = {}
    for key in ("drifted_share", "drifted_columns", "columns"):
        got = doc.get(key)
        if isinstance(got, Missing):
            return got
        values[key] = got
    share = values["drifted_share"]
    if not 0 <= share <= 1:
        return Missing(f"{metrics_path}: drifted_share {share} is not between 0 and 1")
    names = _names_from_report(report_text)
    if names is None:
        names = _names_from_columns(doc.data.get("per_column"))
    return DriftReading(share, int(values["drifted_columns"]), int(values["columns"]), names)


def _names_from_report(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    return _names_from_columns(data.get("columns") if isinstance(data, dict) else None)


def _names_from_columns(columns: object) -> tuple[str, ...] | None:
    if not isinstance(columns, Mapping):
        return None
    out: list[str] = []
    for name, entry in columns.items():
        if isinstance(entry, Mapping) and entry.get("drifted") is True:
            out.append(str(name))
    return tuple(out)
