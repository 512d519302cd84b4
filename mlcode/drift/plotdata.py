"""The data behind each column's drift plot, small and bounded (pure, no I/O).

- Numeric: reference and current counts on shared bin edges. The plotted range is both sides' whole
  range, unless that is more than 3 times the union of their 0.5 %-99.5 % quantile ranges (far
  outliers): then the quantile range, so one far outlier does not squash the histogram, and the
  values outside it are counted as `below` / `above`, per side. Bin width follows the
  Freedman-Diaconis rule on the reference (IQR-based), clamped to 10-40 bins; a range with integer
  ends no wider than 40 gets one bin per integer (booleans and small counts read as bars per
  value).
- Categorical: the `TOP_CATEGORIES` values with the largest combined share of both sides, each
  side's count, and the rest folded into `other` (with how many values it holds); values are cut to
  `MAX_LABEL` characters.

Numeric inputs must be sorted ascending with missing values dropped, which is what the drift engine
holds: quantiles are then index look-ups and bin counts binary searches (`O(bins log n)`, no copy of
the column). The output holds at most 41 edges and 2 x 40 counts, or 2 x 13 counts and 12 labels:
about 2 KB of JSON per column whatever the row count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from mlcode.drift.detect import CategoricalSample, NumericSample
from mlcode.drift.stattests import FloatArray

MAX_BINS = 40
MIN_BINS = 10
TOP_CATEGORIES = 12
MAX_LABEL = 60
TAIL = 0.005  # share cut from each end of each side for the robust range
OUTLIER_SPAN = 3.0  # the full range is plotted unless it is this many times the robust range

PlotData = dict[str, object]


def plot_data(sample: NumericSample | CategoricalSample) -> PlotData:
    """The plot data of one column's sample; a numeric sample's sides must be sorted."""
    if isinstance(sample, CategoricalSample):
        keys = sample.keys
        return categorical_plot(
            dict(zip(keys, sample.reference.tolist(), strict=True)),
            dict(zip(keys, sample.current.tolist(), strict=True)),
        )
    return numeric_plot(sample.reference, sample.current)


def numeric_plot(reference: FloatArray, current: FloatArray) -> PlotData:
    """Histogram counts of two sorted, finite samples on shared edges (see module doc)."""
    sides = [s for s in (reference, current) if s.size]
    if not sides:
        return {"type": "histogram", "edges": [], "reference": [], "current": [], "outside": {}}
    lo, hi = min(float(s[0]) for s in sides), max(float(s[-1]) for s in sides)
    robust_lo = min(_quantile(s, TAIL) for s in sides)
    robust_hi = max(_quantile(s, 1 - TAIL) for s in sides)
    if hi - lo > OUTLIER_SPAN * (robust_hi - robust_lo):  # far outliers: plot the bulk
        lo, hi = robust_lo, robust_hi
    edges = _edges(lo, hi, reference if reference.size else current)
    counts = {
        name: _counts(side, edges)
        for name, side in (("reference", reference), ("current", current))
    }
    return {
        "type": "histogram",
        "edges": [float(e) for e in edges],
        "reference": counts["reference"][0],
        "current": counts["current"][0],
        "outside": {name: {"below": c[1], "above": c[2]} for name, c in counts.items()},
    }


def categorical_plot(reference: Mapping[str, int], current: Mapping[str, int]) -> PlotData:
    """Each side's counts of the most frequent values, the rest folded into `other`."""
    n_ref = sum(reference.values()) or 1
    n_cur = sum(current.values()) or 1
    keys = set(reference) | set(current)

    def weight(key: str) -> tuple[float, str]:
        return (-(reference.get(key, 0) / n_ref + current.get(key, 0) / n_cur), key)

    ranked = sorted(keys, key=weight)
    top, rest = ranked[:TOP_CATEGORIES], ranked[TOP_CATEGORIES:]
    return {
        "type": "categories",
        "categories": [_label(k) for k in top],
        "reference": [int(reference.get(k, 0)) for k in top],
        "current": [int(current.get(k, 0)) for k in top],
        "other": {
            "values": len(rest),
            "reference": int(sum(reference.get(k, 0) for k in rest)),
            "current": int(sum(current.get(k, 0) for k in rest)),
        },
    }


def attach(report: dict[str, object], plots: Mapping[str, PlotData]) -> dict[str, object]:
    """`report` (a drift report's JSON) with each evaluated column's plot data under `plot`."""
    columns = report.get("columns")
    if not isinstance(columns, dict):
        return report
    merged = {
        name: {**entry, "plot": plots[name]} if name in plots and isinstance(entry, dict) else entry
        for name, entry in columns.items()
    }
    return {**report, "columns": merged}


def _quantile(values: FloatArray, q: float) -> float:
    """The `q` quantile of sorted `values` (linear interpolation, as numpy's default)."""
    position = q * (values.size - 1)
    low = math.floor(position)
    high = min(low + 1, values.size - 1)
    return float(values[low] + (values[high] - values[low]) * (position - low))


def _edges(lo: float, hi: float, reference: FloatArray) -> FloatArray:
    if hi <= lo:  # one value: a single bin centred on it
        half = max(abs(lo) * 0.05, 0.5)
        return np.array([lo - half, lo + half])
    if lo.is_integer() and hi.is_integer() and hi - lo < MAX_BINS:
        return np.arange(lo - 0.5, hi + 1.0, 1.0)
    iqr = _quantile(reference, 0.75) - _quantile(reference, 0.25)
    bins = MAX_BINS
    if iqr > 0:
        width = 2.0 * iqr / reference.size ** (1 / 3)
        bins = min(MAX_BINS, max(MIN_BINS, math.ceil((hi - lo) / width)))
    return np.linspace(lo, hi, bins + 1)


def _counts(values: FloatArray, edges: FloatArray) -> tuple[list[int], int, int]:
    """Counts per bin (the last bin closed, as numpy), and the values below and above the edges."""
    if not values.size:
        return [0] * (edges.size - 1), 0, 0
    left = np.searchsorted(values, edges, side="left")
    cut = left.copy()
    cut[-1] = np.searchsorted(values, edges[-1], side="right")
    bins = np.diff(cut)
    return [int(b) for b in bins], int(left[0]), int(values.size - cut[-1])


def _label(value: str) -> str:
    return value if len(value) <= MAX_LABEL else value[: MAX_LABEL - 1] + "…"
