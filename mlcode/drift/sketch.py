"""A mergeable quantile sketch with a deterministic, tracked error bound, for columns too large to
sort whole (pure: numpy only).

The sketch keeps sorted buffers by level; an item of level h stands for 2^h values. When a level
holds more than `k` items it is compacted: its items (an even count of them; an odd one out stays)
are paired in order and one of each pair, alternately the first and the second from one compaction
to the next, moves up a level with twice the weight (the Munro-Paterson / Manku-Rajagopalan-Lindsay
scheme that KLL refines). One compaction of weight w changes the count of values <= x by at most w
for every x, so the sketch adds up the weights of its compactions: `rank_error` is a bound, for
every x at once, on |estimated count of values <= x - true count|. Two sketches merge level by level
(their bounds add, plus the merge's own compactions), so a column can be sketched row group by row
group, and both sides of a comparison independently.

Size: with k items per level, n values take about log2(n / k) levels and the bound grows like
n / k per batch fed in (about 2 n / k in all when batches are large), i.e. a relative rank error
of roughly 2 / k: k = 2^16 gives about 3e-5 of n, in about 8 bytes * k * levels of memory.

What follows for the drift statistics (`ks_bound`, `wasserstein_bound`): with rank errors e_r, e_c
on sample sizes n_r, n_c, each empirical CDF is off by at most e/n everywhere, so the KS distance
is off by at most e_r/n_r + e_c/n_c, and the Wasserstein distance (the area between the CDFs over
[min, max]) by at most (e_r/n_r + e_c/n_c) * (max - min).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mlcode.drift.stattests import FloatArray

DEFAULT_K = 1 << 16


@dataclass
class QuantileSketch:
    """A mergeable quantile summary of a stream of finite floats (see the module doc)."""

    k: int = DEFAULT_K
    levels: list[FloatArray] = field(default_factory=list)
    n: int = 0
    rank_error: float = 0.0
    _flip: bool = False

    def update(self, values: FloatArray) -> None:
        """Add finite values (any order)."""
        if values.size == 0:
            return
        self.n += int(values.size)
        self._add(0, np.sort(values))

    def merge(self, other: QuantileSketch) -> None:
        """Add everything `other` summarized (its error bound carries over)."""
        self.n += other.n
        self.rank_error += other.rank_error
        for level, items in enumerate(other.levels):
            if items.size:
                self._add(level, items)

    def weighted(self) -> tuple[FloatArray, FloatArray]:
        """The items and their weights (sorted by item); the weights add up to `n`."""
        parts = [items for items in self.levels if items.size]
        if not parts:
            return np.empty(0), np.empty(0)
        weights = [
            np.full(items.size, float(1 << h)) for h, items in enumerate(self.levels) if items.size
        ]
        values = np.concatenate(parts)
        order = np.argsort(values, kind="stable")
        return values[order], np.concatenate(weights)[order]

    def _add(self, level: int, items: FloatArray) -> None:
        while len(self.levels) <= level:
            self.levels.append(np.empty(0))
        merged = np.concatenate([self.levels[level], items])
        merged.sort(kind="stable")
        self.levels[level] = merged
        while level < len(self.levels):
            if self.levels[level].size <= self.k:
                level += 1
                continue
            self._compact(level)
            level += 1

    def _compact(self, level: int) -> None:
        items = self.levels[level]
        even = items.size - items.size % 2
        keep = items[even:]  # the odd one out (the largest) stays
        chosen = items[int(self._flip) : even : 2]
        self._flip = not self._flip
        self.levels[level] = keep.copy()
        self.rank_error += float(1 << level)
        if len(self.levels) == level + 1:
            self.levels.append(np.empty(0))
        above = np.concatenate([self.levels[level + 1], chosen])
        above.sort(kind="stable")
        self.levels[level + 1] = above


def cdf_bound(sketch: QuantileSketch) -> float:
    """The bound on |estimated CDF - true CDF| at every point: rank_error / n."""
    return sketch.rank_error / sketch.n if sketch.n else 0.0


def ks_distance(reference: QuantileSketch, current: QuantileSketch) -> float:
    """The two-sample KS distance (largest CDF gap) estimated from two sketches."""
    ref_items, ref_w = reference.weighted()
    cur_items, cur_w = current.weighted()
    points = np.union1d(ref_items, cur_items)
    ref_cdf = _cdf(ref_items, ref_w, points)
    cur_cdf = _cdf(cur_items, cur_w, points)
    return float(np.max(np.abs(ref_cdf - cur_cdf)))


def wasserstein_distance(reference: QuantileSketch, current: QuantileSketch) -> float:
    """The first Wasserstein distance (area between the CDFs) estimated from two sketches."""
    ref_items, ref_w = reference.weighted()
    cur_items, cur_w = current.weighted()
    points = np.union1d(ref_items, cur_items)
    gaps = np.diff(points)
    ref_cdf = _cdf(ref_items, ref_w, points[:-1])
    cur_cdf = _cdf(cur_items, cur_w, points[:-1])
    return float(np.sum(np.abs(ref_cdf - cur_cdf) * gaps))


def ks_bound(reference: QuantileSketch, current: QuantileSketch) -> float:
    """How far `ks_distance` can be from the exact KS distance."""
    return cdf_bound(reference) + cdf_bound(current)


def wasserstein_bound(reference: QuantileSketch, current: QuantileSketch, span: float) -> float:
    """How far `wasserstein_distance` can be from the exact one; `span` = max - min of both."""
    return (cdf_bound(reference) + cdf_bound(current)) * span


def _cdf(items: FloatArray, weights: FloatArray, points: FloatArray) -> FloatArray:
    cumulative = np.concatenate([[0.0], np.cumsum(weights)])
    total = cumulative[-1]
    at = items.searchsorted(points, "right")
    result: FloatArray = cumulative[at] / total
    return result


@dataclass
class ColumnSummary:
    """One side of a numeric column, summarized while streamed: size, moments, range, a quantile
    sketch and, while there are at most `max_distinct` of them, each distinct value's count."""

    max_distinct: int = 1000
    k: int = DEFAULT_K
    n: int = 0
    mean: float = 0.0
    m2: float = 0.0  # sum of squared deviations from the mean (Chan et al.'s parallel update)
    low: float = float("inf")
    high: float = float("-inf")
    distinct: dict[float, int] | None = field(default_factory=dict)
    sketch: QuantileSketch = field(init=False)

    def __post_init__(self) -> None:
        self.sketch = QuantileSketch(k=self.k)

    @property
    def std(self) -> float:
        """Population standard deviation."""
        return float(np.sqrt(self.m2 / self.n)) if self.n else 0.0

    def update(self, values: FloatArray) -> None:
        """Add finite values."""
        if values.size == 0:
            return
        n, mean = int(values.size), float(values.mean())
        m2 = float(np.sum((values - mean) ** 2))
        total = self.n + n
        delta = mean - self.mean
        self.m2 += m2 + delta * delta * self.n * n / total
        self.mean += delta * n / total
        self.n = total
        self.low = min(self.low, float(values.min()))
        self.high = max(self.high, float(values.max()))
        self.sketch.update(values)
        if self.distinct is not None:
            keys, counts = np.unique(values, return_counts=True)
            if keys.size > self.max_distinct:
                self.distinct = None
                return
            for key, count in zip(keys.tolist(), counts.tolist(), strict=True):
                self.distinct[key] = self.distinct.get(key, 0) + count
            if len(self.distinct) > self.max_distinct:
                self.distinct = None
