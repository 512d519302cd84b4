"""Fuzzing ml.yaml loading: whatever the bytes, only SpecError escapes, and it is located.

(a) random YAML-ish text, random bytes and random nested data dumped to YAML;
(b) mutations of a valid ml.yaml, on its text (delete, duplicate or truncate lines, insert tabs,
replace values) and on its data (delete or rename a key, replace a value).
Every outcome is either a valid project or a SpecError whose problems name ml.yaml with a line and
column >= 1 inside the file.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlcode.errors import SpecError
from mlcode.spec.load import load_project

VALID = """\
version: 1
project: demo
stack: local
data:
  customers:
    path: data/customers.csv
    target: churned
    id_column: id
    features:
      numeric: [age, tenure]
      categorical: [plan]
  latest:
    path: data/latest.parquet
    target: churned
    features: {numeric: [age, tenure], categorical: [plan]}
models:
  churn:
    task: classification
    data: customers
    estimator: sklearn.ensemble.RandomForestClassifier
    params: {n_estimators: 10, max_depth: 3}
    split: {test_size: 0.25, seed: 1, stratify: true}
    metrics: [accuracy, f1, roc_auc]
    gates:
      metrics:
        - metric: accuracy
          min: 0.5
          max: 1.0
        - {metric: f1, vs_champion: {max_regression: 0.01, relative: true}}
      drift:
        reference: customers
        current: latest
        method: psi
        columns:
          age: {threshold: 0.2}
          plan: {ignore: true}
      fail_on_missing: true
    promotion:
      mode: pr
      base: main
      stage: prod
      reviewers: [alice]
  price:
    task: regression
    data: customers
    train:
      cmd: python train.py
      deps: [train.py]
      outs: [models/price.pkl]
stages:
  report:
    cmd: [python report.py]
    deps: [report.py]
    outs: [{report.html: {cache: false}}]
ci:
  schedule: "0 3 * * 1"
  python: "3.11"
"""

KEYS = [
    "version",
    "project",
    "stack",
    "data",
    "models",
    "stages",
    "ci",
    "path",
    "target",
    "features",
    "numeric",
    "task",
    "estimator",
    "gates",
    "metrics",
    "min",
    "max",
    "vs_champion",
    "drift",
    "schedule",
    "cmd",
    "foreach",
    "do",
    "churn",
    "customers",
]

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ_DATA = settings(FUZZ, max_examples=100)  # nested data is slower to generate


def _check(raw: bytes | str) -> None:
    """Load `raw` as ml.yaml: valid, or a SpecError whose problems are all located in the file."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    error: SpecError | None = None
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "ml.yaml").write_bytes(data)
        try:
            load_project(root)
        except SpecError as exc:  # anything else fails the test with its traceback
            error = exc
    if error is None:
        return
    assert error.problems, "a SpecError must carry problems"
    # YAML also breaks lines at \r, \x85, \u2028 and \u2029; splitlines() is an upper bound.
    n_lines = len(data.decode("utf-8", "replace").splitlines()) + 1
    for problem in error.problems:
        assert problem.location.file == "ml.yaml", problem
        assert problem.message, problem
        assert isinstance(problem.field, str)
        assert problem.location.line >= 1, problem
        assert problem.location.column >= 1, problem
        assert problem.location.line <= n_lines + 1, problem
    assert "Traceback" not in error.render()


# --- (a) random documents -------------------------------------------------------------------

yamlish_text = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "version: 1\n",
                "project: demo\n",
                "models:\n",
                "  churn:\n",
                "    task: classification\n",
                "- ",
                ": ",
                "  ",
                "\t",
                "\n",
                "[",
                "]",
                "{",
                "}",
                ", ",
                "&a ",
                "*a",
                "<<: ",
                "!!python/object ",
                "!x ",
                "---\n",
                "...\n",
                "? ",
                "|\n",
                ">-\n",
                "'",
                '"',
                "# c\n",
                "%YAML 1.1\n",
                "~",
                "\ufeff",
                "\x00",
            ]
        ),
        st.text(max_size=12),
    ),
    max_size=40,
).map("".join)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["1", "classification", "local", "0 3 * * 1", "a.B", "customers", ""]),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=10))
nested = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=15,
)


@FUZZ
@given(yamlish_text)
def test_random_yamlish_text(text: str) -> None:
    _check(text)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(raw: bytes) -> None:
    _check(raw)


@FUZZ_DATA
@given(st.dictionaries(keys, nested, max_size=8))
def test_random_nested_data(data: dict[str, Any]) -> None:
    _check(yaml.safe_dump(data, allow_unicode=True))


@FUZZ_DATA
@given(nested, st.sampled_from(["data", "models", "stages", "ci", "project", "version"]))
def test_random_data_under_real_sections(value: Any, section: str) -> None:
    doc = yaml.safe_load(VALID)
    doc[section] = value
    _check(yaml.safe_dump(doc, allow_unicode=True))


# --- (b) mutations of a valid ml.yaml -------------------------------------------------------


def test_fuzz_base_is_valid() -> None:
    """The mutation base must itself be valid, or every mutation test is vacuous."""
    _check(VALID)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "ml.yaml").write_text(VALID)
        project = load_project(Path(tmp))
    assert sorted(project.spec.models) == ["churn", "price"]


LINES = VALID.splitlines(keepends=True)
line_index = st.integers(min_value=0, max_value=len(LINES) - 1)


@st.composite
def text_mutation(draw: st.DrawFn) -> str:
    lines = list(LINES)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        i = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "tab", "truncate", "value", "insert"]))
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "tab":
            at = draw(st.integers(min_value=0, max_value=len(lines[i])))
            lines[i] = lines[i][:at] + "\t" + lines[i][at:]
        elif op == "truncate":
            text = "".join(lines)
            return text[: draw(st.integers(min_value=0, max_value=len(text)))]
        elif op == "value" and ":" in lines[i]:
            head = lines[i].split(":", 1)[0]
            value = draw(st.one_of(st.text(max_size=15), st.sampled_from(["[", "{a: 1", "-1"])))
            lines[i] = f"{head}: {value}\n"
        elif op == "insert":
            lines.insert(i, draw(yamlish_text) + "\n")
    return "".join(lines)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.extend(_paths(value, (*prefix, i)))
    return out


BASE = yaml.safe_load(VALID)
PATHS = _paths(BASE)


@st.composite
def data_mutation(draw: st.DrawFn) -> Any:
    doc = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = doc
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        op = draw(st.sampled_from(["delete", "rename", "replace"]))
        if op == "delete":
            del parent[last]
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(keys)] = parent.pop(last)
        else:
            parent[last] = draw(nested)
    return doc


@FUZZ
@given(text_mutation())
def test_text_mutations_of_valid_spec(text: str) -> None:
    _check(text)


@FUZZ_DATA
@given(data_mutation())
def test_data_mutations_of_valid_spec(doc: Any) -> None:
    _check(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))


def test_mutations_reach_located_field_errors() -> None:
    """A sanity check that the data mutations really reach field-level problems."""
    doc = copy.deepcopy(BASE)
    doc["models"]["churn"]["gates"]["metrics"][1]["min"] = "high"
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "ml.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        with pytest.raises(SpecError) as info:
            load_project(Path(tmp))
    [problem] = info.value.problems
    assert problem.field == "models.churn.gates.metrics[1].min"
    assert problem.location.line >= 1
    assert "found a string 'high'" in problem.message
