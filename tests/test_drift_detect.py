"""mlcode.drift.detect: Evidently 0.7's method choice at its boundaries, thresholds and their
comparisons, settings inheritance, missing sides, the dataset gate, and verdicts on same vs shifted
distributions (fixed seeds)."""

from __future__ import annotations

import numpy as np
import pytest

from mlcode.drift import stattests
from mlcode.drift.detect import (
    ALL_MISSING,
    CategoricalSample,
    ColumnResult,
    ColumnSettings,
    DriftResult,
    NumericSample,
    SkippedColumn,
    choose_method,
    column_drift,
    detect_drift,
    is_drifted,
)
from mlcode.errors import UserError

AUTO = ColumnSettings()


def result(
    sample: NumericSample | CategoricalSample, settings: ColumnSettings = AUTO
) -> ColumnResult:
    out = column_drift("col", sample, settings)
    assert isinstance(out, ColumnResult)
    return out


# -- method choice ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "n_ref", "n_unique", "expected"),
    [
        ("numeric", 1000, 6, "ks"),
        ("numeric", 1001, 6, "wasserstein"),
        ("numeric", 1000, 5, "chi2"),
        ("numeric", 1000, 3, "chi2"),
        ("numeric", 1000, 2, "z"),
        ("numeric", 1000, 1, "z"),
        ("numeric", 1001, 5, "jensenshannon"),
        ("numeric", 1001, 2, "jensenshannon"),
        ("categorical", 1000, 50, "chi2"),
        ("categorical", 1000, 3, "chi2"),
        ("categorical", 1000, 2, "z"),
        ("categorical", 1001, 2, "jensenshannon"),
        ("categorical", 1001, 50, "jensenshannon"),
    ],
)
def test_auto_choice_boundaries(kind: str, n_ref: int, n_unique: int, expected: str) -> None:
    assert choose_method(kind, n_ref, n_unique, "auto") == expected  # type: ignore[arg-type]


def test_auto_choice_through_samples_at_1000_rows() -> None:
    rng = np.random.default_rng(1)
    cur = rng.normal(size=300)
    assert result(NumericSample.of(rng.normal(size=1000), cur)).method == "ks"
    assert result(NumericSample.of(rng.normal(size=1001), cur)).method == "wasserstein"
    # missing values do not count as reference rows (Evidently drops them first)
    with_nan = np.concatenate([rng.normal(size=1000), [np.nan, np.inf, -np.inf]])
    assert result(NumericSample.of(with_nan, cur)).method == "ks"


def test_auto_choice_counts_unique_over_both_sides() -> None:
    # 5 distinct values in the reference, one more only in the current: 6 together -> ks
    ref = np.array([1.0, 2, 3, 4, 5] * 20)
    assert result(NumericSample.of(ref, ref)).method == "chi2"
    changed = result(NumericSample.of(ref, np.array([1.0, 2, 3, 4, 6] * 20)))
    assert changed.method == "ks"
    assert changed.n_unique == 6


@pytest.mark.parametrize("method", ["ks", "wasserstein"])
def test_numeric_only_methods_refuse_categorical(method: str) -> None:
    sample = CategoricalSample.of(["a", "b"], ["a"])
    with pytest.raises(UserError, match="'col' is categorical"):
        column_drift("col", sample, ColumnSettings(method=method))  # type: ignore[arg-type]


def test_unknown_method_is_refused() -> None:
    with pytest.raises(UserError, match="unknown"):
        choose_method("numeric", 10, 10, "kl_div", "x")


@pytest.mark.parametrize("method", ["ks", "chi2", "wasserstein", "jensenshannon", "psi"])
def test_explicit_method_applies_to_numeric(method: str) -> None:
    rng = np.random.default_rng(2)
    out = result(
        NumericSample.of(rng.normal(size=200), rng.normal(size=150)), ColumnSettings(method=method)
    )  # type: ignore[arg-type]
    assert out.method == method
    assert out.threshold == {"ks": 0.05, "chi2": 0.05}.get(method, 0.1)


def test_explicit_jensenshannon_bins_above_20_reference_values() -> None:
    ref = np.arange(21, dtype=float)
    cur = np.arange(5, 26, dtype=float)
    binned = result(NumericSample.of(ref, cur), ColumnSettings(method="jensenshannon"))
    expected = stattests.jensenshannon(*stattests.sturges_counts(ref, cur))
    assert binned.statistic == pytest.approx(expected, abs=1e-12)
    ref20 = ref[:20]
    per_value = result(NumericSample.of(ref20, cur), ColumnSettings(method="jensenshannon"))
    _, rc, cc = stattests.value_counts(ref20, cur)
    assert per_value.statistic == pytest.approx(stattests.jensenshannon(rc, cc), abs=1e-12)


