"""The pure gate rules: min/max, vs_champion (absolute and relative, improvement and regression,
higher and lower is better), boundaries, fail closed, and the drift gate."""

from __future__ import annotations

import math

import pytest

from mlcode.gates import rules
from mlcode.gates.readings import drift_reading, number, parse_metrics
from mlcode.gates.rules import ChampionRule, DriftReading, Missing

IMPROVE = ChampionRule(min_improvement=0.02)
REGRESS = ChampionRule(max_regression=0.02)


def test_min_and_max_are_inclusive() -> None:
    assert rules.threshold_row("m", "accuracy", "min", 0.85, 0.85).verdict == "pass"
    assert rules.threshold_row("m", "accuracy", "min", 0.85, 0.8499).verdict == "fail"
    assert rules.threshold_row("m", "rmse", "max", 1.5, 1.5).verdict == "pass"
    assert rules.threshold_row("m", "rmse", "max", 1.5, 1.5001).verdict == "fail"
    row = rules.threshold_row("m", "accuracy", "min", 0.85, 0.8)
    assert (row.rule, row.expected, row.actual) == ("accuracy >= 0.85", ">= 0.85", "0.8")
    assert row.reason == "accuracy 0.8 is below 0.85"


@pytest.mark.parametrize(
    ("rule", "champion", "value", "verdict"),
    [
        # higher is better, absolute
        (IMPROVE, 0.80, 0.82, "pass"),  # exactly the improvement asked (0.80 + 0.02 in floats)
        (IMPROVE, 0.80, 0.8199, "fail"),
        (REGRESS, 0.88, 0.86, "pass"),  # on the bound although 0.88 - 0.02 != 0.86 in binary
        (REGRESS, 0.88, 0.8599, "fail"),
        (REGRESS, 0.88, 0.95, "pass"),
        # relative: a fraction of the champion's value
        (ChampionRule(min_improvement=0.1, relative=True), 0.5, 0.55, "pass"),
        (ChampionRule(min_improvement=0.1, relative=True), 0.5, 0.549, "fail"),
        (ChampionRule(max_regression=0.1, relative=True), 0.5, 0.45, "pass"),
        (ChampionRule(max_regression=0.1, relative=True), 0.5, 0.449, "fail"),
    ],
)
def test_vs_champion_higher_is_better(
    rule: ChampionRule, champion: float, value: float, verdict: str
) -> None:
    row = rules.champion_row("m", "accuracy", rule, value, champion)
    assert row.verdict == verdict, row.reason
    assert row.champion_value == champion
    assert row.value == value


@pytest.mark.parametrize(
    ("rule", "champion", "value", "verdict"),
    [
        # lower is better: rmse must fall by the improvement, may rise by the regression
        (IMPROVE, 1.0, 0.98, "pass"),
        (IMPROVE, 1.0, 0.99, "fail"),
        (IMPROVE, 1.0, 1.02, "fail"),
        (REGRESS, 1.0, 1.02, "pass"),
        (REGRESS, 1.0, 1.021, "fail"),
        (REGRESS, 1.0, 0.5, "pass"),
        (ChampionRule(max_regression=0.1, relative=True), 2.0, 2.2, "pass"),
        (ChampionRule(max_regression=0.1, relative=True), 2.0, 2.21, "fail"),
    ],
)
def test_vs_champion_lower_is_better(
    rule: ChampionRule, champion: float, value: float, verdict: str
) -> None:
    row = rules.champion_row("m", "rmse", rule, value, champion)
    assert row.verdict == verdict, row.reason


def test_relative_amount_uses_the_champions_magnitude() -> None:
    # a negative champion (r2 can be below 0): 10% better is 0.1 * |-0.5| higher
    bound, sign = rules.champion_bound("r2", ChampionRule(min_improvement=0.1, relative=True), -0.5)
    assert sign == ">="
    assert bound == pytest.approx(-0.45)


@pytest.mark.parametrize(
    ("metric", "lower"),
    [
        ("accuracy", False),
        ("roc_auc", False),
        ("r2", False),
        ("rmse", True),
        ("mae", True),
        ("log_loss", True),
        ("mape", True),
        ("val_loss", True),
        ("mean_error", True),
        ("test_rmse", True),
    ],
)
def test_direction(metric: str, lower: bool) -> None:
    assert rules.lower_is_better(metric) is lower


