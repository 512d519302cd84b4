"""The quantile sketch against the exact answer: its tracked rank-error bound holds at every point,
and the KS and Wasserstein estimates stay within the bounds the module states, fed in batches and
merged, on smooth, heavy-tailed and tied data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mlcode.drift import sketch

K = 256  # small, so that 100k values go through many compactions and the bound is not vacuous


def sketched(values: np.ndarray, batch: int, parts: int = 1) -> sketch.QuantileSketch:
    """`values` fed in batches into `parts` sketches, then merged into one."""
    pieces = np.array_split(values, parts)
    sketches = []
    for piece in pieces:
        s = sketch.QuantileSketch(k=K)
        for start in range(0, piece.size, batch):
            s.update(piece[start : start + batch])
        sketches.append(s)
    out = sketches[0]
    for other in sketches[1:]:
        out.merge(other)
    return out


DATA = {
    "normal": lambda rng, shift: rng.normal(shift, 1.0, 120_000),
    "lognormal": lambda rng, shift: rng.lognormal(shift, 1.0, 90_000),
    "ties": lambda rng, shift: rng.integers(0, 40 + int(10 * shift), 100_000).astype(float),
}


@pytest.mark.parametrize("name", sorted(DATA))
@pytest.mark.parametrize(("batch", "parts"), [(1_000, 1), (50_000, 3)])
def test_rank_error_bound_holds_everywhere(name: str, batch: int, parts: int) -> None:
    rng = np.random.default_rng(1)
    values = DATA[name](rng, 0.0)
    s = sketched(values, batch, parts)
    assert s.n == values.size
    assert 0 < s.rank_error < 0.05 * values.size  # compactions happened; the bound means something
    items, weights = s.weighted()
    assert weights.sum() == values.size
    exact = np.sort(values)
    points = np.quantile(values, np.linspace(0, 1, 201))
    estimated = np.concatenate([[0.0], np.cumsum(weights)])[items.searchsorted(points, "right")]
    true = exact.searchsorted(points, "right")
    assert np.max(np.abs(estimated - true)) <= s.rank_error


@pytest.mark.parametrize("name", sorted(DATA))
@pytest.mark.parametrize("shift", [0.0, 0.2])
def test_ks_and_wasserstein_within_the_stated_bounds(name: str, shift: float) -> None:
    rng = np.random.default_rng(2)
    ref, cur = DATA[name](rng, 0.0), DATA[name](rng, shift)
    a, b = sketched(ref, 7_000), sketched(cur, 20_000, parts=2)
    exact_ks = float(stats.ks_2samp(ref, cur).statistic)
    assert abs(sketch.ks_distance(a, b) - exact_ks) <= sketch.ks_bound(a, b)
    span = float(max(ref.max(), cur.max()) - min(ref.min(), cur.min()))
    exact_w = float(stats.wasserstein_distance(ref, cur))
    bound = sketch.wasserstein_bound(a, b, span)
    assert abs(sketch.wasserstein_distance(a, b) - exact_w) <= bound
    assert bound < 0.05 * span


def test_column_summary_moments_and_distinct_values() -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(5, 2, 30_000)
    summary = sketch.ColumnSummary(max_distinct=10)
    for start in range(0, values.size, 4_000):
        summary.update(values[start : start + 4_000])
    assert summary.n == values.size
    assert summary.std == pytest.approx(float(np.std(values)), rel=1e-12)
    assert (summary.low, summary.high) == (values.min(), values.max())
    assert summary.distinct is None  # more than 10 distinct values
    few = sketch.ColumnSummary(max_distinct=10)
    few.update(np.array([1.0, 2.0, 2.0]))
    few.update(np.array([2.0, 3.0]))
    assert few.distinct == {1.0: 1, 2.0: 3, 3.0: 1}
