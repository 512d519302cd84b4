"""The built-in `evaluate` step: metrics of the trained model on the test split, and plot data.

Writes `metrics/M.json` (flat `{metric: number}`, only the metrics listed in `M.metrics`, in that
order) and one JSON list of records per plot of `mlcode.layout.plot_kinds(task)`.

Conventions (documented in the README):
- Binary classification: precision, recall and f1 use `pos_label` = the second of the sorted class
  labels (e.g. `1` of `0/1`, `yes` of `no/yes`); roc_auc scores that class. Multiclass: precision,
  recall and f1 are macro averages, roc_auc is one-vs-rest macro.
- roc_auc and log_loss need `predict_proba`; for an estimator without it they are an error.
- Curves (roc, precision_recall) of a multiclass model are micro-averaged one-vs-rest, so the files
  dvc.yaml declares always exist. Curves keep at most `MAX_POINTS` points, scatter plots at most
  `MAX_POINTS` rows and the confusion plot at most `MAX_CONFUSION` rows, chosen deterministically.
- mape is a fraction (0.1 = 10 %), as scikit-learn computes it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlcode.layout import model_paths, plot_kinds
from mlcode.spec.names import TASK_METRICS
from mlcode.steps.common import ModelParams, Outputs, fail, load_params
from mlcode.steps.model_io import load_model

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

STEP = "evaluate"
MAX_POINTS = 1000
MAX_CONFUSION = 10_000
PROBA_METRICS = frozenset({"roc_auc", "log_loss"})

Records = list[dict[str, Any]]


def run(root: Path, model: str) -> None:
    """Run evaluate for `model` in the repository at `root`."""
    import pandas as pd

    params = load_params(root, model, STEP)
    paths = model_paths(model)
    test_path = root / paths.test_split
    model_file = root / paths.model_file
    for rel, what in ((paths.test_split, "prepare"), (paths.model_file, "train")):
        if not (root / rel).is_file():
            raise fail(STEP, model, f"{rel} not found; run the {what} stage first")
    # The estimator whose package is trusted comes from params.yaml, never from the model folder
    # (its card is as open to tampering as the model file).
    pipeline = load_model(model_file, params.estimator, model=model, step=STEP)
    frame = pd.read_parquet(test_path, engine="pyarrow")
    result = evaluate(pipeline, frame, params)
    outputs = [paths.metrics, *(paths.plot(kind) for kind in plot_kinds(params.task))]
    with Outputs(root, outputs) as out:
        text = json.dumps(result.metrics, indent=2, allow_nan=False) + "\n"
        out.temp(paths.metrics).write_text(text, encoding="utf-8")
        for kind, records in result.plots.items():
            out.temp(paths.plot(kind)).write_text(_records_text(records), encoding="utf-8")


def _records_text(records: Records) -> str:
    """A JSON list with one record per line: small, diffable, valid JSON."""
    if not records:
        return "[]\n"
    lines = ",\n".join(json.dumps(r, allow_nan=False) for r in records)
    return f"[\n{lines}\n]\n"


class Evaluation:
    """Metrics and plot records of one model on its test split."""

    def __init__(self, metrics: dict[str, float], plots: dict[str, Records]) -> None:
        self.metrics = metrics
        self.plots = plots


def evaluate(pipeline: Any, frame: pd.DataFrame, params: ModelParams) -> Evaluation:
    """Compute the requested metrics and every plot of the task."""
    target = params.data.target
    assert target is not None
    unknown = [m for m in params.metrics if m not in TASK_METRICS[params.task]]
    if unknown:
        raise fail(
            STEP,
            params.name,
            f"unknown {params.task} metric(s) {', '.join(unknown)} "
            f"(known: {', '.join(TASK_METRICS[params.task])})",
        )
    if len(frame) == 0:
        raise fail(STEP, params.name, "the test split has no rows")
    missing = [c for c in [*params.data.features, target] if c not in frame.columns]
    if missing:
        raise fail(STEP, params.name, f"the test split lacks column(s) {', '.join(missing)}")
    x = frame[params.data.features]
    y = frame[target].to_numpy()
    try:
        if params.is_classification:
            return _classification(pipeline, x, y, params)
        return _regression(pipeline, x, y, params)
    except ValueError as exc:
        if type(exc).__name__ == "StepError":
            raise
        raise fail(STEP, params.name, f"{type(exc).__name__}: {exc}") from None


def _finite(params: ModelParams, metrics: dict[str, float]) -> dict[str, float]:
    for name, value in metrics.items():
        if not math.isfinite(value):
            raise fail(
                STEP,
                params.name,
                f"metric {name} is {value} on this test split (too few rows or classes?)",
                hint=f"Enlarge `split.test_size` or drop {name} from `metrics` in ml.yaml.",
            )
    return metrics


def _classification(
    pipeline: Any, x: pd.DataFrame, y: np.ndarray, params: ModelParams
) -> Evaluation:
    import numpy as np
    from sklearn import metrics as skm

    classes = np.asarray(pipeline.classes_)
    sorted_classes = np.sort(classes)
    binary = len(classes) == 2
    predicted = pipeline.predict(x)
    has_proba = hasattr(pipeline, "predict_proba")
    proba = np.asarray(pipeline.predict_proba(x)) if has_proba else None
    need_proba = [m for m in params.metrics if m in PROBA_METRICS]
    if need_proba and proba is None:
        raise fail(
            STEP,
            params.name,
            f"metric(s) {', '.join(need_proba)} need predicted probabilities, but "
            f"{params.estimator} has no predict_proba",
            hint=f"Drop {', '.join(need_proba)} from `metrics` of this model in ml.yaml, "
            "or choose an estimator with predict_proba.",
        )
    pos_label = sorted_classes[1] if binary else None
    average = "binary" if binary else "macro"
    pos_index = int(np.flatnonzero(classes == pos_label)[0]) if binary else 0

    def prf(fn: Callable[..., float]) -> Callable[[], float]:
        return lambda: float(
            fn(y, predicted, average=average, pos_label=pos_label, zero_division=0)
            if binary
            else fn(y, predicted, average=average, labels=classes, zero_division=0)
        )

    def roc_auc() -> float:
        assert proba is not None
        if binary:
            return float(skm.roc_auc_score(y == pos_label, proba[:, pos_index]))
        return float(
            skm.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=classes)
        )

    def log_loss() -> float:
        assert proba is not None
        return float(skm.log_loss(y, proba, labels=classes))

    compute: dict[str, Callable[[], float]] = {
        "accuracy": lambda: float(skm.accuracy_score(y, predicted)),
        "balanced_accuracy": lambda: float(skm.balanced_accuracy_score(y, predicted)),
        "precision": prf(skm.precision_score),
        "recall": prf(skm.recall_score),
        "f1": prf(skm.f1_score),
        "roc_auc": roc_auc,
        "log_loss": log_loss,
    }
    metrics = _finite(params, _compute(compute, params))
    scores = _scores(pipeline, x, proba, predicted, classes)
    if binary:
        truth = (y == pos_label).astype(int)
        flat_scores = scores[:, pos_index]
    else:
        truth = (y[:, None] == classes[None, :]).astype(int).ravel()
        flat_scores = scores.ravel()
    plots = {
        "confusion": _confusion(y, predicted, params.split.seed),
        "roc": _roc(truth, flat_scores),
        "precision_recall": _precision_recall(truth, flat_scores),
    }
    return Evaluation(metrics, plots)


def _compute(compute: dict[str, Callable[[], float]], params: ModelParams) -> dict[str, float]:
    out: dict[str, float] = {}
    for name in params.metrics:
        try:
            out[name] = compute[name]()
        except ValueError as exc:
            raise fail(
                STEP,
                params.name,
                f"cannot compute metric {name}: {exc}",
                hint=f"Drop {name} from `metrics` of this model in ml.yaml, or enlarge the test "
                "split so every class appears in it.",
            ) from None
    return out


def _scores(
    pipeline: Any, x: pd.DataFrame, proba: np.ndarray | None, predicted: np.ndarray, classes: Any
) -> np.ndarray:
    """Per-class scores for curves: probabilities, else decision values, else hard predictions."""
    import numpy as np

    if proba is not None:
        return proba
    if hasattr(pipeline, "decision_function"):
        decision = np.asarray(pipeline.decision_function(x), dtype=float)
        if decision.ndim == 1:
            return np.column_stack([-decision, decision])
        return decision
    hard: np.ndarray = np.asarray(predicted)[:, None] == np.asarray(classes)[None, :]
    return hard.astype(float)


def _regression(pipeline: Any, x: pd.DataFrame, y: np.ndarray, params: ModelParams) -> Evaluation:
    import numpy as np
    from sklearn import metrics as skm

    actual = np.asarray(y, dtype=float)
    predicted = np.asarray(pipeline.predict(x), dtype=float).ravel()
    compute: dict[str, Callable[[], float]] = {
        "rmse": lambda: float(np.sqrt(skm.mean_squared_error(actual, predicted))),
        "mae": lambda: float(skm.mean_absolute_error(actual, predicted)),
        "r2": lambda: float(skm.r2_score(actual, predicted)),
        "mape": lambda: float(skm.mean_absolute_percentage_error(actual, predicted)),
    }
    metrics = _finite(params, _compute(compute, params))
    rows = _even(len(actual), MAX_POINTS)
    plots = {
        "predicted_vs_actual": _records({"actual": actual[rows], "predicted": predicted[rows]}),
        "residuals": _records(
            {"predicted": predicted[rows], "residual": actual[rows] - predicted[rows]}
        ),
    }
    return Evaluation(metrics, plots)


def _even(n: int, cap: int) -> np.ndarray:
    """Indices of at most `cap` rows spread evenly over `n` (first and last included)."""
    import numpy as np

    if n <= cap:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, cap).round().astype(int))


def _records(columns: dict[str, np.ndarray]) -> Records:
    """Rows of float columns as records, skipping rows with a non-finite value."""
    names = list(columns)
    out: Records = []
    for values in zip(*(columns[n].tolist() for n in names), strict=True):
        if all(math.isfinite(v) for v in values):
            out.append({n: round(float(v), 6) for n, v in zip(names, values, strict=True)})
    return out


def _confusion(y: np.ndarray, predicted: np.ndarray, seed: int) -> Records:
    """One record per test row (a seeded sample of MAX_CONFUSION rows on larger splits)."""
    import numpy as np

    rows = np.arange(len(y))
    if len(y) > MAX_CONFUSION:
        rows = np.sort(np.random.default_rng(seed).choice(len(y), MAX_CONFUSION, replace=False))
    return [
        {"actual": str(a), "predicted": str(p)}
        for a, p in zip(y[rows].tolist(), np.asarray(predicted)[rows].tolist(), strict=True)
    ]


def _roc(truth: np.ndarray, scores: np.ndarray) -> Records:
    from sklearn.metrics import roc_curve

    if truth.min() == truth.max():  # one class only: no curve to draw
        return []
    fpr, tpr, _ = roc_curve(truth, scores)
    keep = _even(len(fpr), MAX_POINTS)
    return _records({"fpr": fpr[keep], "tpr": tpr[keep]})


def _precision_recall(truth: np.ndarray, scores: np.ndarray) -> Records:
    from sklearn.metrics import precision_recall_curve

    if truth.max() == 0:  # no positive: recall undefined
        return []
    precision, recall, _ = precision_recall_curve(truth, scores)
    keep = _even(len(recall), MAX_POINTS)
    return _records({"recall": recall[keep], "precision": precision[keep]})


if __name__ == "__main__":  # pragma: no cover - `python -m mlcode.steps.evaluate MODEL`
    from mlcode.steps import main_for

    main_for(STEP)
