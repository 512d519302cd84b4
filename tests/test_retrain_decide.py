"""`mlcode.retrain.decide`: every `retrain.when` against every kind of evidence (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlcode.retrain.decide import FIRST_VERSION, DataEvidence, Decision, When, decide

A = "1a2b3c4d5e6f708192a3b4c5d6e7f809"
B = "4d5e6f708192a3b4c5d6e7f8091a2b3c"
C = "c0ffee" * 5 + "00"
COLS = ("sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm")

NO_CHAMPION = DataEvidence(None, None, A, None)
SAME = DataEvidence(C, A, A, None)
CHANGED = DataEvidence(C, A, B, None)
CHAMPION_UNRECORDED = DataEvidence(C, None, B, None)
NOW_UNKNOWN = DataEvidence(C, A, None, None)
DRIFTED = DataEvidence(C, A, B, 0.75, COLS[:3], 4)
ALL_DRIFTED = DataEvidence(C, A, B, 1.0, COLS, 4)
SOME_DRIFT = DataEvidence(C, A, B, 0.25, COLS[:1], 4)
NO_DRIFT = DataEvidence(C, A, B, 0.0, (), 4)
SAME_NO_DRIFT = DataEvidence(C, A, A, 0.0, (), 4)
NO_COLUMNS = DataEvidence(C, A, B, 0.0, (), 0)

CASES: list[tuple[When, DataEvidence, float, bool, str]] = [
    ("always", NO_CHAMPION, 0.5, True, "retrain.when is always"),
    ("always", SAME, 0.5, True, "retrain.when is always"),
    ("always", SAME_NO_DRIFT, 0.5, True, "retrain.when is always"),
    ("data_changed", NO_CHAMPION, 0.5, True, FIRST_VERSION),
    ("data_changed", SAME, 0.5, False, "data unchanged (md5 1a2b3c4d)"),
    ("data_changed", CHANGED, 0.5, True, "data changed (md5 1a2b3c4d → 4d5e6f70)"),
    (
        "data_changed",
        CHAMPION_UNRECORDED,
        0.5,
        True,
        "data changed (the champion's commit has no record of it → md5 4d5e6f70)",
    ),
    (
        "data_changed",
        NOW_UNKNOWN,
        0.5,
        True,
        "training data md5 unknown now (not tracked by DVC?): counted as changed",
    ),
    # drift measured but `when` is data_changed: the md5s decide, not the drift
    ("data_changed", SAME_NO_DRIFT, 0.5, False, "data unchanged (md5 1a2b3c4d)"),
    ("data_changed", NO_DRIFT, 0.5, True, "data changed (md5 1a2b3c4d → 4d5e6f70)"),
    ("drift", NO_CHAMPION, 0.5, True, FIRST_VERSION),
    (
        "drift",
        DRIFTED,
        0.5,
        True,
        "drift 3/4 columns ≥ 0.5 (sepal_length_cm, sepal_width_cm, petal_length_cm)",
    ),
    (
        "drift",
        ALL_DRIFTED,
        1.0,
        True,
        "drift 4/4 columns ≥ 1 (sepal_length_cm, sepal_width_cm, petal_length_cm, ...)",
    ),
    (
        "drift",
        DRIFTED,
        0.8,
        False,
        "no drift: 3/4 columns < 0.8 (sepal_length_cm, sepal_width_cm, petal_length_cm)",
    ),
    ("drift", SOME_DRIFT, 0.25, True, "drift 1/4 columns ≥ 0.25 (sepal_length_cm)"),
    ("drift", SOME_DRIFT, 0.5, False, "no drift: 1/4 columns < 0.5 (sepal_length_cm)"),
    ("drift", NO_DRIFT, 0.5, False, "no drift: 0/4 columns < 0.5"),
    ("drift", SAME_NO_DRIFT, 0.5, False, "no drift: 0/4 columns < 0.5, data unchanged"),
    ("drift", NO_COLUMNS, 0.5, False, "no drift measured: no column to compare"),
]


@pytest.mark.parametrize(("when", "evidence", "share", "retrain", "why"), CASES)
def test_decide(when: When, evidence: DataEvidence, share: float, retrain: bool, why: str) -> None:
    assert decide(when, evidence, share) == Decision(when, retrain, why)


def test_decision_json() -> None:
    decision = decide("data_changed", CHANGED, 0.5)
    assert decision.to_json() == {
        "when": "data_changed",
        "retrain": True,
        "why": "data changed (md5 1a2b3c4d → 4d5e6f70)",
    }


def test_evidence_json() -> None:
    assert DRIFTED.to_json() == {
        "champion_commit": C,
        "champion_md5": A,
        "current_md5": B,
        "drifted_share": 0.75,
        "drifted_columns": list(COLS[:3]),
        "n_columns": 4,
    }


@pytest.mark.parametrize(
    ("evidence", "detail"),
    [
        (NO_CHAMPION, "no champion to compare with"),
        (CHANGED, "not measured"),
        (DRIFTED, "3/4 columns drifted (share 0.75)"),
        (SAME_NO_DRIFT, "0/4 columns drifted (share 0.00) (data unchanged)"),
        (NO_COLUMNS, "no column to compare"),
    ],
)
def test_drift_detail(evidence: DataEvidence, detail: str) -> None:
    assert evidence.drift_detail == detail


@pytest.mark.parametrize(
    ("when", "evidence", "share", "message"),
    [
        ("sometimes", SAME, 0.5, "retrain.when must be one of always, data_changed, drift"),
        ("drift", SAME, 0.5, "the evidence has no drift measured"),
        ("drift", DRIFTED, 0.0, "max_drifted_share must be in (0, 1]"),
        ("drift", DRIFTED, 1.5, "max_drifted_share must be in (0, 1]"),
    ],
)
def test_caller_mistakes_are_refused(
    when: When, evidence: DataEvidence, share: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        decide(when, evidence, share)


md5s = st.one_of(st.none(), st.sampled_from([A, B]))
commits = st.one_of(st.none(), st.just(C))


@st.composite
def evidences(draw: st.DrawFn) -> DataEvidence:
    n = draw(st.integers(0, 12))
    drifted = draw(st.integers(0, n))
    names = tuple(f"c{i}" for i in range(drifted))
    return DataEvidence(
        draw(commits),
        draw(md5s),
        draw(md5s),
        drifted / n if n else 0.0,
        names,
        n,
    )


@given(
    st.sampled_from(["always", "data_changed", "drift"]),
    evidences(),
    st.floats(min_value=0.01, max_value=1.0),
)
def test_rules_hold_for_any_evidence(when: When, evidence: DataEvidence, share: float) -> None:
    decision = decide(when, evidence, share)
    first = evidence.champion_commit is None
    changed = evidence.current_md5 is None or evidence.current_md5 != evidence.champion_md5
    drifted = (
        evidence.n_columns > 0
        and evidence.drifted_share is not None
        and (evidence.drifted_share >= share)
    )
    expected = {"always": True, "data_changed": first or changed, "drift": first or drifted}
    assert decision.retrain is expected[when]
    assert decision.when == when
    assert "\n" not in decision.why
    assert decision.why
    if first and when != "always":
        assert decision.why == FIRST_VERSION