def test_missing_values_fail_closed_unless_relaxed() -> None:
    why = Missing("metrics/m.json has no metric 'f1'")
    row = rules.threshold_row("m", "f1", "min", 0.5, why)
    assert row.verdict == "fail"
    assert not row.evaluated
    assert "has no metric 'f1'" in row.reason
    assert "fail closed" in row.reason
    relaxed = rules.threshold_row("m", "f1", "min", 0.5, why, fail_on_missing=False)
    assert relaxed.verdict == "pass"
    assert not relaxed.evaluated
    assert "fail_on_missing is false" in relaxed.reason
    champ = rules.champion_row("m", "f1", REGRESS, 0.9, Missing("champion file is not JSON"))
    assert champ.verdict == "fail"
    assert "champion: champion file is not JSON" in champ.reason
    relaxed = rules.champion_row("m", "f1", REGRESS, 0.9, Missing("x"), fail_on_missing=False)
    assert relaxed.verdict == "pass"


def test_no_champion_yet() -> None:
    row = rules.champion_row("m", "f1", REGRESS, 0.9, None)
    assert row.verdict == "pass"
    assert "no champion yet" in row.reason
    required = rules.champion_row("m", "f1", REGRESS, 0.9, None, require_champion=True)
    assert required.verdict == "fail"
    assert "require_champion" in required.reason


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (math.nan, "is NaN"),
        (math.inf, "is infinite"),
        (-math.inf, "is infinite"),
        ("0.9", "is not a number"),
        (True, "is not a number"),
        (None, "is not a number"),
    ],
)
def test_numbers_that_are_not_finite_numbers(value: object, why: str) -> None:
    got = number(value, "metrics/m.json: f1")
    assert isinstance(got, Missing)
    assert why in got.reason
    assert "metrics/m.json: f1" in got.reason


def test_metrics_file_problems_name_the_file() -> None:
    assert "does not exist" in str(parse_metrics("metrics/m.json", None).get("f1"))
    bad = parse_metrics("metrics/m.json", "{not json").get("f1")
    assert isinstance(bad, Missing)
    assert bad.reason.startswith("metrics/m.json is not JSON")
    arr = parse_metrics("metrics/m.json", "[1, 2]").get("f1")
    assert isinstance(arr, Missing)
    assert "not a JSON object" in arr.reason
    nan = parse_metrics("metrics/m.json", '{"f1": NaN}').get("f1")
    assert isinstance(nan, Missing)
    assert nan.reason == "metrics/m.json: f1 is NaN"
    assert parse_metrics("metrics/m.json", '{"f1": 0.5}').get("f1") == 0.5


def test_drift_gate_fails_at_the_share_and_names_columns() -> None:
    below = DriftReading(0.25, 1, 4, ("petal_width_cm",))
    row = rules.drift_row("m", 0.5, below)
    assert row.verdict == "pass"
    assert "petal_width_cm" in row.reason
    at = DriftReading(0.5, 2, 4, ("a", "b"))
    row = rules.drift_row("m", 0.5, at)
    assert row.verdict == "fail"
    assert "drifted: a, b" in row.reason
    assert row.actual == "0.5 (2/4 columns)"
    missing = rules.drift_row("m", 0.5, Missing("no drift result: metrics/m-drift.json"))
    assert missing.verdict == "fail"
    assert "no drift result" in missing.reason


def test_drift_reading_prefers_the_report_for_names() -> None:
    metrics = '{"drifted_share": 0.5, "drifted_columns": 1, "columns": 2}'
    report = '{"columns": {"a": {"drifted": true}, "b": {"drifted": false}}}'
    got = drift_reading("metrics/m-drift.json", metrics, "build/m/drift-report.json", report)
    assert isinstance(got, DriftReading)
    assert got.names == ("a",)
    unnamed = drift_reading("metrics/m-drift.json", metrics, "build/m/drift-report.json", None)
    assert isinstance(unnamed, DriftReading)
    assert unnamed.names is None
    absent = drift_reading("metrics/m-drift.json", None, "build/m/drift-report.json", report)
    assert isinstance(absent, Missing)
    assert "no drift result" in absent.reason
    nan = drift_reading("metrics/m-drift.json", '{"drifted_share": NaN}', "r", None)
    assert isinstance(nan, Missing)
    assert "NaN" in nan.reason
