"""The drift statistics, one pure function per method, numerically the same as Evidently 0.7's.

Every function takes the reference side first and returns one float: a p-value (`ks`, `chi2`, `z`)
or a distance (`wasserstein`, `jensenshannon`, `psi`). Samples are float arrays with no NaN or
infinity; frequency tests take counts aligned over the same keys (see `value_counts` and
`sturges_counts`). The forms follow evidently/legacy/calculations/stattests/ of Evidently 0.7:

- ks: `scipy.stats.ks_2samp(reference, current)` p-value.
- chi2: `scipy.stats.chisquare(f_obs=current counts, f_exp=reference counts * n_cur / n_ref)`, a
  goodness-of-fit test over the union of observed values (a value never seen in the reference gives
  an infinite statistic and p = 0).
- z: two-proportion z-test on "equals the first sorted value", two-tailed; p = 1 when both sides hold
  one and the same value.
- wasserstein: `scipy.stats.wasserstein_distance / max(np.std(reference), 0.001)` (population std).
- jensenshannon: `scipy.spatial.distance.jensenshannon` (natural log) of the two frequency vectors.
- psi: sum of (ref% - cur%) * ln(ref% / cur%), where an empty bin on one side gets that side's
  smallest non-zero share / 1e6 when that share is <= 0.0001, else 0.0001 (Evidently's fill).

Frequency vectors (jensenshannon, psi) come from `binned_counts`: numeric samples whose reference has
more than 20 distinct values are binned on `np.histogram_bin_edges(reference + current, "sturges")`;
anything else is counted per distinct value over the union of both sides.

The `*_merged` and `*_sorted` forms take samples already sorted ascending (the file reader sorts
each column once, in place): distinct values, value counts and the Wasserstein distance come from a
walk over their stable merge, built block by block (`merged_blocks`: a few blocks of memory, never
a copy of the samples), histogram counts from `searchsorted` of the edges. They give the same numbers as the forms above (the sum's order differs,
so about 1e-15 relative) in a fraction of the time and memory.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
CountArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

BIN_ABOVE_UNIQUE = 20  # numeric samples with more distinct reference values are binned (sturges)
WASSERSTEIN_MIN_STD = 0.001
_PSI_FILL = 0.0001


def ks(reference: FloatArray, current: FloatArray) -> float:
    """Two-sample Kolmogorov-Smirnov test, two-sided: the p-value.

    scipy picks the exact or asymptotic distribution (method "auto", as Evidently); its warning when
    the exact computation falls back to the asymptotic one is silenced, the value is the same.
    """
    from scipy import stats

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(stats.ks_2samp(reference, current)[1])


def ks_pvalue(distance: float, n_reference: int, n_current: int) -> float:
    """The two-sided KS p-value of a distance between samples of these sizes, by scipy's
    asymptotic distribution (what `ks_2samp` uses above 10,000 values a side)."""
    from scipy import stats

    effective = n_reference * n_current / (n_reference + n_current)
    return float(np.clip(stats.kstwo.sf(distance, np.round(effective)), 0, 1))


def wasserstein(reference: FloatArray, current: FloatArray) -> float:
    """First Wasserstein distance divided by the reference's population std (at least 0.001)."""
    from scipy import stats

    norm = max(float(np.std(reference)), WASSERSTEIN_MIN_STD)
    return float(stats.wasserstein_distance(reference, current)) / norm


def merged_blocks(
    reference: FloatArray, current: FloatArray, block: int = 1 << 16
) -> Iterator[tuple[FloatArray, BoolArray]]:
    """The stable merge of two sorted samples (a tie keeps reference values first) in consecutive
    blocks of about `block` values from each side, and which values come from the reference.

    Blocks are cut at every `block`-th value of either side, before the first of a run of equal
    values, so a run never spans two blocks; memory is a few blocks whatever the sample size."""
    cuts = np.union1d(reference[block::block], current[block::block])
    ref_at = np.concatenate([[0], reference.searchsorted(cuts, "left"), [reference.size]])
    cur_at = np.concatenate([[0], current.searchsorted(cuts, "left"), [current.size]])
    for i in range(ref_at.size - 1):
        ref_part = reference[ref_at[i] : ref_at[i + 1]]
        cur_part = current[cur_at[i] : cur_at[i + 1]]
        if ref_part.size + cur_part.size == 0:
            continue
        both = np.concatenate([ref_part, cur_part])
        order = np.argsort(both, kind="stable")  # two sorted runs: a linear merge
        yield both[order], order < ref_part.size


