"""What a DVC experiment changed in params.yaml, and where in ml.yaml each change belongs."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlcode.compile.dvc import dump, params_data
from mlcode.errors import UserError
from mlcode.project.experiments import (
    MISSING,
    Change,
    diff,
    edits_for,
    experiment_changes,
    explain,
    read_params,
    source_path,
)
from mlcode.project.scaffold import EXAMPLES, render_spec
from mlcode.spec.load import parse_spec
from mlcode.spec.yamledit import apply_edits
from mlcode.spec.yamlsource import parse

SPEC = render_spec("demo", "local", EXAMPLES["iris"], ("a", "b"))


def spec_data(text: str = SPEC) -> Any:
    return parse(text, "ml.yaml").data


def compiled(text: str = SPEC) -> dict[str, Any]:
    return params_data(parse_spec(parse(text, "ml.yaml")))


def test_diff_names_changed_new_and_removed_keys_in_order() -> None:
    old = {"m": {"params": {"a": 1, "b": 2}, "metrics": ["x", "y"], "split": {"seed": 1}}}
    new = {"m": {"params": {"a": 1, "b": 3, "c": True}, "metrics": ["y"], "split": {}}}
    assert diff(old, new) == [
        Change(("m", "params", "b"), 2, 3),
        Change(("m", "params", "c"), MISSING, True),
        Change(("m", "metrics"), ["x", "y"], ["y"]),  # a list changes as a whole
        Change(("m", "split", "seed"), 1, MISSING),
    ]
    assert diff(old, copy.deepcopy(old)) == []


def test_diff_tells_bool_from_int_and_int_from_float() -> None:
    assert [c.key for c in diff({"m": {"a": 1, "b": 1}}, {"m": {"a": True, "b": 1.0}})] == [
        ("m", "a"),
        ("m", "b"),
    ]
    assert diff({"m": {"a": float("nan")}}, {"m": {"a": float("nan")}}) == []


def test_params_are_read_as_dvc_writes_them() -> None:
    # DVC writes params.yaml with YAML 1.2: `1e-05` is a float and `yes`/`on` are text there.
    data = read_params("a: 1e-05\nb: yes\nc: on\nd: ~\ne:\nf: 0x1f\ng: true\nh: 1.5\ni: '7'\n")
    assert data == {
        "a": 1e-05,
        "b": "yes",
        "c": "on",
        "d": None,
        "e": None,
        "f": 31,
        "g": True,
        "h": 1.5,
        "i": "7",
    }


def test_experiment_changes_only_under_model_sections() -> None:
    gen = {"m": {"params": {"a": 1}}, "n": {"task": "regression"}}
    exp = {"m": {"params": {"a": 2}}, "n": {"task": "regression"}}
    assert [c.name for c in experiment_changes(gen, exp) or []] == ["m.params.a"]
    assert experiment_changes(gen, gen) == []
    assert experiment_changes(gen, {"m": gen["m"]}) is None  # a model section gone
    assert experiment_changes(gen, {**gen, "x": 1}) is None  # a new top-level key
    assert experiment_changes(gen, {"m": 5, "n": gen["n"]}) is None  # a section replaced
    assert experiment_changes(gen, None) is None


def test_explain_names_the_keys_and_both_ways_out() -> None:
    gen = dump({"iris": {"params": {"n": 100}, "split": {"seed": 42}}})
    exp = "iris:\n  params:\n    n: 50\n    leaf: 2\n  split:\n    seed: 42\n"
    message = explain(gen, exp)
    assert message is not None
    assert "changed keys iris.params.n, iris.params.leaf" in message
    assert "`mlcode params pull`" in message
    assert "`mlcode apply --force`" in message
    assert explain(gen, gen) is None
    assert explain(gen, "other: 1\n") is None
    assert explain(gen, "iris: [unclosed\n") is None
    assert explain(None, exp) is None


@pytest.mark.parametrize(
    ("key", "path"),
    [
        (("iris", "params", "n_estimators"), ("models", "iris", "params", "n_estimators")),
        (("iris", "params", "cw", "x"), ("models", "iris", "params", "cw", "x")),
        (("iris", "split", "seed"), ("models", "iris", "split", "seed")),
        (("iris", "split", "stratify"), ("models", "iris", "split", "stratify")),
        (("iris", "estimator"), ("models", "iris", "estimator")),
        (("iris", "task"), ("models", "iris", "task")),
        (("iris", "metrics"), ("models", "iris", "metrics")),
        (("iris", "data", "target"), ("data", "iris", "target")),
        (("iris", "data", "numeric"), ("data", "iris", "features", "numeric")),
        (("iris", "drift", "method"), ("models", "iris", "gates", "drift", "method")),
        (("iris", "drift", "threshold"), ("models", "iris", "gates", "drift", "threshold")),
        (
            ("iris", "drift", "columns", "a", "ignore"),
            ("models", "iris", "gates", "drift", "columns", "a", "ignore"),
        ),
        (("iris", "drift", "current", "path"), ("data", "iris_latest", "path")),
        (
            ("iris", "drift", "reference", "categorical"),
            ("data", "iris", "features", "categorical"),
        ),
        (("iris", "colour"), None),
        (("iris", "params"), None),  # the whole section: an experiment sets keys inside it
        (("iris", "split", "seed", "x"), None),
        (("iris", "data", "colour"), None),
        (("iris", "drift", "current", "numeric"), None),
        (("other", "params", "a"), None),
        (("iris",), None),
    ],
)
def test_source_path(key: tuple[str, ...], path: tuple[str, ...] | None) -> None:
    assert source_path(key, spec_data()) == path


def test_edits_refuse_a_key_without_source_and_a_removed_key() -> None:
    with pytest.raises(UserError, match=r"iris\.colour has no source in ml\.yaml"):
        edits_for([Change(("iris", "colour"), MISSING, "blue")], spec_data())
    with pytest.raises(UserError, match=r"no longer has iris\.params\.max_depth"):
        edits_for([Change(("iris", "params", "max_depth"), 5, MISSING)], spec_data())


def pull(target: dict[str, Any]) -> str:
    """ml.yaml carrying `target` (a changed params document), by the pure pieces of a pull."""
    changes = diff(compiled(), target)
    edits = edits_for(changes, spec_data())
    return apply_edits(SPEC, [(e.path, e.value) for e in edits])


names = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)
values = st.one_of(
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]), max_size=20),
    st.lists(st.integers(0, 9), max_size=3),
)


@settings(max_examples=60, deadline=None)
@given(params=st.dictionaries(names, values, min_size=1, max_size=4))
def test_pulled_params_compile_back_to_the_experiment(params: dict[str, Any]) -> None:
    target = compiled()
    target["iris"]["params"].update(params)
    text = pull(target)
    assert compiled(text)["iris"]["params"] == dict(sorted(target["iris"]["params"].items()))
    # Every line outside the params line is byte for byte the same.
    old, new = SPEC.splitlines(), text.splitlines()
    assert len(old) == len(new)
    changed = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
    assert all(old[i].lstrip().startswith("params:") for i in changed)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.floats(0.01, 0.99), stratify=st.booleans())
def test_pulled_split_compiles_back(seed: int, size: float, stratify: bool) -> None:
    target = compiled()
    target["iris"]["split"] = {"test_size": size, "seed": seed, "stratify": stratify}
    assert compiled(pull(target)) == target
