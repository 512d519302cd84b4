"""The pydantic models of ml.yaml: defaults, refusals and the name rules (with their reasons)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from mlcode.spec import names
from mlcode.spec.model import Dataset, MetricGate, MlSpec, Model, Split, UserStage, VsChampion


def _spec(**extra: Any) -> dict[str, Any]:
    return {"version": 1, "project": "demo", **extra}


def _model(**extra: Any) -> dict[str, Any]:
    return {"task": "classification", "data": "d", "estimator": "a.B", **extra}


def test_minimal_spec_defaults() -> None:
    spec = MlSpec.model_validate(_spec())
    assert spec.stack == "local"
    assert spec.data == {}
    assert spec.models == {}
    assert spec.ci.python == "3.11"
    assert spec.ci.retrain_on_data_change is True


def test_model_defaults_and_resolved_metrics() -> None:
    model = Model.model_validate(_model())
    assert model.split == Split(test_size=0.2, seed=42, stratify=None)
    assert model.resolved_metrics == names.DEFAULT_METRICS["classification"]
    assert model.promotion.mode == "pr"
    assert model.gates.fail_on_missing is True
    declared = Model.model_validate(_model(metrics=["f1"]))
    assert declared.resolved_metrics == ("f1",)


@pytest.mark.parametrize(
    ("path", "fmt"),
    [("a.csv", "csv"), ("a.parquet", "parquet"), ("a.PQ", "parquet"), ("a.txt", "csv")],
)
def test_dataset_resolved_format(path: str, fmt: str) -> None:
    assert Dataset(path=path).resolved_format == fmt
    assert Dataset(path=path, format="parquet").resolved_format == "parquet"


def test_dataset_columns_numeric_first() -> None:
    ds = Dataset.model_validate(
        {"path": "a.csv", "features": {"categorical": ["c"], "numeric": ["a", "b"]}}
    )
    assert ds.columns == ["a", "b", "c"]


def test_models_are_frozen() -> None:
    spec = MlSpec.model_validate(_spec())
    with pytest.raises(ValidationError):
        spec.project = "other"  # type: ignore[misc]


@pytest.mark.parametrize("section", ["", "data.d", "models.m", "ci"])
def test_unknown_keys_forbidden_everywhere(section: str) -> None:
    doc = _spec(data={"d": {"path": "a.csv"}}, models={"m": _model()}, ci={})
    target: dict[str, Any] = doc
    for part in section.split(".") if section else []:
        target = target[part]
    target["surprise"] = 1
    with pytest.raises(ValidationError) as info:
        MlSpec.model_validate(doc)
    assert [e["type"] for e in info.value.errors()] == ["extra_forbidden"]


@pytest.mark.parametrize("name", ["churn", "a", "churn-v2", "0", "a" * 63])
def test_good_model_names(name: str) -> None:
    assert names.MODEL_NAME.match(name)


@pytest.mark.parametrize(
    "name", ["Churn", "churn_v2", "-churn", "churn-", "a" * 64, "", "ch urn", "chürn", "a.b"]
)
def test_bad_model_names_give_the_reason(name: str) -> None:
    with pytest.raises(ValidationError) as info:
        MlSpec.model_validate(_spec(models={name: _model()}))
    text = str(info.value)
    assert "it becomes a git tag, a branch name" in text


@pytest.mark.parametrize("name", ["my_data", "d-1", "x"])
def test_dataset_names_may_use_underscore(name: str) -> None:
    MlSpec.model_validate(_spec(data={name: {"path": "a.csv"}}))


@pytest.mark.parametrize("name", ["My", "_x", "x_", "a b", "a" * 64])
def test_bad_project_names(name: str) -> None:
    with pytest.raises(ValidationError, match="it becomes a DVC stage name"):
        MlSpec.model_validate(_spec(project=name))


def test_stage_name_joins_step_and_model() -> None:
    assert names.stage_name("train", "churn") == "train_churn"


@pytest.mark.parametrize(
    "value",
    [True, 1.0, 2, "1", None],
)
def test_version_must_be_exactly_one(value: Any) -> None:
    with pytest.raises(ValidationError):
        MlSpec.model_validate({"version": value, "project": "demo"})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seed", True),
        ("seed", 1.5),
        ("seed", -1),
        ("seed", 2**32),
        ("test_size", 0),
        ("test_size", 1),
        ("test_size", "0.2"),
        ("stratify", "yes"),
    ],
)
def test_split_refuses(field: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        Split.model_validate({field: value})


def test_integers_are_accepted_for_floats() -> None:
    assert MetricGate.model_validate({"metric": "f1", "min": 1}).min == 1.0


@pytest.mark.parametrize(
    "rule", [{}, {"min_improvement": 0.1, "max_regression": 0.1}, {"relative": True}]
)
def test_vs_champion_needs_exactly_one_rule(rule: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="exactly one of min_improvement or max_regression"):
        VsChampion.model_validate(rule)


def test_vs_champion_max_regression_not_negative() -> None:
    with pytest.raises(ValidationError):
        VsChampion.model_validate({"max_regression": -0.1})


def test_metric_gate_rules() -> None:
    with pytest.raises(ValidationError, match="needs min, max or vs_champion"):
        MetricGate.model_validate({"metric": "f1"})
    with pytest.raises(ValidationError, match=r"min \(0.9\) is greater than max \(0.1\)"):
        MetricGate.model_validate({"metric": "f1", "min": 0.9, "max": 0.1})
    MetricGate.model_validate({"metric": "f1", "min": 0.5, "max": 0.5})


def test_model_needs_estimator_or_train() -> None:
    with pytest.raises(ValidationError, match="set `estimator`"):
        Model.model_validate({"task": "regression", "data": "d"})
    Model.model_validate({"task": "regression", "data": "d", "train": {"cmd": "python t.py"}})


@pytest.mark.parametrize("path", ["sklearn", "sklearn.", ".x", "a..b", "a.b-c", "1a.B", "a.B()"])
def test_estimator_paths_refused(path: str) -> None:
    with pytest.raises(ValidationError, match="is not an import path"):
        Model.model_validate(_model(estimator=path))


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("/abs.csv", "absolute"),
        ("C:/x.csv", "absolute"),
        ("..\\x.csv", "leaves the repository"),
        ("a/../../x.csv", "leaves the repository"),
        ("", "non-empty single line"),
    ],
)
def test_dataset_paths_refused(path: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        Dataset(path=path)


@pytest.mark.parametrize("column", ["", " a", "a ", "a\tb", "a\nb"])
def test_column_names_refused(column: str) -> None:
    with pytest.raises(ValidationError, match="invalid column name"):
        Dataset.model_validate({"path": "a.csv", "target": column})


@pytest.mark.parametrize(
    ("stage", "fragment"),
    [
        ({"foreach": [1]}, "`foreach` needs a `do`"),
        ({"foreach": [1], "do": {"cmd": "x"}, "cmd": "y"}, "a stage holds only `foreach` and `do`"),
        ({"do": {"cmd": "x"}}, "only valid together with `foreach`"),
        ({"deps": ["a"]}, "a stage needs `cmd`"),
    ],
)
def test_user_stage_shape(stage: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        UserStage.model_validate(stage)


def test_user_stage_foreach_ok() -> None:
    UserStage.model_validate({"foreach": ["a", "b"], "do": {"cmd": "echo ${item}"}})


@pytest.mark.parametrize(
    ("field", "value"), [("python", "2.7"), ("python", "3"), ("runner", "a b")]
)
def test_ci_patterns(field: str, value: str) -> None:
    with pytest.raises(ValidationError):
        MlSpec.model_validate(_spec(ci={field: value}))


def test_ci_install_defaults_to_none_and_is_checked() -> None:
    assert MlSpec.model_validate(_spec()).ci.install is None
    pinned = MlSpec.model_validate(_spec(ci={"install": "mlcode-git==0.1.0"}))
    assert pinned.ci.install == "mlcode-git==0.1.0"
    with pytest.raises(ValidationError) as info:
        MlSpec.model_validate(_spec(ci={"install": "mlcode==0.1.0"}))
    [error] = info.value.errors()
    assert error["loc"][:2] == ("ci", "install")
    assert "unrelated project" in error["msg"]
