"""Model files: save a fitted pipeline as byte-reproducible skops, load one without running its code.

Saving: skops names the arrays in its zip after `id()` of the saved objects, stamps every member with
the current time and records each object's `id()` in `schema.json`, so two identical trainings give
different bytes (and DVC a "new" model). `save_model` takes skops' own in-memory dump and rewrites it:
object ids numbered in the order the schema lists them, data members renamed after that order (the
schema's references rewritten to match), members written in a fixed order with a fixed date and
mode. The result is an ordinary skops file that skops' own loader reads.

Loading: a model file is data that anyone who can change a pull request or the DVC remote controls.
skops builds objects by importing the module and calling the attribute a file names, so trusting a
whole package (numpy, scipy, scikit-learn) trusts every function in it, among them functions that
execute strings, start processes or write files. `load_model` therefore trusts exact classes, never
packages, and checks a file before skops builds anything from it:

1. the raw schema: every node must be of a kind that mlcode's own models contain; the kinds that
   name a callable to return, bind or call (function, method, partial, operator, reduce) are
   refused outright;
2. skops' list of the file's types it does not trust by default (`get_untrusted_types`): each must
   be in `allowed_types(...)`, a set of fully qualified class names built on our side (the file's
   names are only compared as strings, never imported): scikit-learn's estimator classes, the
   internal classes its fitted estimators hold (`SKLEARN_INTERNAL_CLASSES`), numpy/scipy array,
   dtype, scalar and sparse classes, and the estimator that params.yaml names with the estimator
   classes of its module;
3. skops loads with exactly those names trusted (its own audit checks them again);
4. the node arrays of the loaded trees (`sklearn.tree._tree.Tree`, the histogram gradient boosting
   `TreePredictor`) are checked before anything predicts with them: scikit-learn walks them in
   compiled code without bounds checks, so a child or feature index out of range crashes the
   process (skops leaves `TreePredictor` out of its defaults for that reason).
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from mlcode.steps.common import fail

SCHEMA = "schema.json"
# The earliest date a zip entry can carry: no clock reading ends up in the file.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
ZIP_UNIX = 3  # "created on Unix", so the mode bits below mean the same everywhere
ZIP_MODE = 0o644 << 16

# Node kinds mlcode's own models are made of. The kinds that name a callable to return, bind or call
# (FunctionNode, MethodNode, PartialNode, OperatorFuncNode, ConstructorFromReduceNode) are not here:
# no model trained by mlcode contains one, so a file that does was not written by mlcode.
SAFE_NODE_KINDS = frozenset(
    {
        "CachedNode",
        "DictNode",
        "DTypeNode",
        "JsonNode",
        "ListNode",
        "LossNode",
        "NdArrayNode",
        "ObjectNode",
        "RandomGeneratorNode",
        "RandomStateNode",
        "SetNode",
        "SliceNode",
        "SparseMatrixNode",
        "TreeNode",
        "TupleNode",
        "TypeNode",
    }
)

# Classes scikit-learn's fitted estimators hold besides estimators (found by fitting every
# classifier and regressor of `sklearn.utils.all_estimators()` that fits through mlcode's pipeline,
# with their loss, metric and solver options, and listing what skops does not trust by default).
# Classes only: tests/test_steps_model_io.py checks that each name resolves to a class. Never add a
# class that wraps a Python callable (e.g. `sklearn.metrics._dist_metrics.PyFuncDistance64`).
SKLEARN_INTERNAL_CLASSES = (
    "sklearn._loss.loss.HalfTweedieLoss",
    "sklearn._loss.loss.HalfTweedieLossIdentity",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.calibration._TemperatureScaling",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.gaussian_process._gpc._BinaryGaussianProcessClassifierLaplace",
    "sklearn.gaussian_process.kernels.ConstantKernel",
    "sklearn.gaussian_process.kernels.Product",
    "sklearn.gaussian_process.kernels.RBF",
    "sklearn.metrics._dist_metrics.BrayCurtisDistance64",
    "sklearn.metrics._dist_metrics.CanberraDistance64",
    "sklearn.metrics._dist_metrics.ChebyshevDistance64",
    "sklearn.metrics._dist_metrics.EuclideanDistance64",
    "sklearn.metrics._dist_metrics.HammingDistance64",
    "sklearn.metrics._dist_metrics.HaversineDistance64",
    "sklearn.metrics._dist_metrics.MahalanobisDistance64",
    "sklearn.metrics._dist_metrics.ManhattanDistance64",
    "sklearn.metrics._dist_metrics.MinkowskiDistance64",
    "sklearn.metrics._dist_metrics.SEuclideanDistance64",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    "sklearn.tree._tree.Tree",
)

_SPARSE_FORMATS = ("bsr", "coo", "csc", "csr", "dia", "dok", "lil")


# --- saving ----------------------------------------------------------------------------------


def save_model(pipeline: Any, path: Path) -> None:
    """Write the fitted pipeline with skops (never pickle), byte for byte the same for the same
    pipeline whatever the process, clock or memory layout."""
    import skops.io as sio

    path.write_bytes(reproducible(sio.dumps(pipeline)))


def reproducible(data: bytes) -> bytes:
    """A skops file's bytes rewritten without ids, names or dates that vary between runs."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        schema = json.loads(source.read(SCHEMA))
        members = {name: source.read(name) for name in source.namelist() if name != SCHEMA}
    ids: dict[int, int] = {}
    names: dict[str, str] = {}
    for node in _nodes(schema):
        old_id = node.get("__id__")
        if isinstance(old_id, int) and not isinstance(old_id, bool):
            node["__id__"] = ids.setdefault(old_id, len(ids) + 1)
        member = node.get("file")
        if isinstance(member, str) and member in members:
            suffix = PurePosixPath(member).suffix
            node["file"] = names.setdefault(member, f"{len(names) + 1}{suffix}")
    unused = sorted(set(members) - set(names))
    if unused:  # pragma: no cover - skops writes only members its schema refers to
        raise RuntimeError(f"skops wrote zip members its schema does not name: {unused}")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as target:
        for old, new in names.items():
            target.writestr(_entry(new), members[old])
        target.writestr(_entry(SCHEMA), json.dumps(schema, indent=2))
    return out.getvalue()


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_STORED
    info.create_system = ZIP_UNIX
    info.external_attr = ZIP_MODE
    return info