def walk_merged(
    reference: FloatArray, current: FloatArray, block: int = 1 << 16
) -> tuple[int, float]:
    """One walk over the merge of two sorted, non-empty samples: how many distinct values they hold
    together, and the area between their empirical CDFs (the unnormalised Wasserstein distance,
    scipy's formula: the sum over consecutive merged values of |F_ref - F_cur| times the gap)."""
    n_ref, n_cur = float(reference.size), float(current.size)
    distinct, area = 0, 0.0
    ref_seen = cur_seen = 0
    last_value, last_gap = 0.0, 0.0
    for values, from_ref in merged_blocks(reference, current, block):
        distinct += distinct_count(values)
        ref_cum = ref_seen + np.cumsum(from_ref, dtype=np.int64)
        cur_cum = cur_seen + np.arange(1, values.size + 1, dtype=np.int64) - (ref_cum - ref_seen)
        cdf_gap = np.abs(ref_cum / n_ref - cur_cum / n_cur)
        if ref_seen + cur_seen:
            area += last_gap * float(values[0] - last_value)
        area += float(np.sum(cdf_gap[:-1] * np.diff(values)))
        last_value, last_gap = float(values[-1]), float(cdf_gap[-1])
        ref_seen, cur_seen = int(ref_cum[-1]), int(cur_cum[-1])
    return distinct, area


def wasserstein_from_area(area: float, reference: FloatArray) -> float:
    """`wasserstein` from the area between the CDFs (`walk_merged`)."""
    return area / max(float(np.std(reference)), WASSERSTEIN_MIN_STD)


def distinct_count(values: FloatArray) -> int:
    """How many distinct values a sorted sample holds."""
    if values.size == 0:
        return 0
    return 1 + int(np.count_nonzero(values[1:] != values[:-1]))


def chi2(reference: CountArray, current: CountArray) -> float:
    """Chi-squared goodness of fit of current counts to the rescaled reference counts: the p-value.

    With a single key both sides hold the same one value: there is nothing to test, p = 1 (scipy
    would answer NaN, which Evidently reads as "no drift" too).
    """
    from scipy import stats

    if reference.size < 2:
        return 1.0
    n_ref = float(reference.sum())
    n_cur = float(current.sum())
    f_exp = reference.astype(np.float64) * (n_cur / n_ref)
    f_obs = current.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_value = float(stats.chisquare(f_obs, f_exp)[1])
    return 1.0 if np.isnan(p_value) else p_value  # defensive: NaN is "cannot tell", as in Evidently


def z(reference: CountArray, current: CountArray) -> float:
    """Two-proportion z-test of the share of the first key (counts aligned on sorted keys)."""
    if reference.size == 1:  # both sides hold the one same value
        return 1.0
    n1 = float(reference.sum())
    n2 = float(current.sum())
    # Evidently codes "equals the first sorted value" as 0 and every other value as 1.
    p1 = float(n1 - reference[0]) / n1
    p2 = float(n2 - current[0]) / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    from scipy import stats

    z_stat = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    return float(2 * (1 - stats.norm.cdf(np.abs(z_stat))))


def jensenshannon(reference: CountArray | FloatArray, current: CountArray | FloatArray) -> float:
    """Jensen-Shannon distance (natural log) between two frequency vectors over the same keys:
    `scipy.spatial.distance.jensenshannon`'s computation, written out so that the default methods
    need no scipy import (most of a small comparison's start-up)."""
    ref = reference / float(reference.sum())
    cur = current / float(current.sum())
    ref, cur = ref / np.sum(ref), cur / np.sum(cur)
    mid = (ref + cur) / 2.0
    divergence = (np.sum(_rel_entr(ref, mid)) + np.sum(_rel_entr(cur, mid))) / 2.0
    return float(np.sqrt(divergence))


