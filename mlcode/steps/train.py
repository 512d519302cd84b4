"""The built-in `train` step: a scikit-learn Pipeline fitted on the train split, saved with skops.

The pipeline is a ColumnTransformer (numeric: median imputation + scaling; categorical: most-frequent
imputation + one-hot with `handle_unknown="ignore"`) followed by the estimator named by import path
with its params from params.yaml. `models/M/` holds `model.skops` and `card.json`, a small model card
with no timestamp (same inputs, same card, so DVC sees no spurious change).

Saving and loading go through `mlcode.steps.model_io`: the file is byte-reproducible, and loading
trusts exact classes (never packages) and refuses anything else before skops builds an object.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlcode.layout import model_paths
from mlcode.steps.common import ModelParams, atomic_dir, fail, load_params, sha256_file
from mlcode.steps.model_io import save_model

if TYPE_CHECKING:
    import pandas as pd

STEP = "train"
CARD_VERSION = 1
MODEL_FILE = "model.skops"
CARD_FILE = "card.json"


def run(root: Path, model: str) -> None:
    """Run train for `model` in the repository at `root`."""
    import pandas as pd

    params = load_params(root, model, STEP)
    if params.estimator is None:
        raise fail(
            STEP,
            model,
            "params.yaml names no estimator (this model has its own train command)",
            hint="Run `mlcode apply` to regenerate dvc.yaml; the built-in train step is not used.",
        )
    paths = model_paths(model)
    split_path = root / paths.train_split
    if not split_path.is_file():
        raise fail(STEP, model, f"{paths.train_split} not found; run the prepare stage first")
    frame = pd.read_parquet(split_path, engine="pyarrow")
    _check_split(frame, params)
    pipeline = build_pipeline(params)
    fit(pipeline, frame, params)
    card = model_card(params, frame, pipeline, sha256_file(split_path), paths.train_split)
    with atomic_dir(root / paths.model_dir) as folder:
        save_model(pipeline, folder / MODEL_FILE)
        (folder / CARD_FILE).write_text(
            json.dumps(card, indent=2, default=str) + "\n", encoding="utf-8"
        )


def _check_split(frame: pd.DataFrame, params: ModelParams) -> None:
    target = params.data.target
    missing = [c for c in [*params.data.features, target] if c is None or c not in frame.columns]
    if missing:
        raise fail(
            STEP,
            params.name,
            f"the train split lacks column(s) {', '.join(repr(c) for c in missing)}; "
            "run the prepare stage again (`mlcode run`)",
        )
    assert target is not None
    nans = int(frame[target].isna().sum())
    if nans:
        raise fail(STEP, params.name, f"target column {target!r} has {nans} missing value(s)")
    if len(frame) == 0:
        raise fail(STEP, params.name, "the train split has no rows")
    if params.is_classification and frame[target].nunique() < 2:
        raise fail(
            STEP,
            params.name,
            f"target column {target!r} has a single class ({frame[target].iloc[0]!r}) in the "
            "train split; classification needs at least two",
        )


def import_estimator(params: ModelParams, step: str = STEP) -> type[Any]:
    """The estimator class named by `params.estimator`, or a clear error."""
    path = params.estimator or ""
    module_name, _, attr = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise fail(
            step,
            params.name,
            f"cannot import estimator {path!r}: {type(exc).__name__}: {exc}",
            hint="Check `estimator` in ml.yaml and that its package is installed.",
        ) from None
    cls = getattr(module, attr, None)
    if cls is None:
        import difflib

        close = difflib.get_close_matches(attr, [n for n in dir(module) if n[:1].isupper()], n=1)
        hint = f"; did you mean {module_name}.{close[0]}?" if close else ""
        raise fail(step, params.name, f"module {module_name!r} has no {attr!r}{hint}")
    if not isinstance(cls, type) or not hasattr(cls, "fit"):
        raise fail(step, params.name, f"{path!r} is not an estimator class with fit()")
    return cls


def make_estimator(params: ModelParams) -> Any:
    """Instantiate the estimator with the model's params, checking it suits the task."""
    from sklearn.base import is_classifier, is_regressor

    cls = import_estimator(params)
    try:
        estimator = cls(**params.params)
    except TypeError as exc:
        raise fail(
            STEP,
            params.name,
            f"invalid params for {params.estimator}: {exc}",
            hint="Check `params` of this model in ml.yaml against the estimator's documentation.",
        ) from None
    if params.is_classification and is_regressor(estimator):
        raise fail(
            STEP, params.name, f"{params.estimator} is a regressor but the task is classification"
        )
    if not params.is_classification and is_classifier(estimator):
        raise fail(
            STEP, params.name, f"{params.estimator} is a classifier but the task is regression"
        )
    return estimator


def build_pipeline(params: ModelParams) -> Any:
    """Preprocessing (ColumnTransformer) + the estimator, as one scikit-learn Pipeline."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    transformers: list[tuple[str, Any, list[str]]] = []
    if params.data.numeric:
        numeric = Pipeline(
            [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
        )
        transformers.append(("numeric", numeric, list(params.data.numeric)))
    if params.data.categorical:
        categorical = Pipeline(
            [
                ("impute", SimpleImputer(strategy="most_frequent")),
                ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
            ]
        )
        transformers.append(("categorical", categorical, list(params.data.categorical)))
    preprocess = ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)
    return Pipeline([("preprocess", preprocess), ("estimator", make_estimator(params))])


def fit(pipeline: Any, frame: pd.DataFrame, params: ModelParams) -> None:
    """Fit on the train split; estimator and data errors become a StepError."""
    from sklearn.utils._param_validation import InvalidParameterError

    target = params.data.target
    x = frame[params.data.features]
    y = frame[target]
    try:
        pipeline.fit(x, y)
    except InvalidParameterError as exc:
        raise fail(
            STEP,
            params.name,
            f"invalid params for {params.estimator}: {exc}",
            hint="Check `params` of this model in ml.yaml.",
        ) from None
    except Exception as exc:
        raise fail(
            STEP,
            params.name,
            f"fitting {params.estimator} failed: {type(exc).__name__}: {exc}",
        ) from None


def model_card(
    params: ModelParams, frame: pd.DataFrame, pipeline: Any, data_hash: str, split_path: str
) -> dict[str, Any]:
    """The card saved beside the model: what it was trained on, with what, by which versions."""
    import numpy
    import pandas
    import sklearn
    import skops

    from mlcode import __version__

    target = params.data.target
    assert target is not None
    card: dict[str, Any] = {
        "card_version": CARD_VERSION,
        "model": params.name,
        "task": params.task,
        "estimator": params.estimator,
        "params": params.params,
        "format": "skops",
        "data": {"train_split": split_path, "sha256": data_hash, "rows": len(frame)},
        "features": {
            "numeric": list(params.data.numeric),
            "categorical": list(params.data.categorical),
            "dtypes": {c: str(frame[c].dtype) for c in params.data.features},
        },
        "target": {"column": target, "dtype": str(frame[target].dtype)},
        "versions": {
            "mlcode": __version__,
            "scikit-learn": sklearn.__version__,
            "pandas": pandas.__version__,
            "numpy": numpy.__version__,
            "skops": skops.__version__,
        },
    }
    if params.is_classification:
        card["target"]["classes"] = [_plain(v) for v in pipeline.classes_]
    return card


def _plain(value: Any) -> Any:
    """A numpy scalar as the matching Python value (for JSON)."""
    return value.item() if hasattr(value, "item") else value


if __name__ == "__main__":  # pragma: no cover - `python -m mlcode.steps.train MODEL`
    from mlcode.steps import main_for

    main_for(STEP)