def _nodes(value: Any) -> Iterator[dict[str, Any]]:
    """Every node (a mapping with a `__loader__`) of a skops schema, in document order.

    Mappings are visited whatever they are, so a node hidden where a node is not expected is still
    found (the check errs towards refusing).
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "__loader__" in item:
                yield item
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))


# --- loading ---------------------------------------------------------------------------------


def load_model(path: Path, estimator: str | None, *, model: str, step: str) -> Any:
    """Load a skops file built only from allowed classes; refuse any other file with a clear error.

    `estimator` is the import path params.yaml names (never a value read from the model folder):
    its class and the estimator classes of its module are trusted besides scikit-learn's.
    """
    import skops.io as sio

    try:
        data = path.read_bytes()
        refused = refused_node_kinds(data)
        # Nodes are only described here (skops imports and calls nothing before `construct`).
        untrusted = [] if refused else sio.get_untrusted_types(data=data)
    except Exception as exc:
        raise fail(
            step, model, f"cannot read model file {path}: {type(exc).__name__}: {exc}"
        ) from None
    if not refused:
        allowed = allowed_types(estimator, model=model, step=step)
        refused = [name for name in untrusted if name not in allowed]
    if refused:
        named = ", ".join(refused[:10]) + (
            f" and {len(refused) - 10} more" if len(refused) > 10 else ""
        )
        raise fail(
            step,
            model,
            f"refusing to load {path}: it names {named}, which a model trained by "
            "mlcode never contains (only scikit-learn's estimator classes and the classes they "
            "hold, numpy/scipy array, dtype and sparse types, and the estimator params.yaml "
            "names with its package's estimator classes are loaded; never functions)",
            hint="Only load model files you trust; retrain the model with `mlcode run`.",
        )
    try:
        loaded = sio.loads(data, trusted=sorted(untrusted))
    except Exception as exc:
        raise fail(
            step, model, f"cannot load model file {path}: {type(exc).__name__}: {exc}"
        ) from None
    problems = tree_problems(loaded)
    if problems:
        raise fail(
            step,
            model,
            f"refusing to load {path}: {'; '.join(problems[:3])} (scikit-learn would read out of "
            "bounds when predicting; a model trained by mlcode never has such trees)",
            hint="Only load model files you trust; retrain the model with `mlcode run`.",
        )
    return loaded


def refused_node_kinds(data: bytes) -> list[str]:
    """The names (with their node kind) of the schema's nodes of a kind mlcode never writes.

    Reads `schema.json` as plain JSON: nothing is imported or built.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        schema = json.loads(archive.read(SCHEMA))
    refused: list[str] = []
    for node in _nodes(schema):
        kind = node["__loader__"]
        if kind in SAFE_NODE_KINDS:
            continue
        name = f"{node.get('__module__')}.{node.get('__class__')}"
        if kind == "MethodNode":
            content = node.get("content")
            func = content.get("func") if isinstance(content, dict) else None
            name = f"{name}.{func}"
        text = f"{name} ({kind})"
        if text not in refused:
            refused.append(text)
    return refused


