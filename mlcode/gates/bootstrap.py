"""Paired bootstrap of (candidate - champion) over the same test rows (pure: numpy only).

A `vs_champion` rule with `confidence: c` is decided by an interval, not by two numbers: row
indices of the test split are resampled with replacement (a seeded numpy generator, so the same
inputs give the same interval), each metric is computed for the candidate and the champion on the
SAME resample, and the `(1-c)/2` and `(1+c)/2` percentiles of the differences are the interval.

Vectorised: resamples are drawn in blocks (a resample x row matrix of row indices), and every
metric is a sum over each resample's rows of per-row values computed once (a numpy gather and a
row sum), or for roc_auc one `bincount` of the rows per score level and class, so no
scikit-learn call runs per resample. Measured: 2,000 resamples of 10,000 rows in 0.2 s for
accuracy and 1.4 s for roc_auc on a busy 2-core machine. On the full sample (every row once)
each metric equals what the built-in evaluate step reports (tests/test_gates_bootstrap.py checks
that against its `evaluate`, and on resampled rows against `evaluate` on the repeated rows),
with the evaluate step's conventions:
binary precision/recall/f1 score the second sorted class, multiclass ones are macro averages over
the model's classes, roc_auc is binary or one-vs-rest macro, zero division gives 0.

A resample where a metric is undefined (roc_auc with one class only) is left out of that metric's
interval; when no resample defines it there is no interval.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

RESAMPLES = 2000
BLOCK = 250  # resamples per block: 250 x 10k rows of float64 is 20 MB

CLASSIFICATION = frozenset(
    {"accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"}
)
REGRESSION = frozenset({"rmse", "mae", "r2", "mape"})


@dataclass(frozen=True)
class Predictions:
    """One model's predictions on the test rows.

    `predicted`: the predicted label (classification) or value (regression) of each row;
    `proba`: rows x classes predicted probabilities in the order of `classes` (None when the model
    has no predict_proba); `classes`: the model's classes (`classes_`), empty for regression.
    """

    predicted: Any
    proba: Any = None
    classes: Sequence[Any] = ()


class Resamples:
    """A block of resamples: `rows[b]` are the row indices of resample `b` (with repeats).

    Sums over a resample gather the values of its rows (cheaper than a resample x row matrix of
    counts and a matrix product); roc_auc tallies the rows per score level and class.
    """

    def __init__(self, rows: np.ndarray, n: int) -> None:
        self.rows = rows
        self.n = n

    @classmethod
    def of_counts(cls, counts: Any) -> Resamples:
        """Resamples given as a (resample x row) matrix of how often each row is drawn."""
        import numpy as np

        matrix = np.asarray(counts, dtype=np.int64)
        size = int(matrix[0].sum())
        if np.any(matrix.sum(axis=1) != size):
            raise ValueError("every resample must draw the same number of rows")
        index = np.arange(matrix.shape[1])
        rows = np.stack([np.repeat(index, line) for line in matrix])
        return cls(rows, matrix.shape[1])

    def total(self, values: np.ndarray) -> np.ndarray:
        """Per resample, the sum of `values` (one per row, or rows x k) over its rows."""
        import numpy as np

        if values.ndim == 1:
            result: np.ndarray = values[self.rows].sum(axis=1)
            return result
        columns = [
            np.ascontiguousarray(values[:, j])[self.rows].sum(axis=1)
            for j in range(values.shape[1])
        ]
        return np.stack(columns, axis=1) if columns else np.zeros((len(self.rows), 0))

    def tally(self, codes: np.ndarray, kinds: int) -> np.ndarray:
        """(resample x kind) how many of each resample's rows have each code (0 <= code < kinds)."""
        import numpy as np

        blocks = self.rows.shape[0]
        offsets = (np.arange(blocks, dtype=np.int64) * kinds)[:, None]
        flat = np.bincount((codes[self.rows] + offsets).ravel(), minlength=blocks * kinds)
        return flat.reshape(blocks, kinds).astype(float)

    @property
    def size(self) -> int:
        """Rows drawn by each resample."""
        return int(self.rows.shape[1])


