"""Which test each column gets, its verdict, and the dataset-level result (pure, no I/O).

Column kinds come from the declaration (`numeric` or `categorical`); booleans count as numeric 0/1.
Missing values (NaN, null, and infinities, as Evidently does) are dropped on each side before
anything is counted, so "rows" below means non-missing values.

Method `auto` follows Evidently 0.7's defaults (its `_get_default_stattest`):

| reference rows | numeric, > 5 distinct values | categorical, or numeric with <= 5 distinct  |
| -------------- | ---------------------------- | ------------------------------------------- |
| <= 1000        | ks (drift if p <= 0.05)      | chi2 (p < 0.05); z-test (p < 0.05) if <= 2  |
| > 1000         | wasserstein (drift if >= 0.1)| jensenshannon (drift if >= 0.1)             |

Distinct values are counted over reference and current together. An explicit method (`ks`, `chi2`,
`wasserstein`, `jensenshannon`, `psi`) applies to every column it is set for; `ks` and
`wasserstein` need numeric columns. Frequency tests (chi2, z, jensenshannon, psi) on a numeric column
count each distinct value, or sturges bins when the reference has more than 20 distinct values
(Evidently's binning for jensenshannon and psi; Evidently refuses an explicit chi2 on numeric
columns, mlcode bins them the same way). A threshold replaces the default of whatever test runs (with
`auto` too, as Evidently's `stattest_threshold` does); p-value tests keep Evidently's comparison
(ks `<=`, chi2 and z `<`), distances drift when `>=` the threshold.

Per-column settings: a column's `method: auto` (or no method) inherits the dataset's method; a
column's threshold, when unset, inherits the dataset's threshold only when the column runs the
dataset's method (a threshold belongs to one test).

Missing sides: a column with no value on one side only is drifted (method `all_missing`, statistic
1.0 = the share of that side's rows that are missing, threshold 1.0) with a note: a feature that lost
or gained all its values changed. A column with no value on either side is skipped with a note, like
an ignored column, and does not count in the share.

Dataset: drifted_share = drifted columns / evaluated columns. The mlcode gate passes when
drifted_share < max_drifted_share and fails when drifted_share >= max_drifted_share (so
`dataset_drift` is true exactly when the gate fails). Evidently's own dataset rule is the same
comparison with a fixed 0.5; the report keeps it as `evidently_dataset_drift` for comparison.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np

from mlcode.drift import sketch, stattests
from mlcode.drift.sketch import ColumnSummary
from mlcode.drift.stattests import CountArray, FloatArray
from mlcode.errors import UserError

Kind = Literal["numeric", "categorical"]
Requested = Literal["auto", "psi", "ks", "chi2", "wasserstein", "jensenshannon"]

REQUESTED_METHODS: tuple[str, ...] = ("auto", "psi", "ks", "chi2", "wasserstein", "jensenshannon")
ALL_MISSING = "all_missing"
DEFAULT_THRESHOLD: dict[str, float] = {
    "ks": 0.05,
    "chi2": 0.05,
    "z": 0.05,
    "wasserstein": 0.1,
    "jensenshannon": 0.1,
    "psi": 0.1,
    ALL_MISSING: 1.0,
}
P_VALUE_METHODS = frozenset({"ks", "chi2", "z"})
NUMERIC_ONLY = frozenset({"ks", "wasserstein"})
LARGE_REFERENCE = 1000  # reference rows above which distances replace p-value tests
FEW_UNIQUE = 5  # numeric columns with at most this many distinct values are tested as categories
BINARY = 2  # at most this many distinct values: z-test instead of chi-squared
EVIDENTLY_DATASET_SHARE = 0.5


@dataclass(frozen=True, eq=False)
class NumericSample:
    """One numeric column on both sides, missing values dropped, each side sorted ascending.

    Build one with `of` (any values) or from arrays already sorted (the file reader sorts in place).
    """

    reference: FloatArray
    current: FloatArray

    @property
    def kind(self) -> Kind:
        """Always "numeric"."""
        return "numeric"

    @property
    def n_reference(self) -> int:
        """Reference values."""
        return int(self.reference.size)

    @property
    def n_current(self) -> int:
        """Current values."""
        return int(self.current.size)

    @cached_property
    def walk(self) -> tuple[int, float]:
        """Distinct values over both sides, and the area between their CDFs (one merge walk)."""
        if not self.reference.size or not self.current.size:
            return stattests.distinct_count(self.reference) + stattests.distinct_count(
                self.current
            ), 0.0
        return stattests.walk_merged(self.reference, self.current)

    @property
    def n_unique(self) -> int:
        """Distinct values over both sides together."""
        return self.walk[0]

    @classmethod
    def of(
        cls, reference: Sequence[float] | FloatArray, current: Sequence[float] | FloatArray
    ) -> NumericSample:
        """A sample from any float-like values; NaN and infinities are dropped."""
        return cls(np.sort(_finite(reference)), np.sort(_finite(current)))


@dataclass(frozen=True, eq=False)
class CategoricalSample:
    """One categorical column on both sides as counts over the sorted union of its values."""

    keys: tuple[str, ...]
    reference: CountArray
    current: CountArray

    @property
    def kind(self) -> Kind:
        """Always "categorical"."""
        return "categorical"

    @property
    def n_reference(self) -> int:
        """Reference values."""
        return int(self.reference.sum())

    @property
    def n_current(self) -> int:
        """Current values."""
        return int(self.current.sum())

    @property
    def n_unique(self) -> int:
        """Distinct values over both sides together."""
        return len(self.keys)

    @classmethod
    def from_counts(
        cls, reference: Mapping[str, int], current: Mapping[str, int]
    ) -> CategoricalSample:
        """A sample from each side's value counts (values with a zero count are allowed)."""
        keys = tuple(sorted(set(reference) | set(current)))
        ref = np.array([reference.get(k, 0) for k in keys], dtype=np.int64)
        cur = np.array([current.get(k, 0) for k in keys], dtype=np.int64)
        return cls(keys, ref, cur)

    @classmethod
    def of(
        cls, reference: Iterable[str | None], current: Iterable[str | None]
    ) -> CategoricalSample:
        """A sample from raw values; None is a missing value."""
        return cls.from_counts(_count(reference), _count(current))