def allowed_types(estimator: str | None, *, model: str, step: str) -> frozenset[str]:
    """Fully qualified names of every class a model of mlcode's own training may contain."""
    import numpy as np
    import scipy.sparse
    from sklearn.utils import all_estimators

    names = {_name(cls) for _, cls in all_estimators()}
    names.update(SKLEARN_INTERNAL_CLASSES)
    numpy_classes: list[type[Any]] = [
        np.ndarray,
        np.dtype,
        np.ma.MaskedArray,
        np.random.RandomState,
        np.random.Generator,
        np.random.SeedSequence,
    ]
    numpy_classes.extend(t for t in np.sctypeDict.values() if isinstance(t, type))
    numpy_classes.extend(
        t for t in vars(np.dtypes).values() if isinstance(t, type) and issubclass(t, np.dtype)
    )
    numpy_classes.extend(
        t
        for t in vars(np.random).values()
        if isinstance(t, type) and issubclass(t, np.random.BitGenerator)
    )
    for fmt in _SPARSE_FORMATS:
        for kind in ("matrix", "array"):
            cls = getattr(scipy.sparse, f"{fmt}_{kind}", None)
            if isinstance(cls, type):
                numpy_classes.append(cls)
    names.update(_name(cls) for cls in numpy_classes)
    if estimator:
        names.update(estimator_classes(estimator, model=model, step=step))
    return frozenset(names)


def estimator_classes(estimator: str, *, model: str, step: str) -> set[str]:
    """The estimator class params.yaml names and, outside scikit-learn, its module's estimators.

    The module name comes from params.yaml (written by `mlcode apply` from ml.yaml), never from the
    model file. Only classes derived from scikit-learn's BaseEstimator are taken, never functions.
    """
    import importlib
    import sys

    from sklearn.base import BaseEstimator

    module_name, _, attr = estimator.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise fail(
            step,
            model,
            f"cannot import estimator {estimator!r} named in params.yaml: "
            f"{type(exc).__name__}: {exc}",
            hint="Check `estimator` in ml.yaml and that its package is installed.",
        ) from None
    cls = getattr(module, attr, None)
    if not isinstance(cls, type):
        raise fail(step, model, f"{estimator!r} named in params.yaml is not a class")
    names = {_name(cls)}
    if module_name.split(".", 1)[0] != "sklearn":
        modules = [module]
        defining = sys.modules.get(cls.__module__)  # imported with the class, not imported here
        if defining is not None and defining is not module:
            modules.append(defining)
        for mod in modules:
            names.update(
                _name(obj)
                for obj in vars(mod).values()
                if isinstance(obj, type) and issubclass(obj, BaseEstimator)
            )
    return names


def _name(cls: type[Any]) -> str:
    """The name skops gives a class in a file: defining module and class name."""
    return f"{cls.__module__}.{cls.__name__}"


# --- trees of a loaded model -----------------------------------------------------------------


