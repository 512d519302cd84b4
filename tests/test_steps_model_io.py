"""Model files: a tampered model never runs code, mlcode's own models of every family still load.

The corpus is written here from a real model trained by mlcode: its skops schema gets one injected
node of each kind skops can build from a name (reduce, loss-reduce, function, partial, method,
operator, object, type, dict, array, random-state), naming gadgets of numpy, scipy, scikit-learn,
joblib, the estimator's own package and the standard library that execute strings, start processes
or write files. Every gadget writes into a trap folder: it must stay empty.
"""

from __future__ import annotations

import importlib
import io
import json
import shutil
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
import yaml
from sklearn import datasets

from mlcode.errors import UserError
from mlcode.layout import model_paths
from mlcode.steps import run_step
from mlcode.steps.model_io import (
    SKLEARN_INTERNAL_CLASSES,
    allowed_types,
    load_model,
    tree_problems,
)
from tests.e2e.helpers import mlcode
from tests.test_steps_train import write_project

MODEL = "wine"
Node = dict[str, Any]


# --- the trained model the corpus is made from ----------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose wine model mlcode prepared and trained (random forest)."""
    root = tmp_path_factory.mktemp("trained")
    write_project(root, MODEL)
    run_step("prepare", root, MODEL)
    run_step("train", root, MODEL)
    return root