@dataclass(frozen=True, eq=False)
class SketchedSample:
    """One numeric column too large to sort whole, summarized on both sides while streamed
    (`mlcode.drift.sketch`); `counts` gives the frequency counts of both sides (another streamed
    pass, exact) when a frequency test needs them."""

    reference: ColumnSummary
    current: ColumnSummary
    counts: Callable[[], tuple[CountArray, CountArray]]

    @property
    def kind(self) -> Kind:
        """Always "numeric"."""
        return "numeric"

    @property
    def n_reference(self) -> int:
        """Reference values."""
        return self.reference.n

    @property
    def n_current(self) -> int:
        """Current values."""
        return self.current.n

    @property
    def n_unique(self) -> int:
        """Distinct values over both sides: exact up to the summaries' `max_distinct`, beyond that
        a lower bound (`max_distinct + 1`), which decides the method all the same."""
        ref, cur = self.reference.distinct, self.current.distinct
        if ref is None or cur is None:
            return self.reference.max_distinct + 1
        return len(set(ref) | set(cur))


Sample = NumericSample | CategoricalSample | SketchedSample


@dataclass(frozen=True)
class ColumnSettings:
    """The drift settings of the dataset or of one column (`method`, `threshold`, `ignore`)."""

    method: Requested = "auto"
    threshold: float | None = None
    ignore: bool = False

    def under(self, dataset: ColumnSettings) -> ColumnSettings:
        """These column settings with the dataset's settings filled in (see module doc)."""
        method = dataset.method if self.method == "auto" else self.method
        threshold = self.threshold
        if threshold is None and method == dataset.method:
            threshold = dataset.threshold
        return ColumnSettings(method=method, threshold=threshold, ignore=self.ignore)


@dataclass(frozen=True)
class ColumnResult:
    """The verdict on one column."""

    name: str
    kind: Kind
    method: str
    statistic: float
    threshold: float
    drifted: bool
    n_unique: int
    n_reference: int
    n_current: int
    note: str | None = None
    estimate_bound: float | None = None  # sketched: how far the estimate can be from the exact one

    @property
    def statistic_kind(self) -> str:
        """ "p_value" for tests, "distance" for distances, "missing_share" for all-missing sides."""
        if self.method in P_VALUE_METHODS:
            return "p_value"
        return "missing_share" if self.method == ALL_MISSING else "distance"

    def to_json(self) -> dict[str, object]:
        """The column's entry in the full report."""
        out: dict[str, object] = {
            "kind": self.kind,
            "method": self.method,
            "statistic": self.statistic,
            "statistic_kind": self.statistic_kind,
            "threshold": self.threshold,
            "drifted": self.drifted,
            "n_unique": self.n_unique,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
        }
        if self.note:
            out["note"] = self.note
        if self.estimate_bound is not None:
            out["estimate_bound"] = self.estimate_bound
        return out


@dataclass(frozen=True)
class SkippedColumn:
    """A column left out of the gate, and why."""

    name: str
    kind: Kind
    reason: str


