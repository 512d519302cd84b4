"""The gates report's renderings: the table's columns and champion line, the JSON document's
fields, and Markdown that fits a pull-request body whatever the number of models."""

from __future__ import annotations

import json

from mlcode.gates import rules
from mlcode.gates.report import (
    MARKDOWN_LIMIT,
    ChampionInfo,
    GatesReport,
    model_gates,
)
from mlcode.gates.rules import ChampionRule, DriftReading

CHAMPION = ChampionInfo("iris", "v0.2.0", "a" * 40, "registry: iris@v0.2.0 (prod)")


def _report(model: str = "iris", accuracy: float = 0.9) -> GatesReport:
    rows = (
        rules.threshold_row(model, "accuracy", "min", 0.85, accuracy),
        rules.champion_row(model, "accuracy", ChampionRule(max_regression=0.02), accuracy, 0.95),
        rules.drift_row(model, 0.5, DriftReading(0.25, 1, 4, ("petal_width_cm",))),
    )
    return GatesReport.of((model_gates(model, rows, CHAMPION),))


def test_table_has_the_columns_the_champion_and_the_verdicts() -> None:
    text = _report().to_table()
    lines = text.splitlines()
    assert lines[0] == "Model iris: FAILED"
    assert lines[1] == (
        f"Champion: iris@v0.2.0 (commit {'a' * 12}), from registry: iris@v0.2.0 (prod); "
        "recorded metrics"
    )
    assert lines[2].split() == [
        "model",
        "gate",
        "rule",
        "expected",
        "actual",
        "champion",
        "verdict",
        "reason",
    ]
    assert "FAIL" in lines[4]
    assert "drifted: petal_width_cm" in lines[5]
    assert lines[-1] == "Gates failed for iris."


def test_json_document() -> None:
    doc = json.loads(json.dumps(_report(accuracy=0.96).to_json()))
    assert doc["format_version"] == 1
    assert doc["passed"] is True
    [model] = doc["models"]
    assert model["champion"] == {
        "model": "iris",
        "version": "v0.2.0",
        "commit": "a" * 40,
        "source": "registry: iris@v0.2.0 (prod)",
        "rescored": False,
        "note": "",
    }
    vs = model["gates"][1]
    assert vs == {
        "gate": "vs_champion",
        "metric": "accuracy",
        "rule": "accuracy regression vs champion <= 0.02",
        "expected": ">= 0.93",
        "actual": "0.96 (+0.01)",
        "champion": "0.95",
        "verdict": "pass",
        "reason": "accuracy 0.96 is better than the champion by 0.01 (0.95); needs >= 0.93",
        "value": 0.96,
        "bound": 0.95 - 0.02,
        "champion_value": 0.95,
        "evaluated": True,
        "interval": None,
    }


def test_markdown_escapes_cells_and_fits_a_pull_request_body() -> None:
    text = _report().to_markdown()
    assert text.startswith("## mlcode gates: FAILED\n")
    assert "| metric | accuracy >= 0.85 | >= 0.85 | 0.9 | - | pass |" in text
    assert "**fail**" in text
    weird = rules.threshold_row("m", "a|b<script>", "min", 1.0, 2.0)
    cell = GatesReport.of((model_gates("m", (weird,), None),)).to_markdown()
    assert "a\\|b&lt;script>" in cell
    assert "<script>" not in cell
    many = GatesReport.of(
        tuple(_report(f"model-{i:04d}").models[0] for i in range(2000))
    ).to_markdown()
    assert len(many) <= MARKDOWN_LIMIT
    assert many.endswith("run `mlcode gates --json` for everything)\n")


def test_champion_line_says_where_from() -> None:
    by_ref = ChampionInfo("iris", "v0.1.0", "b" * 40, "--champion v0.1.0", note="a note")
    assert by_ref.describe() == (
        f"iris@v0.1.0 (commit {'b' * 12}), from --champion v0.1.0; recorded metrics; a note"
    )
    rescored = ChampionInfo("iris", None, "c" * 40, "base branch origin/main", rescored=True)
    assert rescored.describe() == (
        f"commit {'c' * 12}, from base branch origin/main; re-scored on the current test set"
    )
    none = ChampionInfo("iris", None, None, "base branch main", note="main has no metrics")
    assert none.describe() == "no champion yet (base branch main); main has no metrics"


def test_models_without_gates_and_no_models() -> None:
    empty = GatesReport.of((model_gates("m", (), None),))
    assert empty.passed
    assert "No gates declared for this model." in empty.to_table()
    assert GatesReport.of(()).to_table() == "No models to evaluate.\n"
