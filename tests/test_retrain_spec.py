"""`models.<m>.retrain` in ml.yaml: its default, its values, and `max_drifted_share` only with
`when: drift` (located at file:line:column like every semantic check)."""

from __future__ import annotations

import pytest

from mlcode.errors import Problem, SpecError
from mlcode.spec import semantic
from mlcode.spec.load import parse_spec
from mlcode.spec.model import MlSpec
from mlcode.spec.yamlsource import parse

DOC = """\
version: 1
project: demo
data:
  iris:
    path: data/iris.csv
    target: species
    features: {numeric: [a, b]}
models:
  clf:
    task: classification
    data: iris
    estimator: sklearn.linear_model.LogisticRegression
"""


def _load(body: str) -> tuple[MlSpec, list[Problem]]:
    source = parse(DOC + body, "ml.yaml")
    spec = parse_spec(source)
    return spec, semantic.check(spec, source.positions)


def test_default_is_data_changed_at_half() -> None:
    spec, problems = _load("")
    assert problems == []
    assert spec.models["clf"].retrain.when == "data_changed"
    assert spec.models["clf"].retrain.max_drifted_share == 0.5


@pytest.mark.parametrize("when", ["always", "data_changed", "drift"])
def test_each_when_is_accepted(when: str) -> None:
    spec, problems = _load(f"    retrain: {{when: {when}}}\n")
    assert problems == []
    assert spec.models["clf"].retrain.when == when


def test_drift_with_its_share() -> None:
    spec, problems = _load("    retrain:\n      when: drift\n      max_drifted_share: 0.25\n")
    assert problems == []
    assert spec.models["clf"].retrain.max_drifted_share == 0.25


@pytest.mark.parametrize("when", ["always", "data_changed"])
def test_share_with_another_when_is_located(when: str) -> None:
    body = f"    retrain:\n      when: {when}\n      max_drifted_share: 0.3\n"
    [problem] = _load(body)[1]
    assert problem.field == "models.clf.retrain.max_drifted_share"
    assert (problem.location.line, problem.location.column) == (15, 26)
    assert "only applies with `when: drift`" in problem.message
    assert repr(when) in problem.message


def test_share_without_when_means_data_changed_and_is_refused() -> None:
    [problem] = _load("    retrain: {max_drifted_share: 0.3}\n")[1]
    assert problem.field == "models.clf.retrain.max_drifted_share"


@pytest.mark.parametrize(
    "body",
    [
        "    retrain: {when: sometimes}\n",
        "    retrain: {when: drift, max_drifted_share: 0}\n",
        "    retrain: {when: drift, max_drifted_share: 1.5}\n",
        "    retrain: {when: drift, share: 0.5}\n",
    ],
)
def test_bad_values_are_schema_errors(body: str) -> None:
    with pytest.raises(SpecError) as caught:
        _load(body)
    assert "retrain" in str(caught.value)