@dataclass(frozen=True)
class DriftResult:
    """Every column's verdict and the dataset-level gate."""

    columns: tuple[ColumnResult, ...]
    max_drifted_share: float
    skipped: tuple[SkippedColumn, ...] = field(default=())

    @property
    def evaluated(self) -> int:
        """Columns that were tested."""
        return len(self.columns)

    @property
    def drifted_columns(self) -> int:
        """Columns that drifted."""
        return sum(1 for c in self.columns if c.drifted)

    @property
    def drifted_share(self) -> float:
        """Drifted columns / evaluated columns (0.0 when none was evaluated)."""
        return self.drifted_columns / self.evaluated if self.evaluated else 0.0

    @property
    def gate_passed(self) -> bool:
        """True when drifted_share < max_drifted_share."""
        return self.drifted_share < self.max_drifted_share

    @property
    def dataset_drift(self) -> bool:
        """True when the gate fails: drifted_share >= max_drifted_share."""
        return not self.gate_passed

    @property
    def evidently_dataset_drift(self) -> bool:
        """Evidently's own dataset rule: drifted_share >= 0.5."""
        return self.drifted_share >= EVIDENTLY_DATASET_SHARE

    def metrics(self) -> dict[str, object]:
        """The DVC metrics file: the summary only, numeric and boolean leaves (pipeline contract).

        Per-column detail lives in the report: a metrics file with a key per column makes
        `dvc metrics show` on a project with several models a table too wide to read.
        """
        return {
            "drifted_share": self.drifted_share,
            "drifted_columns": self.drifted_columns,
            "columns": self.evaluated,
            "dataset_drift": self.dataset_drift,
        }

    def report(self) -> dict[str, object]:
        """The full report: per-column methods and details, skipped columns, the dataset gate."""
        return {
            "dataset": {
                "drifted_share": self.drifted_share,
                "drifted_columns": self.drifted_columns,
                "columns": self.evaluated,
                "max_drifted_share": self.max_drifted_share,
                "gate_passed": self.gate_passed,
                "dataset_drift": self.dataset_drift,
                "evidently_dataset_drift": self.evidently_dataset_drift,
            },
            "columns": {c.name: c.to_json() for c in self.columns},
            "skipped": {s.name: {"kind": s.kind, "reason": s.reason} for s in self.skipped},
        }


def choose_method(
    kind: Kind, n_reference: int, n_unique: int, requested: str, column: str = ""
) -> str:
    """The test a column gets: `requested`, or Evidently 0.7's default when it is "auto"."""
    if requested not in REQUESTED_METHODS:
        raise UserError(
            f"drift method {requested!r} is unknown{_for(column)}; "
            f"methods: {', '.join(REQUESTED_METHODS)}"
        )
    if requested != "auto":
        if requested in NUMERIC_ONLY and kind == "categorical":
            raise UserError(
                f"drift method {requested!r} needs a numeric column, but "
                f"{f'column {column!r}' if column else 'the column'} is categorical",
                hint="Set another method for it under `gates.drift.columns` in ml.yaml "
                "(chi2, jensenshannon, psi, or auto).",
            )
        return requested
    if kind == "numeric" and n_unique > FEW_UNIQUE:
        return "ks" if n_reference <= LARGE_REFERENCE else "wasserstein"
    if n_reference > LARGE_REFERENCE:
        return "jensenshannon"
    return "chi2" if n_unique > BINARY else "z"


def is_drifted(method: str, statistic: float, threshold: float) -> bool:
    """The verdict: ks p <= t; chi2 and z p < t; distances (and all_missing) >= t."""
    if method == "ks":
        return statistic <= threshold
    if method in P_VALUE_METHODS:
        return statistic < threshold
    return statistic >= threshold


def statistic(method: str, sample: Sample) -> float:
    """The value of `method` on `sample` (both sides non-empty)."""
    if isinstance(sample, SketchedSample):
        ref_sketch, cur_sketch = sample.reference.sketch, sample.current.sketch
        if method == "ks":
            distance = sketch.ks_distance(ref_sketch, cur_sketch)
            return stattests.ks_pvalue(distance, sample.n_reference, sample.n_current)
        if method == "wasserstein":
            norm = max(sample.reference.std, stattests.WASSERSTEIN_MIN_STD)
            return sketch.wasserstein_distance(ref_sketch, cur_sketch) / norm
        ref, cur = sample.counts()
    elif isinstance(sample, NumericSample):
        if method == "ks":
            return stattests.ks(sample.reference, sample.current)
        if method == "wasserstein":
            return stattests.wasserstein_from_area(sample.walk[1], sample.reference)
        # frequency tests on numbers: per value up to 20 distinct reference values, else sturges bins
        ref, cur = stattests.binned_counts_merged(sample.reference, sample.current)
    else:
        ref, cur = sample.reference, sample.current
    tests: dict[str, Callable[[CountArray, CountArray], float]] = {
        "chi2": stattests.chi2,
        "z": stattests.z,
        "jensenshannon": stattests.jensenshannon,
        "psi": stattests.psi,
    }
    if method not in tests:
        raise ValueError(f"method {method!r} does not apply to a {sample.kind} sample")
    return tests[method](ref, cur)