def test_explicit_chi2_on_continuous_numeric_uses_the_same_bins() -> None:
    rng = np.random.default_rng(4)
    ref, cur = rng.normal(size=400), rng.normal(size=300)
    out = result(NumericSample.of(ref, cur), ColumnSettings(method="chi2"))
    assert out.statistic == pytest.approx(
        stattests.chi2(*stattests.sturges_counts(ref, cur)), abs=1e-12
    )


# -- thresholds ---------------------------------------------------------------------------------


def test_threshold_comparisons_follow_evidently() -> None:
    assert is_drifted("ks", 0.05, 0.05)
    assert not is_drifted("ks", 0.0501, 0.05)
    assert not is_drifted("chi2", 0.05, 0.05)
    assert is_drifted("chi2", 0.0499, 0.05)
    assert not is_drifted("z", 0.05, 0.05)
    for distance in ("wasserstein", "jensenshannon", "psi"):
        assert is_drifted(distance, 0.1, 0.1)
        assert not is_drifted(distance, 0.0999, 0.1)


def test_threshold_overrides_default_of_chosen_test() -> None:
    rng = np.random.default_rng(3)
    sample = NumericSample.of(rng.normal(size=2000), rng.normal(0.15, size=2000))
    default = result(sample)
    assert default.method == "wasserstein"
    assert default.drifted
    loose = result(sample, ColumnSettings(threshold=default.statistic + 0.01))
    assert loose.threshold == pytest.approx(default.statistic + 0.01)
    assert not loose.drifted


def test_column_settings_inherit_dataset_settings() -> None:
    dataset = ColumnSettings(method="psi", threshold=0.2)
    assert ColumnSettings().under(dataset) == ColumnSettings("psi", 0.2)
    assert ColumnSettings(threshold=0.3).under(dataset) == ColumnSettings("psi", 0.3)
    # another method does not inherit the dataset's threshold (it belongs to psi)
    assert ColumnSettings(method="ks").under(dataset) == ColumnSettings("ks", None)
    assert ColumnSettings(method="psi").under(dataset) == ColumnSettings("psi", 0.2)
    assert ColumnSettings(ignore=True).under(dataset).ignore


# -- verdicts -----------------------------------------------------------------------------------


def numeric_pair(n_ref: int, n_cur: int, shift: float, seed: int) -> NumericSample:
    rng = np.random.default_rng(seed)
    return NumericSample.of(rng.normal(size=n_ref), rng.normal(shift, size=n_cur))


def categorical_pair(
    n: int, p_cur: list[float], seed: int, keys: str = "abcd"
) -> CategoricalSample:
    rng = np.random.default_rng(seed)
    p_ref = [1 / len(keys)] * len(keys)
    return CategoricalSample.of(
        rng.choice(list(keys), size=n, p=p_ref).tolist(),
        rng.choice(list(keys), size=n, p=p_cur).tolist(),
    )


@pytest.mark.parametrize(
    ("n", "method"),
    [(500, "ks"), (5000, "wasserstein")],
)
def test_numeric_same_vs_shifted(n: int, method: str) -> None:
    same = result(numeric_pair(n, n, 0.0, seed=10))
    shifted = result(numeric_pair(n, n, 0.6, seed=10))
    assert (same.method, shifted.method) == (method, method)
    assert not same.drifted
    assert shifted.drifted


@pytest.mark.parametrize(("n", "method"), [(500, "chi2"), (5000, "jensenshannon")])
def test_categorical_same_vs_shifted(n: int, method: str) -> None:
    same = result(categorical_pair(n, [0.25] * 4, seed=11))
    shifted = result(categorical_pair(n, [0.55, 0.15, 0.15, 0.15], seed=11))
    assert (same.method, shifted.method) == (method, method)
    assert not same.drifted
    assert shifted.drifted


def test_binary_same_vs_shifted_uses_z() -> None:
    same = result(categorical_pair(400, [0.5, 0.5], seed=12, keys="ny"))
    shifted = result(categorical_pair(400, [0.75, 0.25], seed=12, keys="ny"))
    assert (same.method, shifted.method) == ("z", "z")
    assert not same.drifted
    assert shifted.drifted