Metric = Callable[[Resamples], "np.ndarray"]


def paired_bootstrap(
    truth: Any,
    candidate: Predictions,
    champion: Predictions,
    metrics: Sequence[str],
    confidence: float,
    *,
    task: str,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> dict[str, tuple[float, float] | None]:
    """Per metric, the percentile interval of (candidate - champion) at `confidence`.

    None for a metric no resample defines. ValueError for a metric this module does not know or
    an input of the wrong shape.
    """
    import numpy as np

    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, not {resamples}")
    y = np.asarray(truth)
    n = len(y)
    if n == 0:
        raise ValueError("no test rows to resample")
    pairs = [
        (name, metric_fn(name, y, candidate, task), metric_fn(name, y, champion, task))
        for name in metrics
    ]
    diffs: dict[str, list[np.ndarray]] = {name: [] for name in metrics}
    rng = np.random.default_rng(seed)
    done = 0
    while done < resamples:
        size = min(BLOCK, resamples - done)
        rows = rng.integers(0, n, size=(size, n), dtype=np.int64 if n * size > 2**31 else np.int32)
        sample = Resamples(rows, n)
        for name, ours, theirs in pairs:
            diffs[name].append(ours(sample) - theirs(sample))
        done += size
    tail = (1 - confidence) / 2
    out: dict[str, tuple[float, float] | None] = {}
    for name in metrics:
        values = np.concatenate(diffs[name])
        values = values[np.isfinite(values)]
        if values.size == 0:
            out[name] = None
            continue
        low, high = np.quantile(values, [tail, 1 - tail])
        out[name] = (float(low), float(high))
    return out


def point(truth: Any, model: Predictions, metric: str, *, task: str) -> float:
    """The metric on the test rows as they are (every row once)."""
    import numpy as np

    y = np.asarray(truth)
    return float(
        metric_fn(metric, y, model, task)(Resamples(np.arange(len(y))[None, :], len(y)))[0]
    )


def metric_fn(name: str, y: np.ndarray, model: Predictions, task: str) -> Metric:
    """A function of a (resamples x rows) count matrix giving the metric for each resample."""
    import numpy as np

    predicted = np.asarray(model.predicted)
    if predicted.shape[:1] != y.shape[:1]:
        raise ValueError(f"{len(predicted)} predictions for {len(y)} test rows")
    if task == "regression":
        if name not in REGRESSION:
            raise ValueError(f"no bootstrap for regression metric {name!r}")
        return _regression(name, y.astype(float), predicted.astype(float).ravel())
    if name not in CLASSIFICATION:
        raise ValueError(f"no bootstrap for classification metric {name!r}")
    classes = np.asarray(model.classes)
    if name in ("roc_auc", "log_loss"):
        if model.proba is None:
            raise ValueError(f"{name} needs predicted probabilities")
        proba = np.asarray(model.proba, dtype=float)
        if proba.shape != (len(y), len(classes)):
            raise ValueError(f"probabilities of shape {proba.shape} for {len(y)} rows")
        return _auc(y, proba, classes) if name == "roc_auc" else _log_loss(y, proba, classes)
    return _labels(name, y, predicted, classes)


def _ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """top / bottom, 0 where bottom is 0 (scikit-learn's zero_division=0)."""
    import numpy as np

    safe = np.where(bottom > 0, bottom, 1.0)
    out: np.ndarray = np.where(bottom > 0, top / safe, 0.0)
    return out


def _labels(name: str, y: np.ndarray, predicted: np.ndarray, classes: np.ndarray) -> Metric:
    import numpy as np

    if name == "accuracy":
        hit = (predicted == y).astype(float)
        return lambda w: w.total(hit) / w.size
    if name == "balanced_accuracy":
        # scikit-learn: recall of each class present in the (resampled) truth, averaged
        labels = np.unique(np.concatenate([y, predicted]))
        truth = (y[:, None] == labels[None, :]).astype(float)
        hits = truth * (predicted == y)[:, None]

        def balanced(w: Resamples) -> np.ndarray:
            support = w.total(truth)
            recall = _ratio(w.total(hits), support)
            present = support > 0
            result: np.ndarray = (recall * present).sum(axis=1) / present.sum(axis=1)
            return result

        return balanced
    sorted_classes = np.sort(classes)
    binary = len(classes) == 2
    chosen = sorted_classes[1:] if binary else classes
    is_true = (y[:, None] == chosen[None, :]).astype(float)
    is_pred = (predicted[:, None] == chosen[None, :]).astype(float)
    both = is_true * is_pred

    def per_class(w: Resamples) -> np.ndarray:
        tp, true, pred = w.total(both), w.total(is_true), w.total(is_pred)
        if name == "precision":
            score = _ratio(tp, pred)
        elif name == "recall":
            score = _ratio(tp, true)
        else:  # f1 = 2tp / (2tp + fp + fn)
            score = _ratio(2 * tp, true + pred)
        result: np.ndarray = score.mean(axis=1)
        return result

    return per_class


def _binary_auc(truth: np.ndarray, scores: np.ndarray) -> Metric:
    """Weighted Mann-Whitney AUC (ties count a half), as roc_auc_score computes it."""
    import numpy as np

    levels, level = np.unique(scores, return_inverse=True)
    codes = level.astype(np.int64) * 2 + truth.astype(np.int64)  # (score level, positive?)

    def auc(w: Resamples) -> np.ndarray:
        tally = w.tally(codes, 2 * len(levels)).reshape(len(w.rows), len(levels), 2)
        neg, pos = tally[:, :, 0], tally[:, :, 1]
        below = np.cumsum(neg, axis=1) - neg
        total_pos, total_neg = pos.sum(axis=1), neg.sum(axis=1)
        area = (pos * (below + neg / 2)).sum(axis=1)
        defined = (total_pos > 0) & (total_neg > 0)
        safe = np.where(defined, total_pos * total_neg, 1.0)
        result: np.ndarray = np.where(defined, area / safe, np.nan)
        return result

    return auc


def _auc(y: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> Metric:
    import numpy as np

    if len(classes) == 2:
        pos_label = np.sort(classes)[1]
        column = int(np.flatnonzero(classes == pos_label)[0])
        return _binary_auc(y == pos_label, proba[:, column])
    each = [_binary_auc(y == c, proba[:, i]) for i, c in enumerate(classes)]

    def macro(w: Resamples) -> np.ndarray:
        result: np.ndarray = np.mean([fn(w) for fn in each], axis=0)
        return result

    return macro


def _log_loss(y: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> Metric:
    import numpy as np

    # scikit-learn: probabilities clipped to [eps, 1 - eps] (not renormalised), columns in the
    # sorted order of the labels
    eps = np.finfo(proba.dtype).eps
    clipped = np.clip(proba, eps, 1 - eps)
    column = np.clip(np.searchsorted(np.sort(classes), y), 0, len(classes) - 1)
    loss = -np.log(clipped[np.arange(len(y)), column])
    return lambda w: w.total(loss) / w.size


def _regression(name: str, y: np.ndarray, predicted: np.ndarray) -> Metric:
    import numpy as np

    n = len(y)
    error = y - predicted
    if name == "mae":
        absolute = np.abs(error)
        return lambda w: w.total(absolute) / w.size
    if name == "rmse":
        squared = error**2
        return lambda w: np.sqrt(w.total(squared) / n)
    if name == "mape":
        ratio = np.abs(error) / np.maximum(np.abs(y), np.finfo(np.float64).eps)
        return lambda w: w.total(ratio) / w.size
    squared = error**2
    centred = y - y.mean()  # r2; centred first so the weighted variance does not cancel

    def r2(w: Resamples) -> np.ndarray:
        residual = w.total(squared)
        total = w.total(centred**2) - (w.total(centred)) ** 2 / w.size
        flat = total <= 0
        safe = np.where(flat, 1.0, total)
        result: np.ndarray = np.where(flat, np.where(residual == 0, 1.0, 0.0), 1 - residual / safe)
        return result

    return r2