def _read(path: Path) -> tuple[Node, dict[str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        schema = json.loads(archive.read("schema.json"))
        members = {n: archive.read(n) for n in archive.namelist() if n != "schema.json"}
    return schema, members


def _write(path: Path, schema: Node, members: dict[str, bytes]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        archive.writestr("schema.json", json.dumps(schema))
    path.write_bytes(buffer.getvalue())


def _find(node: Any, cls: str) -> Node:
    if isinstance(node, dict):
        if node.get("__class__") == cls and "__loader__" in node:
            return node
        values: list[Any] = list(node.values())
    elif isinstance(node, list):
        values = node
    else:
        values = []
    for value in values:
        try:
            return _find(value, cls)
        except LookupError:
            continue
    raise LookupError(cls)


def tamper(source: Path, target: Path, gadget: Node) -> None:
    """Copy a model file, adding `gadget` as an attribute of its fitted estimator.

    skops builds every attribute when it loads the estimator, so whatever the gadget node does on
    construction happens during `load` (the key type is added too, or skops would skip the key).
    """
    schema, members = _read(source)
    attrs = _find(schema, "RandomForestClassifier")["content"]
    attrs["content"]["gadget"] = gadget
    attrs["key_types"]["content"].append(type_node("builtins", "str"))
    arrays = [n for n in members if n.endswith(".npy")]
    if "file" in gadget:
        gadget["file"] = arrays[0]
    _write(target, schema, members)


# --- node builders (the JSON shape of skops' own nodes, skops/io/_general.py and friends) -----


def json_node(value: Any) -> Node:
    return {
        "__class__": type(value).__name__,
        "__module__": "builtins",
        "__loader__": "JsonNode",
        "content": json.dumps(value),
        "is_json": True,
    }


def tuple_node(values: list[Any]) -> Node:
    return {
        "__class__": "tuple",
        "__module__": "builtins",
        "__loader__": "TupleNode",
        "content": [json_node(v) for v in values],
    }


def dict_node(mapping: dict[str, Any], module: str = "builtins", cls: str = "dict") -> Node:
    return {
        "__class__": cls,
        "__module__": module,
        "__loader__": "DictNode",
        "content": {k: json_node(v) for k, v in mapping.items()},
        "key_types": {
            "__class__": "list",
            "__module__": "builtins",
            "__loader__": "ListNode",
            "content": [type_node("builtins", "str") for _ in mapping],
        },
    }


def type_node(module: str, name: str) -> Node:
    return {"__class__": name, "__module__": module, "__loader__": "TypeNode"}


def function_node(module: str, name: str) -> Node:
    return {"__class__": name, "__module__": module, "__loader__": "FunctionNode"}


Gadget = tuple[str, str, Callable[[Path], list[Any]]]


def _code(trap: Path) -> str:
    return f"open({str(trap / 'ran')!r}, 'w').close()"


# (module, name, arguments given the trap folder): each one, called, leaves a file in the trap.
GADGETS: dict[str, Gadget] = {
    "numpy-runstring": (
        "numpy.testing._private.utils",
        "runstring",
        lambda trap: [_code(trap), {}],
    ),
    "numpy-savetxt": ("numpy", "savetxt", lambda trap: [str(trap / "savetxt.txt"), [[1.0]]]),
    "numpy-save": ("numpy", "save", lambda trap: [str(trap / "save.npy"), [1]]),
    "numpy-memmap": (
        "numpy",
        "memmap",
        lambda trap: [str(trap / "memmap.bin"), "uint8", "w+", 0, [4]],
    ),
    "scipy-savemat": ("scipy.io", "savemat", lambda trap: [str(trap / "m.mat"), {"a": [1]}]),
    "sklearn-subprocess": (
        "sklearn.utils._testing",
        "assert_run_python_script_without_output",
        lambda trap: [_code(trap), ".*"],
    ),
    "sklearn-svmlight": (
        "sklearn.datasets",
        "dump_svmlight_file",
        lambda trap: [[[1.0]], [1.0], str(trap / "svm.txt")],
    ),
    "joblib-dump": ("joblib", "dump", lambda trap: [[1], str(trap / "joblib.pkl")]),
    "estimator-package": (
        "sklearn.ensemble._forest",
        "_generate_sample_indices",
        lambda trap: [0, 10, 10],
    ),
    "builtins-exec": ("builtins", "exec", lambda trap: [_code(trap)]),
    "os-system": ("os", "system", lambda trap: [f"touch {trap / 'os'}"]),
    "subprocess": (
        "subprocess",
        "check_call",
        lambda trap: [[sys.executable, "-c", _code(trap)]],
    ),
}


def _node(kind: str, module: str, name: str, args: list[Any]) -> Node:
    """A node of skops loader `kind` that names `module.name` (called with `args` if it calls)."""
    base = {"__class__": name, "__module__": module}
    if kind == "reduce":
        return {**base, "__loader__": "ConstructorFromReduceNode", "content": tuple_node(args)}
    if kind == "loss":
        return {
            **base,
            "__loader__": "LossNode",
            "__reduce__": {"args": tuple_node(args)},
            "content": dict_node({}),
        }
    if kind == "function":
        return function_node(module, name)
    if kind == "partial":
        return {
            "__class__": "partial",
            "__module__": "functools",
            "__loader__": "PartialNode",
            "content": {
                "func": function_node(module, name),
                "args": tuple_node(args),
                "kwds": dict_node({}),
                "namespace": json_node(None),
            },
        }
    if kind == "object":
        return {**base, "__loader__": "ObjectNode", "content": dict_node({"x": 1})}
    if kind == "type":
        return type_node(module, name)
    if kind == "dict":
        return dict_node({}, module, name)
    if kind == "array":
        return {**base, "__loader__": "NdArrayNode", "type": "numpy", "file": ""}
    if kind == "random-state":
        return {**base, "__loader__": "RandomStateNode", "content": dict_node({})}
    raise AssertionError(kind)


KINDS = (
    "reduce",
    "loss",
    "function",
    "partial",
    "object",
    "type",
    "dict",
    "array",
    "random-state",
)
CORPUS = [(kind, gadget) for kind in KINDS for gadget in GADGETS]


def _array_file_node() -> Node:
    return {
        "__class__": "ndarray",
        "__module__": "numpy",
        "__loader__": "NdArrayNode",
        "type": "numpy",
        "file": "",
    }


def _extra_cases(trap: Path) -> dict[str, tuple[Node, str]]:
    """Kinds that name a callable in their own way: bound methods and operator callables."""
    array = _array_file_node()
    method = {
        "__class__": "ndarray",
        "__module__": "numpy",
        "__loader__": "MethodNode",
        "content": {"func": "tofile", "obj": array},
        "file": "",
    }
    dump = {**method, "content": {"func": "dump", "obj": _array_file_node()}}
    caller = {
        "__class__": "methodcaller",
        "__module__": "operator",
        "__loader__": "OperatorFuncNode",
        "attrs": tuple_node(["tofile", str(trap / "caller.bin")]),
    }
    return {
        "method-tofile": (method, "numpy.ndarray.tofile"),
        "method-dump": (dump, "numpy.ndarray.dump"),
        "operator-methodcaller": (caller, "operator.methodcaller"),
    }


def _fill_files(node: Any, array: str) -> None:
    if isinstance(node, dict):
        if node.get("file") == "":
            node["file"] = array
        for value in node.values():
            _fill_files(value, array)
    elif isinstance(node, list):
        for value in node:
            _fill_files(value, array)


def _refused(path: Path) -> str:
    with pytest.raises(UserError) as info:
        load_model(path, "sklearn.ensemble.RandomForestClassifier", model=MODEL, step="evaluate")
    return info.value.render()


# --- the corpus -------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "gadget"), CORPUS, ids=[f"{k}-{g}" for k, g in CORPUS])
def test_tampered_model_is_refused_and_runs_nothing(
    trained: Path, tmp_path: Path, kind: str, gadget: str
) -> None:
    trap = tmp_path / "trap"
    trap.mkdir()
    module, name, args = GADGETS[gadget]
    evil = tmp_path / "model.skops"
    tamper(trained / model_paths(MODEL).model_file, evil, _node(kind, module, name, args(trap)))
    text = _refused(evil)
    assert "refusing to load" in text
    assert f"{module}.{name}" in text
    assert f"model {MODEL!r}, stage evaluate_{MODEL}" in text
    assert list(trap.iterdir()) == []
    # The exact-class allow-list refuses the name on its own too, whatever the node kind (skops
    # only describes the nodes here: nothing is imported or called).
    untrusted = sio.get_untrusted_types(file=evil)
    assert f"{module}.{name}" in untrusted
    assert f"{module}.{name}" not in allowed_types(
        "sklearn.ensemble.RandomForestClassifier", model=MODEL, step="evaluate"
    )
    assert list(trap.iterdir()) == []


@pytest.mark.parametrize("case", ["method-tofile", "method-dump", "operator-methodcaller"])
def test_tampered_method_and_operator_nodes_are_refused(
    trained: Path, tmp_path: Path, case: str
) -> None:
    trap = tmp_path / "trap"
    trap.mkdir()
    node, name = _extra_cases(trap)[case]
    evil = tmp_path / "model.skops"
    tamper(trained / model_paths(MODEL).model_file, evil, node)
    schema, members = _read(evil)
    _fill_files(schema, next(n for n in members if n.endswith(".npy")))
    _write(evil, schema, members)
    text = _refused(evil)
    assert name in text
    assert list(trap.iterdir()) == []


def test_older_protocol_and_unknown_node_kinds_are_refused(trained: Path, tmp_path: Path) -> None:
    """A file may claim an older skops protocol (older node classes) or a kind skops may add."""
    trap = tmp_path / "trap"
    trap.mkdir()
    source = trained / model_paths(MODEL).model_file
    evil = tmp_path / "model.skops"
    tamper(source, evil, _node("reduce", *GADGETS["numpy-runstring"][:2], [_code(trap), {}]))
    schema, members = _read(evil)
    schema["protocol"] = 0
    _write(evil, schema, members)
    assert "numpy.testing._private.utils.runstring" in _refused(evil)
    tamper(source, evil, {**function_node("builtins", "exec"), "__loader__": "NewNode"})
    assert "builtins.exec (NewNode)" in _refused(evil)
    assert list(trap.iterdir()) == []


def test_generator_naming_another_numpy_random_attribute_is_refused(
    trained: Path, tmp_path: Path
) -> None:
    """skops calls `numpy.random.<name>` for a Generator's bit generator: only real ones pass."""
    generator = tmp_path / "generator.skops"
    generator.write_bytes(sio.dumps(np.random.default_rng(0)))
    node, extra = _read(generator)
    source = trained / model_paths(MODEL).model_file
    path = tmp_path / "model.skops"
    for name in ("PCG64", "seed"):
        node["content"]["bit_generator"]["content"]["bit_generator"]["content"] = json.dumps(name)
        tamper(source, path, node)
        schema, members = _read(path)
        _write(path, schema, {**members, **extra})
        if name == "PCG64":  # the genuine generator loads: the refusal below is the name's doing
            estimator = "sklearn.ensemble.RandomForestClassifier"
            loaded = load_model(path, estimator, model=MODEL, step="evaluate")
            assert isinstance(loaded[-1].gadget, np.random.Generator)
        else:
            assert "numpy.random.seed" in _refused(path)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "gadget"),
    [
        ("reduce", "numpy-runstring"),
        ("reduce", "numpy-memmap"),
        ("loss", "sklearn-subprocess"),
        ("partial", "scipy-savemat"),
        ("reduce", "joblib-dump"),
    ],
)
def test_evaluate_cli_refuses_tampered_model(
    trained: Path, tmp_path: Path, kind: str, gadget: str
) -> None:
    """Through the command DVC runs, with the model card rewritten to widen the trust as well."""
    root = tmp_path / "project"
    shutil.copytree(trained, root)
    trap = tmp_path / "trap"
    trap.mkdir()
    paths = model_paths(MODEL)
    module, name, args = GADGETS[gadget]
    tamper(
        trained / paths.model_file, root / paths.model_file, _node(kind, module, name, args(trap))
    )
    card_path = root / paths.model_card
    card = json.loads(card_path.read_text())
    card["estimator"] = (
        f"{module.split('.')[0]}.Estimator"  # the card is in the attacker's hands too
    )
    card_path.write_text(json.dumps(card))
    result = mlcode(root, "step", "evaluate", MODEL)
    assert result.returncode == 3, result.stderr
    assert f"{module}.{name}" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(trap.iterdir()) == []
    assert not (root / paths.metrics).exists()


def test_untouched_model_of_the_corpus_loads(trained: Path) -> None:
    """The corpus' source loads, so each refusal above is the gadget's doing."""
    model = load_model(
        trained / model_paths(MODEL).model_file,
        "sklearn.ensemble.RandomForestClassifier",
        model=MODEL,
        step="evaluate",
    )
    assert type(model).__name__ == "Pipeline"


# --- the allow-list ---------------------------------------------------------------------------


def _resolve(name: str) -> Any:
    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(module), attr)


