"""The pure parts of the fair comparison: when two test sets count as the same (dvc.lock's split
hash), and how a bootstrap interval decides a `vs_champion` rule."""

from __future__ import annotations

import pytest

from mlcode.gates import rules
from mlcode.gates.comparable import compare, out_hash
from mlcode.gates.rules import ChampionRule

SPLIT = "build/iris/test.parquet"


def _lock(md5: str, path: str = SPLIT) -> str:
    return f"""schema: '2.0'
stages:
  prepare_iris:
    cmd: mlcode step prepare iris
    outs:
    - path: build/iris/train.parquet
      hash: md5
      md5: 1332db05671ef1a282ba89c9acf3c0a3
      size: 4534
    - path: {path}
      hash: md5
      md5: {md5}
      size: 4102
"""


def test_the_same_split_hash_is_the_same_test_set() -> None:
    same = compare(_lock("aaa"), _lock("aaa"), SPLIT)
    assert same.same
    assert same.why == "test set unchanged"
    assert out_hash(_lock("aaa"), SPLIT) == "md5:aaa"
    # YAML would read these as numbers; they are hashes
    assert out_hash(_lock("0" * 32), SPLIT) == "md5:" + "0" * 32
    assert not compare(_lock("0" * 32), _lock("0" * 31), SPLIT).same


@pytest.mark.parametrize(
    ("champion", "current", "why"),
    [
        (_lock("aaa"), _lock("bbb"), "the test set changed since the champion"),
        (None, _lock("bbb"), "the champion's commit has no dvc.lock"),
        (_lock("aaa", "build/other/test.parquet"), _lock("bbb"), "records no hash for it"),
        ("stages: [not, a, mapping", _lock("bbb"), "records no hash for it"),
        (_lock("aaa"), None, "the current dvc.lock records no"),
    ],
)
def test_anything_but_two_equal_hashes_is_a_changed_test_set(
    champion: str | None, current: str | None, why: str
) -> None:
    result = compare(champion, current, SPLIT)
    assert not result.same
    assert why in result.why


def _row(rule: ChampionRule, interval: tuple[float, float], metric: str = "accuracy") -> str:
    row = rules.champion_row("m", metric, rule, 0.9, 0.88, interval=interval, confidence=0.95)
    assert row.confidence == 0.95
    assert row.interval == interval
    return row.verdict


@pytest.mark.parametrize(
    ("rule", "interval", "metric", "verdict"),
    [
        # an improvement counts only when the interval's lower end clears min_improvement
        (ChampionRule(min_improvement=0.01), (0.012, 0.05), "accuracy", "pass"),
        (ChampionRule(min_improvement=0.01), (-0.01, 0.05), "accuracy", "fail"),
        (ChampionRule(min_improvement=0.0), (0.0, 0.0), "accuracy", "pass"),  # on the bound
        # lower is better: the difference's upper end must be below -min_improvement
        (ChampionRule(min_improvement=0.01), (-0.05, -0.012), "rmse", "pass"),
        (ChampionRule(min_improvement=0.01), (-0.05, 0.01), "rmse", "fail"),
        # relative: a fraction of the champion's value (0.88 * 0.05 = 0.044)
        (ChampionRule(min_improvement=0.05, relative=True), (0.045, 0.06), "accuracy", "pass"),
        (ChampionRule(min_improvement=0.05, relative=True), (0.04, 0.06), "accuracy", "fail"),
        # a regression fails only when the interval says it is beyond max_regression
        (ChampionRule(max_regression=0.02), (-0.08, 0.01), "accuracy", "pass"),
        (ChampionRule(max_regression=0.02), (-0.08, -0.03), "accuracy", "fail"),
        (ChampionRule(max_regression=0.02), (-0.01, 0.08), "rmse", "pass"),
        (ChampionRule(max_regression=0.02), (0.03, 0.08), "rmse", "fail"),
    ],
)
def test_an_interval_decides_a_rule_with_confidence(
    rule: ChampionRule, interval: tuple[float, float], metric: str, verdict: str
) -> None:
    assert _row(rule, interval, metric) == verdict


def test_a_confidence_rule_without_an_interval_fails_closed() -> None:
    row = rules.champion_row(
        "m", "accuracy", ChampionRule(min_improvement=0.0), 0.9, 0.8, confidence=0.95
    )
    assert row.verdict == "fail"
    assert not row.evaluated
    assert row.reason == "no 95% interval was computed (fail closed)"


def test_the_row_shows_the_interval() -> None:
    row = rules.champion_row(
        "m",
        "accuracy",
        ChampionRule(min_improvement=0.02),
        0.921053,
        0.894737,
        interval=(-0.026316, 0.078947),
        confidence=0.95,
    )
    assert row.actual == "0.921053 (+0.026316; 95% interval [-0.026316, +0.078947])"
    assert row.expected == "improvement >= 0.02 at 95%"
    assert row.reason.startswith("the improvement is not shown at 95%")
    assert row.to_json()["interval"] == [-0.026316, 0.078947]
    assert row.to_json()["confidence"] == 0.95
