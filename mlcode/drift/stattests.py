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
each column once, in place) and their stable merge (`merge_sorted`, linear on two sorted runs):
distinct values, value counts and the Wasserstein distance come from one walk over the merge in
blocks, histogram counts from `searchsorted` of the edges. They give the same numbers as the forms above (the sum's order differs,
so about 1e-15 relative) in a fraction of the time and memory.
"""

from __future__ import annotations

import warnings

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
CountArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

BIN_ABOVE_UNIQUE = 20  # numeric samples with more distinct reference values are binned (sturges)
WASSERSTEIN_MIN_STD = 0.001
_PSI_FILL = 0.0001
_BLOCK = 1 << 16  # merged values per block in wasserstein_merged (temporaries: ~3 MB)


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


def merge_sorted(reference: FloatArray, current: FloatArray) -> tuple[FloatArray, BoolArray]:
    """Both sorted samples merged in order, and which merged values come from the reference (a
    stable merge: a tie keeps reference values first)."""
    both = np.concatenate([reference, current])
    order = np.argsort(both, kind="stable")  # two sorted runs: a linear merge
    from_ref = order < reference.size
    del order
    both[from_ref] = reference  # the merged values, written over the concatenation
    both[~from_ref] = current
    return both, from_ref


def wasserstein_merged(
    reference: FloatArray, current: FloatArray, merged: tuple[FloatArray, BoolArray]
) -> float:
    """`wasserstein` of two sorted samples given their merge: the area between the empirical CDFs,
    summed over the merged values in blocks (scipy's formula without index arrays)."""
    norm = max(float(np.std(reference)), WASSERSTEIN_MIN_STD)
    values, from_ref = merged
    n_ref, n_cur = float(reference.size), float(current.size)
    total, carry = 0.0, 0
    for start in range(0, values.size - 1, _BLOCK):
        stop = min(start + _BLOCK, values.size - 1)
        ref_seen = carry + np.cumsum(from_ref[start:stop], dtype=np.int64)
        cur_seen = np.arange(start + 1, stop + 1, dtype=np.int64) - ref_seen
        gaps = np.diff(values[start : stop + 1])
        total += float(np.sum(np.abs(ref_seen / n_ref - cur_seen / n_cur) * gaps))
        carry = int(ref_seen[-1])
    return total / norm


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
    reference: FloatArray, current: FloatArray, merged: tuple[FloatArray, BoolArray]
) -> tuple[CountArray, CountArray]:
    """`binned_counts` of two sorted samples given their merge."""
    if distinct_count(reference) > BIN_ABOVE_UNIQUE:
        low = float(min(reference[0], current[0]))
        high = float(max(reference[-1], current[-1]))
        edges = sturges_edges(low, high, reference.size + current.size)
        return histogram_sorted(reference, edges), histogram_sorted(current, edges)
    values, from_ref = merged
    starts = np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]]))
    total = np.diff(np.append(starts, values.size)).astype(np.int64)
    ref_counts = np.add.reduceat(from_ref.astype(np.int64), starts).astype(np.int64)
    return ref_counts, total - ref_counts
