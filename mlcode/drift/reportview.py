"""What the HTML and Markdown drift reports show, read from a drift report's JSON (pure).

A report is data from a file, so every field is read defensively: a missing or ill-typed field
shows as a dash, it never raises. Columns are listed drifted first, each group in report order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mlcode.drift.svg import fmt


@dataclass(frozen=True)
class Summary:
    """The dataset-level verdict of a drift report."""

    model: str
    reference: str
    current: str
    drifted_columns: int
    columns: int
    drifted_share: float
    max_drifted_share: float | None
    dataset_drift: bool

    @property
    def headline(self) -> str:
        """ "Dataset drift detected" or "No dataset drift"."""
        return "Dataset drift detected" if self.dataset_drift else "No dataset drift"

    @property
    def detail(self) -> str:
        """E.g. "2 of 5 columns drifted (40%); the gate allows less than 50%"."""
        text = (
            f"{self.drifted_columns} of {self.columns} columns drifted "
            f"({self.drifted_share * 100:.0f}%)"
        )
        if self.max_drifted_share is not None:
            text += f"; the gate allows less than {self.max_drifted_share * 100:.0f}%"
        return text


@dataclass(frozen=True)
class Row:
    """One evaluated column of a drift report."""

    name: str
    kind: str
    method: str
    statistic: str
    threshold: str
    drifted: bool
    note: str
    entry: Mapping[str, object]


def summary(report: Mapping[str, object]) -> Summary:
    """The report's dataset verdict."""
    dataset = _mapping(report.get("dataset"))
    share = _number(dataset.get("drifted_share"))
    limit = dataset.get("max_drifted_share")
    return Summary(
        model=_str(report.get("model")),
        reference=_str(report.get("reference")),
        current=_str(report.get("current")),
        drifted_columns=int(_number(dataset.get("drifted_columns"))),
        columns=int(_number(dataset.get("columns"))),
        drifted_share=share,
        max_drifted_share=float(limit)
        if isinstance(limit, int | float) and not isinstance(limit, bool)
        else None,
        dataset_drift=dataset.get("dataset_drift") is True,
    )


def rows(report: Mapping[str, object]) -> list[Row]:
    """Every evaluated column, drifted ones first."""
    out = []
    for name, value in _mapping(report.get("columns")).items():
        entry = _mapping(value)
        out.append(
            Row(
                name=str(name),
                kind=_str(entry.get("kind")),
                method=_str(entry.get("method")),
                statistic=fmt(entry.get("statistic")),
                threshold=fmt(entry.get("threshold")),
                drifted=entry.get("drifted") is True,
                note=_str(entry.get("note")),
                entry=entry,
            )
        )
    return [r for r in out if r.drifted] + [r for r in out if not r.drifted]


def skipped(report: Mapping[str, object]) -> list[tuple[str, str]]:
    """(column, reason) of each column left out of the comparison."""
    return [
        (str(name), _str(_mapping(value).get("reason")))
        for name, value in _mapping(report.get("skipped")).items()
    ]


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _number(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return 0.0