@pytest.mark.parametrize("name", SKLEARN_INTERNAL_CLASSES)
def test_curated_internal_names_are_classes(name: str) -> None:
    assert isinstance(_resolve(name), type), name


def test_allow_list_holds_classes_only() -> None:
    names = allowed_types("sklearn.ensemble.RandomForestClassifier", model="m", step="evaluate")
    assert {
        "sklearn.ensemble._forest.RandomForestClassifier",
        "sklearn.tree._tree.Tree",
        "numpy.ndarray",
        "numpy.dtype",
        "numpy.float64",
        "scipy.sparse._csr.csr_matrix",
    } <= names
    not_classes = sorted(n for n in names if not isinstance(_resolve(n), type))
    assert not_classes == []
    for name in (
        "numpy.testing._private.utils.runstring",
        "numpy.savetxt",
        "numpy.memmap",
        "joblib.numpy_pickle.dump",
        "sklearn.utils._testing.assert_run_python_script_without_output",
        "sklearn.metrics._dist_metrics.PyFuncDistance64",
        "builtins.eval",
        "functools.partial",
    ):
        assert name not in names


THIRD_PARTY = '''
from sklearn.base import BaseEstimator, RegressorMixin
import numpy as np


class Helper(BaseEstimator):
    """An estimator class of the package that the model holds."""

    def __init__(self, scale=1.0):
        self.scale = scale


class MeanRegressor(RegressorMixin, BaseEstimator):
    def __init__(self, shift=0.0):
        self.shift = shift

    def fit(self, X, y):
        self.mean_ = float(np.mean(y)) + self.shift
        self.helper_ = Helper(2.0)
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


class NotAnEstimator:
    pass


def write_marker(path):
    open(path, "w").close()
'''