def test_psi_same_vs_shifted() -> None:
    psi = ColumnSettings(method="psi")
    assert not result(numeric_pair(5000, 5000, 0.0, seed=13), psi).drifted
    assert result(numeric_pair(5000, 5000, 0.5, seed=13), psi).drifted
    assert not result(categorical_pair(5000, [0.25] * 4, seed=13), psi).drifted
    assert result(categorical_pair(5000, [0.55, 0.15, 0.15, 0.15], seed=13), psi).drifted


# -- missing sides ------------------------------------------------------------------------------


def test_all_missing_on_one_side_is_drifted() -> None:
    out = result(NumericSample.of([1.0, 2.0], [np.nan, np.nan]))
    assert out.method == ALL_MISSING
    assert out.drifted
    assert out.statistic == 1.0
    assert out.note == "every value is missing in the current dataset"
    cat = result(CategoricalSample.of([None, None], ["a"]))
    assert cat.drifted
    assert cat.note is not None
    assert "reference" in cat.note


def test_all_missing_on_both_sides_is_skipped() -> None:
    out = column_drift("col", NumericSample.of([np.nan], [np.nan]), AUTO)
    assert isinstance(out, SkippedColumn)
    assert "either side" in out.reason


# -- dataset ------------------------------------------------------------------------------------


def fake(name: str, drifted: bool) -> ColumnResult:
    return ColumnResult(
        name, "numeric", "ks", 0.01 if drifted else 0.5, 0.05, drifted, 10, 100, 100
    )


def test_gate_fails_at_max_share_and_passes_below() -> None:
    columns = (fake("a", True), fake("b", False), fake("c", True), fake("d", False))
    at = DriftResult(columns, max_drifted_share=0.5)
    assert at.drifted_share == 0.5
    assert not at.gate_passed
    assert at.dataset_drift
    assert at.evidently_dataset_drift
    above = DriftResult(columns, max_drifted_share=0.51)
    assert above.gate_passed
    assert not above.dataset_drift


def test_metrics_have_only_numeric_and_bool_leaves() -> None:
    res = DriftResult(
        (fake("a", True), fake("b", False)), 0.5, (SkippedColumn("c", "numeric", "x"),)
    )
    metrics = res.metrics()
    assert set(metrics) == {
        "drifted_share",
        "drifted_columns",
        "columns",
        "dataset_drift",
    }
    assert metrics["columns"] == 2
    assert metrics["drifted_columns"] == 1

    def leaves(node: object) -> list[object]:
        if isinstance(node, dict):
            return [leaf for value in node.values() for leaf in leaves(value)]
        return [node]

    assert all(isinstance(leaf, int | float | bool) for leaf in leaves(metrics))
    report = res.report()
    assert report["skipped"] == {"c": {"kind": "numeric", "reason": "x"}}


def test_detect_drift_loads_each_column_once_and_never_an_ignored_one() -> None:
    loaded: list[str] = []

    def loader(name: str, shift: float) -> object:
        def load() -> NumericSample:
            loaded.append(name)
            return numeric_pair(300, 300, shift, seed=20)

        return load

    columns = [
        ("a", "numeric", loader("a", 0.0)),
        ("b", "numeric", loader("b", 1.0)),
        ("skip", "numeric", loader("skip", 1.0)),
    ]
    res = detect_drift(
        columns,  # type: ignore[arg-type]
        AUTO,
        {"skip": ColumnSettings(ignore=True)},
        0.5,
    )
    assert loaded == ["a", "b"]
    assert [c.name for c in res.columns] == ["a", "b"]
    assert res.drifted_columns == 1
    assert [s.name for s in res.skipped] == ["skip"]
    assert not res.gate_passed  # 1 of 2 = 0.5 >= 0.5


def test_detect_drift_with_nothing_to_compare_is_an_error() -> None:
    columns = [("a", "numeric", lambda: NumericSample.of([1.0], [1.0]))]
    with pytest.raises(UserError, match="no column left"):
        detect_drift(columns, AUTO, {"a": ColumnSettings(ignore=True)}, 0.5)  # type: ignore[arg-type]


def test_categorical_sample_from_counts_and_values_agree() -> None:
    a = CategoricalSample.of(["x", "y", "x", None], ["z", "x"])
    b = CategoricalSample.from_counts({"x": 2, "y": 1}, {"x": 1, "z": 1})
    assert a.keys == b.keys == ("x", "y", "z")
    assert a.reference.tolist() == b.reference.tolist() == [2, 1, 0]
    assert a.current.tolist() == b.current.tolist() == [1, 0, 1]
    assert (a.n_reference, a.n_current, a.n_unique) == (3, 2, 3)