def tree_problems(model: Any) -> list[str]:
    """What is wrong with the node arrays of the trees a loaded model holds (empty when nothing).

    Each tree's feature indices are bounded by the smallest `n_features_in_` of the estimators
    holding it, counted from the step that receives its own input (a pipeline step, a stacking
    final estimator, a chain link), whose count scikit-learn checks against the data it predicts.
    """
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import StackingClassifier, StackingRegressor
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.multioutput import ClassifierChain, RegressorChain
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.tree._tree import Tree

    new_input = (
        Pipeline,
        ColumnTransformer,
        FeatureUnion,
        StackingClassifier,
        StackingRegressor,
        ClassifierChain,
        RegressorChain,
    )
    problems: list[str] = []
    seen: set[int] = set()
    stack: list[tuple[Any, Any, float]] = [(model, None, math.inf)]
    while stack:
        value, owner, bound = stack.pop()
        if value is None or isinstance(value, (str, bytes, int, float, type)) or id(value) in seen:
            continue
        seen.add(id(value))
        where = type(owner).__name__ if owner is not None else "the model"
        if isinstance(value, Tree):
            limit = min(bound, float(value.n_features))
            problems.extend(f"{where}: {p}" for p in _tree_problems(value, limit))
        elif isinstance(value, TreePredictor):
            problems.extend(f"{where}: {p}" for p in _predictor_problems(value, owner, bound))
        elif isinstance(value, np.ndarray):
            if value.dtype == object:
                stack.extend((item, owner, bound) for item in value.ravel())
        elif isinstance(value, (list, tuple)):
            stack.extend((item, owner, bound) for item in value)
        elif isinstance(value, dict):
            stack.extend((item, owner, bound) for item in value.values())
        elif hasattr(value, "__dict__"):
            attrs = vars(value)
            count = attrs.get("n_features_in_")
            inner = math.inf if isinstance(value, new_input) else bound
            if isinstance(count, (int, np.integer)):
                inner = min(inner, float(count))
            stack.extend((item, value, inner) for item in attrs.values())
    return problems


def _children_problems(left: Any, right: Any, inner: Any) -> list[str]:
    """Children of inner nodes must come after their parent and inside the array."""
    import numpy as np

    n = len(inner)
    index = np.arange(n)
    out = []
    for name, children in (("left", left), ("right", right)):
        child = np.asarray(children, dtype=np.int64)[inner]
        if np.any(child <= index[inner]) or np.any(child >= n):
            out.append(f"a {name} child index outside the tree's {n} nodes")
    return out


def _tree_problems(tree: Any, limit: float) -> list[str]:
    import numpy as np

    n = int(tree.node_count)
    if n < 1:
        return ["a tree without nodes"]
    left = np.asarray(tree.children_left)
    right = np.asarray(tree.children_right)
    leaf = left == -1
    if np.any((right == -1) != leaf):
        return ["a tree node with one child"]
    out = _children_problems(left, right, ~leaf)
    feature = np.asarray(tree.feature)[~leaf]
    if np.any(feature < 0) or np.any(feature >= limit):
        out.append(f"a split on a feature outside the {limit:.0f} the tree receives")
    return out


def _predictor_problems(predictor: Any, owner: Any, bound: float) -> list[str]:
    import numpy as np
    from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE

    nodes = getattr(predictor, "nodes", None)
    if (
        not isinstance(nodes, np.ndarray)
        or nodes.dtype != PREDICTOR_RECORD_DTYPE
        or nodes.ndim != 1
        or len(nodes) < 1
    ):
        return ["a gradient boosting tree whose node array is not scikit-learn's"]
    inner = nodes["is_leaf"] == 0
    out = _children_problems(nodes["left"], nodes["right"], inner)
    feature = nodes["feature_idx"].astype(np.int64)
    if np.any(feature[inner] < 0) or np.any(feature[inner] >= bound):
        out.append("a split on a feature outside the ones the model receives")
        return out
    categorical = inner & (nodes["is_categorical"] != 0)
    if np.any(categorical):
        bitsets = getattr(predictor, "raw_left_cat_bitsets", None)
        mapper = vars(owner).get("_bin_mapper") if hasattr(owner, "__dict__") else None
        flags = getattr(mapper, "is_categorical_", None)
        if (
            not isinstance(bitsets, np.ndarray)
            or bitsets.ndim != 2
            or bitsets.shape[1] != 8
            or np.any(nodes["bitset_idx"][categorical] >= bitsets.shape[0])
            or not isinstance(flags, np.ndarray)
            or flags.ndim != 1
            or np.any(feature[categorical] >= flags.size)
            or not np.all(flags[feature[categorical]])
        ):
            out.append("a categorical split without its categories")
    return out