@pytest.fixture
def third_party(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A package outside scikit-learn with an estimator, a helper estimator, a class, a function."""
    package = tmp_path / "site" / "thirdparty_est"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(THIRD_PARTY)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    yield tmp_path
    sys.modules.pop("thirdparty_est", None)


def test_estimator_outside_scikit_learn(third_party: Path, tmp_path: Path) -> None:
    names = allowed_types("thirdparty_est.MeanRegressor", model="m", step="evaluate")
    assert {"thirdparty_est.MeanRegressor", "thirdparty_est.Helper"} <= names
    assert "thirdparty_est.NotAnEstimator" not in names
    assert "thirdparty_est.write_marker" not in names
    assert "thirdparty_est.Helper" not in allowed_types(None, model="m", step="evaluate")

    root = tmp_path / "project"
    root.mkdir()
    _write_projects(root, {"mean": ("regression", "thirdparty_est.MeanRegressor", {})})
    run_step("prepare", root, "mean")
    run_step("train", root, "mean")
    run_step("evaluate", root, "mean")
    path = root / model_paths("mean").model_file
    loaded = load_model(path, "thirdparty_est.MeanRegressor", model="mean", step="evaluate")
    assert type(loaded[-1].helper_).__name__ == "Helper"
    # The same file, without params.yaml naming the package, is refused.
    with pytest.raises(UserError, match=r"thirdparty_est\.MeanRegressor"):
        load_model(path, None, model="mean", step="evaluate")
    # A function of the estimator's own package is refused in every node kind that names one.
    trap = tmp_path / "trap"
    trap.mkdir()
    for kind in KINDS:
        schema, members = _read(path)
        attrs = _find(schema, "MeanRegressor")["content"]
        attrs["content"]["gadget"] = _node(
            kind, "thirdparty_est", "write_marker", [str(trap / "m")]
        )
        attrs["key_types"]["content"].append(type_node("builtins", "str"))
        _fill_files(schema, next(n for n in members if n.endswith(".npy")))
        evil = tmp_path / f"{kind}.skops"
        _write(evil, schema, members)
        with pytest.raises(UserError, match=r"thirdparty_est\.write_marker"):
            load_model(evil, "thirdparty_est.MeanRegressor", model="mean", step="evaluate")
    assert list(trap.iterdir()) == []


# --- mlcode's own models load -----------------------------------------------------------------

FAMILIES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "logreg": ("classification", "sklearn.linear_model.LogisticRegression", {"max_iter": 500}),
    "ridge": ("regression", "sklearn.linear_model.Ridge", {}),
    "sgd": ("classification", "sklearn.linear_model.SGDClassifier", {"random_state": 0}),
    "tweedie": ("regression", "sklearn.linear_model.TweedieRegressor", {"power": 0}),
    "tree": ("classification", "sklearn.tree.DecisionTreeClassifier", {"random_state": 0}),
    "forest": (
        "regression",
        "sklearn.ensemble.RandomForestRegressor",
        {"n_estimators": 5, "random_state": 0},
    ),
    "boosting": (
        "classification",
        "sklearn.ensemble.GradientBoostingClassifier",
        {"n_estimators": 5, "random_state": 0},
    ),
    "hgb": (
        "classification",
        "sklearn.ensemble.HistGradientBoostingClassifier",
        {"max_iter": 10, "random_state": 0},
    ),
    "hgbr": (
        "regression",
        "sklearn.ensemble.HistGradientBoostingRegressor",
        {"max_iter": 10, "loss": "absolute_error"},
    ),
    "knn": ("classification", "sklearn.neighbors.KNeighborsClassifier", {"algorithm": "kd_tree"}),
    "knnr": (
        "regression",
        "sklearn.neighbors.KNeighborsRegressor",
        {"algorithm": "ball_tree", "metric": "manhattan"},
    ),
    "svc": ("classification", "sklearn.svm.SVC", {"probability": True, "random_state": 0}),
    "nb": ("classification", "sklearn.naive_bayes.GaussianNB", {}),
    "mlp": (
        "regression",
        "sklearn.neural_network.MLPRegressor",
        {"max_iter": 30, "random_state": 0},
    ),
    "calibrated": ("classification", "sklearn.calibration.CalibratedClassifierCV", {}),
}


def _write_projects(root: Path, models: dict[str, tuple[str, str, dict[str, Any]]]) -> None:
    """Wine (classification) and diabetes (regression) as CSV, one params.yaml section each."""
    (root / "data").mkdir(exist_ok=True)
    wine = datasets.load_wine(as_frame=True).frame
    wine = wine[["alcohol", "malic_acid", "ash", "hue", "proline", "target"]].copy()
    wine["target"] = wine["target"].map({0: "a", 1: "b", 2: "c"})
    wine["batch"] = ["x" if i % 4 else "y" for i in range(len(wine))]
    wine.to_csv(root / "data" / "wine.csv", index=False)
    diabetes = datasets.load_diabetes(as_frame=True).frame
    diabetes["site"] = np.where(diabetes["sex"] > 0, "north", "south")
    diabetes.to_csv(root / "data" / "diabetes.csv", index=False)
    doc: dict[str, Any] = {}
    for name, (task, estimator, params) in models.items():
        classification = task == "classification"
        frame = wine if classification else diabetes
        target = "target"
        categorical = ["batch"] if classification else ["site"]
        numeric = [c for c in frame.columns if c not in (target, *categorical)]
        doc[name] = {
            "task": task,
            "data": {
                "path": "data/wine.csv" if classification else "data/diabetes.csv",
                "format": "csv",
                "target": target,
                "numeric": numeric,
                "categorical": categorical,
            },
            "split": {"test_size": 0.25, "seed": 1, "stratify": classification},
            "estimator": estimator,
            "params": params,
            "metrics": ["accuracy"] if classification else ["rmse"],
        }
    (root / "params.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


def test_models_of_every_family_load(tmp_path: Path) -> None:
    _write_projects(tmp_path, FAMILIES)
    for name, (_, estimator, _) in FAMILIES.items():
        for step in ("prepare", "train", "evaluate"):
            run_step(step, tmp_path, name)
        paths = model_paths(name)
        loaded = load_model(tmp_path / paths.model_file, estimator, model=name, step="evaluate")
        test = pd.read_parquet(tmp_path / paths.test_split)
        assert len(loaded.predict(test)) == len(test), name


@pytest.mark.slow
def test_every_estimator_scikit_learn_lists_needs_only_allowed_classes() -> None:
    """Fit every classifier and regressor of `all_estimators()` that fits with default params
    through mlcode's pipeline: skops lists no class outside the allow-list for any of them (so a
    scikit-learn upgrade that adds an internal class fails here, not in a user's evaluate), and
    the tree check finds nothing wrong in any of them."""
    import warnings

    from sklearn.utils import all_estimators

    from mlcode.steps.common import DataParams, ModelParams, SplitParams
    from mlcode.steps.train import build_pipeline

    iris = datasets.load_iris(as_frame=True).frame
    iris.columns = ["sl", "sw", "pl", "pw", "y"]
    diabetes = datasets.load_diabetes(as_frame=True).frame.rename(columns={"target": "y"})[:150]
    fitted, outside = 0, dict[str, list[str]]()
    for task, source, kind in (
        ("classification", iris, "classifier"),
        ("regression", diabetes, "regressor"),
    ):
        frame = source.assign(cat=["a" if i % 3 else "b" for i in range(len(source))])
        numeric = tuple(c for c in frame.columns if c not in ("y", "cat"))
        for _, cls in all_estimators(type_filter=kind):
            estimator = f"{cls.__module__}.{cls.__name__}"
            params = ModelParams(
                name="m",
                task=task,
                data=DataParams("x.csv", "csv", "y", numeric, ("cat",)),
                split=SplitParams(0.2, 0, False),
                estimator=estimator,
            )
            try:
                pipeline = build_pipeline(params)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    pipeline.fit(frame[[*numeric, "cat"]], frame["y"])
            except Exception:  # needs params mlcode cannot give (estimator=...) or other data
                continue
            fitted += 1
            allowed = allowed_types(estimator, model="m", step="evaluate")
            names = sio.get_untrusted_types(data=sio.dumps(pipeline))
            if missing := [n for n in names if n not in allowed]:
                outside[estimator] = missing
            if problems := tree_problems(pipeline):
                outside[estimator] = problems
    assert fitted > 60
    assert outside == {}


# --- tree node arrays -------------------------------------------------------------------------

TREES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "tree": ("classification", "sklearn.tree.DecisionTreeClassifier", {"random_state": 0}),
    "hgb": (
        "classification",
        "sklearn.ensemble.HistGradientBoostingClassifier",
        {"max_iter": 5, "random_state": 0},
    ),
}


@pytest.fixture(scope="module")
def tree_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with a decision tree and a histogram gradient boosting model, trained."""
    root = tmp_path_factory.mktemp("trees")
    _write_projects(root, TREES)
    for name in TREES:
        run_step("prepare", root, name)
        run_step("train", root, name)
    return root


def tamper_nodes(source: Path, target: Path, edit: Callable[[np.ndarray], None]) -> None:
    """Copy a model file, editing the node array of its first tree (skops stores it as .npy)."""
    schema, members = _read(source)
    try:
        holder = _find(schema, "TreePredictor")
    except LookupError:
        holder = _find(schema, "Tree")
    member = holder["content"]["content"]["nodes"]["file"]
    nodes = np.load(io.BytesIO(members[member]))
    edit(nodes)
    buffer = io.BytesIO()
    np.save(buffer, nodes)
    members[member] = buffer.getvalue()
    _write(target, schema, members)


def _set(**fields: int) -> Callable[[np.ndarray], None]:
    def edit(nodes: np.ndarray) -> None:
        for field, value in fields.items():
            nodes[field][0] = value

    return edit


NODE_EDITS: dict[str, tuple[str, Callable[[np.ndarray], None], str]] = {
    "tree-child-out-of-range": ("tree", _set(left_child=10**9), "left child index outside"),
    "tree-child-loops-back": ("tree", _set(right_child=0), "right child index outside"),
    "tree-feature-out-of-range": ("tree", _set(feature=10**6), "feature outside the 7"),
    "hgb-child-out-of-range": ("hgb", _set(left=10**6), "left child index outside"),
    "hgb-feature-out-of-range": ("hgb", _set(feature_idx=10**6), "feature outside"),
    "hgb-categorical-without-categories": (
        "hgb",
        _set(is_categorical=1, bitset_idx=10**6),
        "categorical split without its categories",
    ),
}


@pytest.mark.parametrize("case", NODE_EDITS)
def test_tree_arrays_that_would_be_read_out_of_bounds_are_refused(
    tree_models: Path, tmp_path: Path, case: str
) -> None:
    """scikit-learn walks these arrays in compiled code without bounds checks: before this check
    predicting with such a file crashed the process (segmentation fault) or never returned."""
    name, edit, expected = NODE_EDITS[case]
    evil = tmp_path / "model.skops"
    tamper_nodes(tree_models / model_paths(name).model_file, evil, edit)
    with pytest.raises(UserError) as info:
        load_model(evil, TREES[name][1], model=name, step="evaluate")
    text = info.value.render()
    assert "refusing to load" in text
    assert expected in text


def test_untouched_tree_models_load_and_predict(tree_models: Path) -> None:
    for name, (_, estimator, _) in TREES.items():
        paths = model_paths(name)
        loaded = load_model(tree_models / paths.model_file, estimator, model=name, step="evaluate")
        test = pd.read_parquet(tree_models / paths.test_split)
        assert len(loaded.predict(test)) == len(test)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["tree-child-out-of-range", "hgb-child-out-of-range"])
def test_evaluate_cli_refuses_tree_arrays_out_of_bounds(
    tree_models: Path, tmp_path: Path, case: str
) -> None:
    root = tmp_path / "project"
    shutil.copytree(tree_models, root)
    name, edit, expected = NODE_EDITS[case]
    paths = model_paths(name)
    tamper_nodes(tree_models / paths.model_file, root / paths.model_file, edit)
    result = mlcode(root, "step", "evaluate", name)
    assert result.returncode == 3, (result.returncode, result.stderr)
    assert expected in result.stderr
    assert not (root / paths.metrics).exists()
