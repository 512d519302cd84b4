"""The retrain summary as values: each model's outcome from its steps, the run's outcome and exit
code by precedence (3 > 1 > 0 > 4), the `--json` shape the generated CI reads, and a table that
stays readable in 100 columns."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlcode.retrain.summary import (
    EXIT,
    STEPS,
    ModelResult,
    RetrainResult,
    Step,
    paragraph,
    run_outcome,
    skipped,
)


def _model(name: str, kind: str) -> ModelResult:
    m = ModelResult(name, "data_changed", {"refresh": Step("done", "iris: new data", "new data")})
    if kind == "error":
        m.fail("run", "dvc repro failed (exit 1): dvc repro train_x\nERROR: boom")
        return m
    m.retrain = kind != "nothing to do"
    m.why = "data changed (md5 1a2b3c4d → 5e6f7a8b)" if m.retrain else "data unchanged (md5 1a)"
    if kind == "nothing to do":
        for s in ("run", "gates", "promote"):
            m.steps[s] = skipped("no retrain")
        return m
    m.steps["run"] = Step("done", "dvc repro: train_x", "ran")
    if kind == "gates said no":
        m.steps["gates"] = Step("failed", "accuracy min 0.85: 0.41", "failed")
        m.steps["promote"] = skipped("a gate failed")
        return m
    m.steps["gates"] = Step("done", "3 gate(s) passed", "passed")
    m.steps["promote"] = Step("done", "new version v0.2.0", "v0.2.0")
    m.version, m.branch = "v0.2.0", f"mlcode/promote/{name}/v0.2.0"
    return m


KINDS = ["promoted", "nothing to do", "gates said no", "error"]


@pytest.mark.parametrize("kind", KINDS)
def test_model_outcome_follows_its_steps(kind: str) -> None:
    assert _model("x", kind).outcome == kind


@pytest.mark.parametrize(
    ("kinds", "outcome", "code"),
    [
        (["promoted"], "promoted", 0),
        (["nothing to do"], "nothing to do", 4),
        (["gates said no"], "gates said no", 1),
        (["error"], "error", 3),
        (["promoted", "nothing to do"], "promoted", 0),
        (["promoted", "gates said no"], "gates said no", 1),
        (["gates said no", "error", "promoted"], "error", 3),
        (["nothing to do", "nothing to do"], "nothing to do", 4),
    ],
)
def test_run_outcome_and_exit_code(kinds: list[str], outcome: str, code: int) -> None:
    result = RetrainResult([], [_model(f"m{i}", k) for i, k in enumerate(kinds)])
    assert (result.outcome, result.exit_code) == (outcome, code)


@given(st.lists(st.sampled_from(KINDS), min_size=1, max_size=6))
def test_precedence_is_error_then_gates_then_promoted(kinds: list[str]) -> None:
    got = run_outcome(kinds)  # type: ignore[arg-type]
    expected = next(
        k for k in ("error", "gates said no", "promoted", "nothing to do") if k in kinds
    )
    assert got == expected
    assert EXIT[got] == {"error": 3, "gates said no": 1, "promoted": 0, "nothing to do": 4}[got]


def test_json_shape_is_the_contract() -> None:
    result = RetrainResult(
        [{"dataset": "iris", "changed": True}],
        [_model("a", "promoted"), _model("b", "error")],
    )
    doc = result.to_json()
    assert set(doc) == {"outcome", "exit_code", "refresh", "models", "uncommitted", "error", "hint"}
    assert (doc["outcome"], doc["exit_code"]) == ("error", 3)
    assert doc["uncommitted"] == []
    assert (doc["error"], doc["hint"]) == (None, None)  # a model's error is the model's
    assert doc["refresh"] == [{"dataset": "iris", "changed": True}]
    a, b = doc["models"]
    assert set(a) == {
        "model",
        "outcome",
        "decision",
        "steps",
        "branch",
        "version",
        "error",
        "hint",
    }
    assert set(a["decision"]) == {"when", "retrain", "why"}
    assert list(a["steps"]) == list(STEPS)
    for entry in (a, b):
        for step in entry["steps"].values():
            assert set(step) == {"status", "detail"}
            assert step["status"] in ("done", "skipped", "failed")
    assert a["branch"] == "mlcode/promote/a/v0.2.0"
    assert a["version"] == "v0.2.0"
    assert a["error"] is None
    assert b["outcome"] == "error"
    assert b["branch"] is None
    assert b["steps"]["run"]["status"] == "failed"
    assert b["steps"]["gates"] == {"status": "skipped", "detail": "not reached"}
    assert "ERROR: boom" in b["error"]


def test_long_dvc_failure_keeps_first_and_last_lines() -> None:
    lines = ["dvc repro failed (exit 1): dvc repro train_x"] + [f"line {i}" for i in range(50)]
    text = paragraph("\n".join(lines))
    assert text.startswith("dvc repro failed (exit 1)")
    assert text.endswith("line 46 line 47 line 48 line 49")
    assert "line 10" not in text
    assert paragraph("one line") == "one line"


def test_table_fits_100_columns_with_long_names_and_details() -> None:
    models = [_model(name, kind) for name, kind in zip(["m" * 40, "b"], KINDS, strict=False)]
    models += [_model(f"c{i}", k) for i, k in enumerate(KINDS)]
    models[0].steps["gates"] = Step("done", "x" * 300 + " " + "word " * 80, "passed")
    table = RetrainResult([], models).to_table()
    assert max(len(line) for line in table.splitlines()) <= 100
    head = table.splitlines()[0].split()
    assert head == ["MODEL", "REFRESH", "DRIFT", "DECISION", "RUN", "GATES", "PROMOTE", "OUTCOME"]
    for kind in KINDS:
        assert kind in table
    assert "Outcome: error (exit 3)." in table
    assert "ERROR: boom" in table  # the error's paragraph is below the table
    assert "mlcode/promote/c0/v0.2.0" in table


def test_every_outcome_combination_renders() -> None:
    for kinds in itertools.product(KINDS, repeat=2):
        result = RetrainResult([], [_model(f"m{i}", k) for i, k in enumerate(kinds)])
        assert f"(exit {result.exit_code})" in result.to_table()


def test_undecided_model_shows_no_decision() -> None:
    m = ModelResult("iris", "drift")
    m.fail("refresh", "dataset 'iris': its source ../feed/iris.csv failed")
    m.why = "not decided: the refresh failed"
    row = RetrainResult([], [m]).to_table().splitlines()[1].split()
    assert row == ["iris", "failed", "-", "-", "-", "-", "-", "error"]


def test_an_error_and_its_hint_stay_apart_in_json_and_table() -> None:
    """The hint is its own field in `--json` (`error` is the message only) and its own line in
    the table, never glued to the message with a space."""
    m = ModelResult("x", "data_changed", {"refresh": Step("done", "iris: new data", "new data")})
    m.fail(
        "promote",
        "the forge needs a token from it",
        hint="Export GITLAB_TOKEN with the api scope and run again.",
    )
    doc = m.to_json()
    assert doc["error"] == "the forge needs a token from it"
    assert doc["hint"] == "Export GITLAB_TOKEN with the api scope and run again."
    assert doc["steps"]["promote"]["detail"] == "the forge needs a token from it"
    table = RetrainResult([], [m]).to_table().splitlines()
    assert "  promote (failed): the forge needs a token from it" in table
    [hint] = [line for line in table if "GITLAB_TOKEN" in line]
    assert hint.strip() == "hint: Export GITLAB_TOKEN with the api scope and run again."
    assert "from it Export" not in "\n".join(table)
    # a model without error has no hint
    assert _model("y", "promoted").to_json()["hint"] is None


def test_a_whole_run_error_is_a_json_document_too() -> None:
    """A failure before any model (lock held, bad ml.yaml) still gives the scheduled job one JSON
    object on stdout: the same shape, outcome error, exit 3, no model, the message and hint."""
    from mlcode.retrain.summary import run_error

    doc = run_error("another mlcode retrain holds the lock .mlcode/retrain.lock", "Wait.")
    assert doc == {
        "outcome": "error",
        "exit_code": 3,
        "refresh": [],
        "models": [],
        "uncommitted": [],
        "error": "another mlcode retrain holds the lock .mlcode/retrain.lock",
        "hint": "Wait.",
    }