def _rel_entr(x: FloatArray, y: FloatArray) -> FloatArray:
    """scipy.special.rel_entr for y > 0 where x > 0 (always so here): x log(x / y), 0 at x = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out: FloatArray = np.where(x > 0, x * np.log(x / y), 0.0)
    return out


def psi(reference: CountArray | FloatArray, current: CountArray | FloatArray) -> float:
    """Population stability index between two frequency vectors over the same keys."""
    ref = _fill_empty(reference / float(reference.sum()))
    cur = _fill_empty(current / float(current.sum()))
    return float(np.sum((ref - cur) * np.log(ref / cur)))


def _fill_empty(percents: FloatArray) -> FloatArray:
    """Evidently's fill for empty bins: smallest non-zero share / 1e6 if tiny, else 0.0001."""
    out = percents.astype(np.float64, copy=True)
    smallest = float(out[out != 0].min())
    out[out == 0] = smallest / 10**6 if smallest <= _PSI_FILL else _PSI_FILL
    return out


def value_counts(
    reference: FloatArray, current: FloatArray
) -> tuple[FloatArray, CountArray, CountArray]:
    """Distinct values of both samples (sorted) and each sample's count of each."""
    keys, inverse = np.unique(np.concatenate([reference, current]), return_inverse=True)
    ref_counts = np.bincount(inverse[: reference.size], minlength=keys.size).astype(np.int64)
    cur_counts = np.bincount(inverse[reference.size :], minlength=keys.size).astype(np.int64)
    return keys, ref_counts, cur_counts


def sturges_counts(reference: FloatArray, current: FloatArray) -> tuple[CountArray, CountArray]:
    """Histogram counts of both samples on sturges bins computed over both together."""
    edges = np.histogram_bin_edges(np.concatenate([reference, current]), bins="sturges")
    ref_counts = np.histogram(reference, edges)[0].astype(np.int64)
    cur_counts = np.histogram(current, edges)[0].astype(np.int64)
    return ref_counts, cur_counts


def binned_counts(reference: FloatArray, current: FloatArray) -> tuple[CountArray, CountArray]:
    """Frequency counts of two numeric samples for jensenshannon and psi (see module doc)."""
    if np.unique(reference).size > BIN_ABOVE_UNIQUE:
        return sturges_counts(reference, current)
    _, ref_counts, cur_counts = value_counts(reference, current)
    return ref_counts, cur_counts


def sturges_edges(low: float, high: float, n: int) -> FloatArray:
    """`np.histogram_bin_edges(sample, "sturges")` from the sample's min, max and size alone."""
    if low == high:
        low, high = low - 0.5, high + 0.5
        return np.linspace(low, high, 2)
    width = (high - low) / (np.log2(n) + 1.0)
    bins = int(np.ceil((high - low) / width)) if width else 1
    return np.linspace(low, high, bins + 1)


def histogram_sorted(values: FloatArray, edges: FloatArray) -> CountArray:
    """`np.histogram(values, edges)[0]` of a sorted sample: bins [e_i, e_i+1), the last closed."""
    below = values.searchsorted(edges[:-1], "left")
    upper = np.append(below[1:], values.searchsorted(edges[-1], "right"))
    return (upper - below).astype(np.int64)


def binned_counts_merged(
    reference: FloatArray, current: FloatArray, block: int = 1 << 16
) -> tuple[CountArray, CountArray]:
    """`binned_counts` of two sorted samples, from `searchsorted` of the bin edges or one walk
    over their merge (per distinct value)."""
    if distinct_count(reference) > BIN_ABOVE_UNIQUE:
        low = float(min(reference[0], current[0]))
        high = float(max(reference[-1], current[-1]))
        edges = sturges_edges(low, high, reference.size + current.size)
        return histogram_sorted(reference, edges), histogram_sorted(current, edges)
    ref_parts: list[CountArray] = []
    cur_parts: list[CountArray] = []
    for values, from_ref in merged_blocks(reference, current, block):
        starts = np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]]))
        total = np.diff(np.append(starts, values.size)).astype(np.int64)
        ref_counts = np.add.reduceat(from_ref.astype(np.int64), starts).astype(np.int64)
        ref_parts.append(ref_counts)
        cur_parts.append(total - ref_counts)
    return np.concatenate(ref_parts), np.concatenate(cur_parts)
