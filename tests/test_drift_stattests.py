"""mlcode.drift.stattests against direct scipy computations written the way Evidently 0.7 does them
(pandas value counts over the union of values, percents of the sample sizes), on fixed and
hypothesis-generated samples: the same value to 1e-9."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial import distance

from mlcode.drift import stattests

FLOATS = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
SAMPLE = st.lists(FLOATS, min_size=1, max_size=200)
FEW_VALUES = st.lists(st.sampled_from([-1.5, 0.0, 2.0, 3.25, 7.0]), min_size=1, max_size=200)
CATEGORIES = st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=200)
TWO_CATEGORIES = st.lists(st.sampled_from(["no", "yes"]), min_size=1, max_size=200)


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def arr(values: list[float]) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


# -- direct references (pandas + scipy, Evidently's formulas) ------------------------------------


def ref_chi2(reference: list[object], current: list[object]) -> float:
    r, c = pd.Series(reference), pd.Series(current)
    keys = list(set(r.unique()) | set(c.unique()))
    rc = {**dict.fromkeys(keys, 0), **dict(r.value_counts())}
    cc = {**dict.fromkeys(keys, 0), **dict(c.value_counts())}
    k = len(c) / len(r)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(stats.chisquare([cc[x] for x in keys], [rc[x] * k for x in keys])[1])


def ref_z(reference: list[object], current: list[object]) -> float:
    r, c = pd.Series(reference), pd.Series(current)
    if r.nunique() == 1 and c.nunique() == 1 and r.unique()[0] == c.unique()[0]:
        return 1.0
    first = sorted(set(r) | set(c))[0]
    x1 = r.apply(lambda v: 0 if v == first else 1)
    x2 = c.apply(lambda v: 0 if v == first else 1)
    n1, n2 = len(x1), len(x2)
    p1, p2 = x1.sum() / n1, x2.sum() / n2
    p = (p1 * n1 + p2 * n2) / (n1 + n2)
    zs = (p1 - p2) / np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    return float(2 * (1 - stats.norm.cdf(abs(zs))))


def ref_percents(
    reference: list[object], current: list[object], numeric: bool
) -> tuple[np.ndarray, np.ndarray]:
    r, c = pd.Series(reference), pd.Series(current)
    if numeric and r.nunique() > 20:
        bins = np.histogram_bin_edges(np.concatenate([r.to_numpy(), c.to_numpy()]), bins="sturges")
        return np.histogram(r, bins)[0] / len(r), np.histogram(c, bins)[0] / len(c)
    keys = list(set(r.unique()) | set(c.unique()))
    rc = {**dict.fromkeys(keys, 0), **dict(r.value_counts())}
    cc = {**dict.fromkeys(keys, 0), **dict(c.value_counts())}
    return np.array([rc[k] / len(r) for k in keys]), np.array([cc[k] / len(c) for k in keys])


def fill(p: np.ndarray) -> np.ndarray:
    p = p.copy()
    smallest = p[p != 0].min()
    p[p == 0] = smallest / 10**6 if smallest <= 0.0001 else 0.0001
    return p


def ref_psi(reference: list[object], current: list[object], numeric: bool) -> float:
    r, c = ref_percents(reference, current, numeric)
    r, c = fill(r), fill(c)
    return float(np.sum((r - c) * np.log(r / c)))


def ref_js(reference: list[object], current: list[object], numeric: bool) -> float:
    r, c = ref_percents(reference, current, numeric)
    return float(distance.jensenshannon(r, c))


def counts(reference: list[str], current: list[str]) -> tuple[np.ndarray, np.ndarray]:
    keys = sorted(set(reference) | set(current))
    return (
        np.array([reference.count(k) for k in keys], dtype=np.int64),
        np.array([current.count(k) for k in keys], dtype=np.int64),
    )


# -- fixed samples ------------------------------------------------------------------------------

REF = [0.1, 0.4, 0.35, 0.8, 1.2, 1.9, 2.5, 0.05, 0.7, 1.1, 3.3, 0.9]
CUR = [0.5, 1.4, 1.35, 1.8, 2.2, 2.9, 3.5, 1.05, 1.7, 2.1, 4.3]


def test_ks_fixed() -> None:
    assert close(stattests.ks(arr(REF), arr(CUR)), stats.ks_2samp(REF, CUR).pvalue)


def test_wasserstein_fixed() -> None:
    expected = stats.wasserstein_distance(REF, CUR) / np.std(REF)
    assert close(stattests.wasserstein(arr(REF), arr(CUR)), expected)


def test_wasserstein_constant_reference_uses_floor() -> None:
    expected = stats.wasserstein_distance([2.0] * 5, [2.0, 3.0]) / 0.001
    assert close(stattests.wasserstein(arr([2.0] * 5), arr([2.0, 3.0])), expected)


def test_chi2_fixed_and_unseen_value() -> None:
    ref, cur = ["a", "a", "b", "c", "c", "c"], ["a", "b", "b", "c"]
    assert close(stattests.chi2(*counts(ref, cur)), ref_chi2(ref, cur))
    # a value the reference never had: infinite statistic, p = 0 (what scipy and Evidently give)
    assert stattests.chi2(*counts(["a", "b"], ["a", "d"])) == 0.0
    assert ref_chi2(["a", "b"], ["a", "d"]) == 0.0


def test_chi2_single_value_is_no_drift() -> None:
    assert stattests.chi2(np.array([4]), np.array([9])) == 1.0


def test_z_fixed() -> None:
    ref, cur = ["no"] * 30 + ["yes"] * 10, ["no"] * 12 + ["yes"] * 20
    assert close(stattests.z(*counts(ref, cur)), ref_z(ref, cur))
    assert stattests.z(*counts(["x"] * 3, ["x"] * 5)) == 1.0
    # one value each, different values: maximal evidence of change
    assert close(stattests.z(*counts(["x"] * 30, ["y"] * 30)), ref_z(["x"] * 30, ["y"] * 30))


def test_psi_and_js_fixed_categorical() -> None:
    ref, cur = ["a"] * 50 + ["b"] * 30 + ["c"] * 20, ["a"] * 20 + ["b"] * 30 + ["d"] * 10
    rc, cc = counts(ref, cur)
    assert close(stattests.psi(rc, cc), ref_psi(ref, cur, numeric=False))
    assert close(stattests.jensenshannon(rc, cc), ref_js(ref, cur, numeric=False))


def test_fill_tiny_share() -> None:
    # smallest non-zero share <= 0.0001: empty bins get it / 1e6
    ref = ["a"] * 20000 + ["b"]
    cur = ["a"] * 5 + ["c"] * 5
    rc, cc = counts(ref, cur)
    assert close(stattests.psi(rc, cc), ref_psi(ref, cur, numeric=False))


def test_binned_counts_boundary_20_unique() -> None:
    twenty = [float(v) for v in range(20)]
    ref_counts, cur_counts = stattests.binned_counts(arr(twenty), arr([0.0, 50.0]))
    assert ref_counts.size == 21  # per value over the union: 20 + the new value 50
    assert ref_counts.tolist() == [1] * 20 + [0]
    assert cur_counts.tolist() == [1] + [0] * 19 + [1]
    twenty_one = [float(v) for v in range(21)]
    ref_counts, _ = stattests.binned_counts(arr(twenty_one), arr([0.0, 50.0]))
    edges = np.histogram_bin_edges(np.array([*twenty_one, 0.0, 50.0]), bins="sturges")
    assert ref_counts.size == edges.size - 1  # sturges bins over both samples


def test_numeric_psi_and_js_fixed_binned() -> None:
    rng = np.random.default_rng(7)
    ref, cur = rng.normal(size=500).tolist(), rng.normal(0.3, 1.2, size=400).tolist()
    rc, cc = stattests.binned_counts(arr(ref), arr(cur))
    assert close(stattests.psi(rc, cc), ref_psi(ref, cur, numeric=True))
    assert close(stattests.jensenshannon(rc, cc), ref_js(ref, cur, numeric=True))


# -- generated samples --------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:ks_2samp:RuntimeWarning")
@settings(max_examples=60, deadline=None)
@given(SAMPLE, SAMPLE)
def test_ks_matches_scipy(reference: list[float], current: list[float]) -> None:
    assert close(stattests.ks(arr(reference), arr(current)), stats.ks_2samp(reference, current)[1])


@settings(max_examples=60, deadline=None)
@given(SAMPLE, SAMPLE)
def test_wasserstein_matches_scipy(reference: list[float], current: list[float]) -> None:
    expected = stats.wasserstein_distance(reference, current) / max(float(np.std(reference)), 0.001)
    assert close(stattests.wasserstein(arr(reference), arr(current)), expected)


@settings(max_examples=60, deadline=None)
@given(CATEGORIES, CATEGORIES)
def test_chi2_matches_scipy(reference: list[str], current: list[str]) -> None:
    got = stattests.chi2(*counts(reference, current))
    expected = ref_chi2(reference, current)
    if math.isnan(expected):  # a single value on both sides: scipy says NaN, we say no drift
        assert got == 1.0
    else:
        assert close(got, expected)


@settings(max_examples=60, deadline=None)
@given(TWO_CATEGORIES, TWO_CATEGORIES)
def test_z_matches_direct(reference: list[str], current: list[str]) -> None:
    got = stattests.z(*counts(reference, current))
    assert close(got, ref_z(reference, current))


@settings(max_examples=60, deadline=None)
@given(CATEGORIES, CATEGORIES)
def test_psi_js_categorical_match_direct(reference: list[str], current: list[str]) -> None:
    rc, cc = counts(reference, current)
    assert close(stattests.psi(rc, cc), ref_psi(reference, current, numeric=False))
    assert close(stattests.jensenshannon(rc, cc), ref_js(reference, current, numeric=False))


@settings(max_examples=60, deadline=None)
@given(st.one_of(SAMPLE, FEW_VALUES), st.one_of(SAMPLE, FEW_VALUES))
def test_psi_js_numeric_match_direct(reference: list[float], current: list[float]) -> None:
    rc, cc = stattests.binned_counts(arr(reference), arr(current))
    assert close(stattests.psi(rc, cc), ref_psi(reference, current, numeric=True))
    assert close(stattests.jensenshannon(rc, cc), ref_js(reference, current, numeric=True))


@settings(max_examples=60, deadline=None)
@given(FEW_VALUES, FEW_VALUES)
def test_chi2_on_numeric_values_matches_direct(
    reference: list[float], current: list[float]
) -> None:
    _, rc, cc = stattests.value_counts(arr(reference), arr(current))
    expected = ref_chi2(reference, current)
    got = stattests.chi2(rc, cc)
    assert got == 1.0 if math.isnan(expected) else close(got, expected)


def test_value_counts_aligns_keys() -> None:
    keys, rc, cc = stattests.value_counts(arr([3.0, 1.0, 3.0]), arr([2.0, 3.0]))
    assert keys.tolist() == [1.0, 2.0, 3.0]
    assert rc.tolist() == [1, 0, 2]
    assert cc.tolist() == [0, 1, 1]


@pytest.mark.parametrize("fn", [stattests.psi, stattests.jensenshannon])
def test_identical_frequencies_give_zero(fn: object) -> None:
    assert callable(fn)
    assert fn(np.array([3, 5, 2]), np.array([6, 10, 4])) == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.one_of(SAMPLE, FEW_VALUES), st.one_of(SAMPLE, FEW_VALUES))
def test_merged_forms_match_the_plain_ones(reference: list[float], current: list[float]) -> None:
    ref, cur = np.sort(arr(reference)), np.sort(arr(current))
    expected = stattests.binned_counts(ref, cur)
    for block in (1, 5, 1 << 16):  # blocks of one value, a few, and the whole sample
        distinct, area = stattests.walk_merged(ref, cur, block)
        assert distinct == np.unique(np.concatenate([ref, cur])).size
        assert close(stattests.wasserstein_from_area(area, ref), stattests.wasserstein(ref, cur))
        got = stattests.binned_counts_merged(ref, cur, block)
        assert got[0].tolist() == expected[0].tolist()
        assert got[1].tolist() == expected[1].tolist()


@pytest.mark.parametrize("block", [1, 2, 3, 7])
def test_merge_blocks_cover_the_merge_and_never_split_a_run(block: int) -> None:
    rng = np.random.default_rng(block)
    ref = np.sort(rng.integers(0, 15, 60).astype(float))
    cur = np.sort(rng.integers(5, 25, 45).astype(float))
    blocks = list(stattests.merged_blocks(ref, cur, block))
    values = np.concatenate([v for v, _ in blocks])
    assert values.tolist() == sorted([*ref.tolist(), *cur.tolist()])
    assert sum(int(m.sum()) for _, m in blocks) == ref.size
    for (left, _), (right, _) in itertools.pairwise(blocks):
        assert left[-1] < right[0]  # a run of equal values stays in one block