def estimate_note(method: str, sample: Sample) -> tuple[float, str] | None:
    """For a sketched sample and a quantile-based method: the bound on the estimate's error and
    the note saying what it bounds (None when the statistic is exact)."""
    if not isinstance(sample, SketchedSample) or method not in NUMERIC_ONLY:
        return None
    ref, cur = sample.reference, sample.current
    if method == "ks":
        bound = sketch.ks_bound(ref.sketch, cur.sketch)
        what = "the KS distance behind this p-value"
    else:
        span = max(ref.high, cur.high) - min(ref.low, cur.low)
        norm = max(ref.std, stattests.WASSERSTEIN_MIN_STD)
        bound = sketch.wasserstein_bound(ref.sketch, cur.sketch, span) / norm
        what = "this distance"
    return bound, (
        f"estimated from quantile sketches (the column pair is larger than the exact bound): "
        f"{what} is within {bound:.2g} of the exact value"
    )


def column_drift(
    name: str, sample: Sample, settings: ColumnSettings
) -> ColumnResult | SkippedColumn:
    """The verdict on one column under resolved settings (see `ColumnSettings.under`)."""
    n_ref, n_cur = sample.n_reference, sample.n_current
    if n_ref == 0 and n_cur == 0:
        return SkippedColumn(name, sample.kind, "no value on either side (all missing)")
    if n_ref == 0 or n_cur == 0:
        side = "reference" if n_ref == 0 else "current"
        return ColumnResult(
            name=name,
            kind=sample.kind,
            method=ALL_MISSING,
            statistic=1.0,
            threshold=DEFAULT_THRESHOLD[ALL_MISSING],
            drifted=True,
            n_unique=sample.n_unique,
            n_reference=n_ref,
            n_current=n_cur,
            note=f"every value is missing in the {side} dataset",
        )
    method = choose_method(sample.kind, n_ref, sample.n_unique, settings.method, name)
    threshold = DEFAULT_THRESHOLD[method] if settings.threshold is None else settings.threshold
    value = statistic(method, sample)
    if not math.isfinite(value):  # pragma: no cover - every test above returns a finite value
        raise ValueError(f"drift statistic {method} of column {name!r} is not finite: {value}")
    estimate = estimate_note(method, sample)
    return ColumnResult(
        name=name,
        kind=sample.kind,
        method=method,
        statistic=value,
        threshold=threshold,
        drifted=is_drifted(method, value, threshold),
        n_unique=sample.n_unique,
        n_reference=n_ref,
        n_current=n_cur,
        note=None if estimate is None else estimate[1],
        estimate_bound=None if estimate is None else estimate[0],
    )


def detect_drift(
    columns: Iterable[tuple[str, Kind, Callable[[], Sample]]],
    dataset: ColumnSettings,
    per_column: Mapping[str, ColumnSettings],
    max_drifted_share: float,
) -> DriftResult:
    """Test every column; `columns` yields (name, kind, loader) and each loader runs at most once,
    in order, and not at all for an ignored column, so only one column is in memory at a time."""
    results: list[ColumnResult] = []
    skipped: list[SkippedColumn] = []
    for name, kind, load in columns:
        settings = per_column.get(name, ColumnSettings()).under(dataset)
        if settings.ignore:
            skipped.append(SkippedColumn(name, kind, "ignored in gates.drift.columns"))
            continue
        outcome = column_drift(name, load(), settings)
        if isinstance(outcome, ColumnResult):
            results.append(outcome)
        else:
            skipped.append(outcome)
    if not results:
        raise UserError(
            "no column left to compare for drift: "
            + ("; ".join(f"{s.name}: {s.reason}" for s in skipped) or "no feature column declared"),
            hint="Declare numeric or categorical features on the reference dataset, or un-ignore one.",
        )
    return DriftResult(tuple(results), max_drifted_share, tuple(skipped))


def _for(column: str) -> str:
    return f" for column {column!r}" if column else ""


def _finite(values: Sequence[float] | FloatArray) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    return arr[np.isfinite(arr)]


def _count(values: Iterable[str | None]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        if value is not None:
            counts[value] = counts.get(value, 0) + 1
    return counts
