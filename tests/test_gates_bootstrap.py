"""The paired bootstrap: the evaluate step's metrics on the full sample and on repeated rows, a
closed-form interval, reproducibility and properties (identical models, swapped models)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlcode.gates.bootstrap import Predictions, Resamples, metric_fn, paired_bootstrap, point
from mlcode.spec.names import TASK_METRICS
from mlcode.steps import evaluate
from mlcode.steps.common import DataParams, ModelParams, SplitParams

CLASSIFICATION = TASK_METRICS["classification"]
REGRESSION = TASK_METRICS["regression"]


def _params(task: str, metrics: tuple[str, ...]) -> ModelParams:
    return ModelParams(
        name="m",
        task=task,
        data=DataParams("d.csv", "csv", "y", ("a", "b"), ()),
        split=SplitParams(0.25, 0, task == "classification"),
        estimator=None,
        metrics=metrics,
    )


def _fitted(task: str, classes: int, seed: int) -> tuple[Any, pd.DataFrame]:
    from sklearn.linear_model import LinearRegression, LogisticRegression

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(120, 2))
    if task == "classification":
        y: Any = np.array(["cat", "dog", "emu"][:classes])[
            (x[:, 0] + rng.normal(size=120) > 0).astype(int) + (classes == 3) * (x[:, 1] > 0.5)
        ]
    else:
        y = 3 * x[:, 0] - x[:, 1] + rng.normal(size=120) + 5
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": y})
    train, test = frame.iloc[:60], frame.iloc[60:].reset_index(drop=True)
    model: Any = LogisticRegression() if task == "classification" else LinearRegression()
    return model.fit(train[["a", "b"]], train["y"]), test


def _predictions(model: Any, frame: pd.DataFrame, task: str) -> Predictions:
    x = frame[["a", "b"]]
    if task == "regression":
        return Predictions(model.predict(x))
    return Predictions(model.predict(x), model.predict_proba(x), tuple(model.classes_))


@pytest.mark.parametrize(
    ("task", "classes", "metrics"),
    [
        ("classification", 2, CLASSIFICATION),
        ("classification", 3, CLASSIFICATION),
        ("regression", 0, REGRESSION),
    ],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_metric_is_the_evaluate_steps_on_the_sample_and_on_repeated_rows(
    task: str, classes: int, metrics: tuple[str, ...], seed: int
) -> None:
    model, frame = _fitted(task, classes, seed)
    params = _params(task, metrics)
    preds = _predictions(model, frame, task)
    y = frame["y"].to_numpy()
    expected = evaluate.evaluate(model, frame, params).metrics
    for name in metrics:
        assert point(y, preds, name, task=task) == pytest.approx(expected[name], rel=1e-12)
    # a resample is the test rows repeated by their counts: the evaluate step on those rows
    counts = np.random.default_rng(seed).multinomial(len(y), np.full(len(y), 1 / len(y)))
    repeated = frame.loc[frame.index.repeat(counts)].reset_index(drop=True)
    on_repeated = evaluate.evaluate(model, repeated, params).metrics
    for name in metrics:
        got = metric_fn(name, y, preds, task)(Resamples.of_counts(counts[None, :]))[0]
        assert got == pytest.approx(on_repeated[name], rel=1e-9, abs=1e-12), name


def test_closed_form_accuracy_interval() -> None:
    """The candidate is right on every row, the champion wrong on `k` of `n`: on a resample the
    accuracy difference is (resampled rows among those k) / n ~ Binomial(n, k/n) / n exactly."""
    from scipy.stats import binom

    n, k, confidence = 400, 40, 0.9
    y = np.zeros(n, dtype=int)
    y[::2] = 1
    wrong = y.copy()
    wrong[:k] = 1 - wrong[:k]
    classes = (0, 1)
    got = paired_bootstrap(
        y,
        Predictions(y, classes=classes),
        Predictions(wrong, classes=classes),
        ["accuracy"],
        confidence,
        task="classification",
        resamples=20_000,
        seed=3,
    )["accuracy"]
    assert got is not None
    low = binom.ppf(0.05, n, k / n) / n
    high = binom.ppf(0.95, n, k / n) / n
    assert got[0] == pytest.approx(low, abs=1.5 / n)
    assert got[1] == pytest.approx(high, abs=1.5 / n)
    assert got[0] > 0  # a clear improvement: the interval excludes 0


def test_same_seed_same_interval_and_another_seed_another() -> None:
    model, frame = _fitted("classification", 2, 5)
    other, _ = _fitted("classification", 2, 6)
    y = frame["y"].to_numpy()
    a, b = (
        _predictions(model, frame, "classification"),
        _predictions(other, frame, "classification"),
    )

    def run(seed: int) -> dict[str, tuple[float, float] | None]:
        return paired_bootstrap(
            y, a, b, CLASSIFICATION, 0.95, task="classification", resamples=500, seed=seed
        )

    assert run(7) == run(7)
    assert run(7) != run(8)


labels = st.lists(st.sampled_from(["a", "b", "c"]), min_size=2, max_size=60)


@settings(max_examples=40, deadline=None)
@given(
    truth=labels,
    seed=st.integers(0, 2**32 - 1),
    confidence=st.floats(0.5, 0.99),
)
def test_identical_predictions_give_the_zero_interval(
    truth: list[str], seed: int, confidence: float
) -> None:
    y = np.array(truth)
    rng = np.random.default_rng(seed)
    classes = ("a", "b", "c")
    predicted = rng.choice(classes, size=len(y))
    proba = rng.dirichlet(np.ones(3), size=len(y))
    same = Predictions(predicted, proba, classes)
    twin = Predictions(predicted.copy(), proba.copy(), classes)
    out = paired_bootstrap(
        y, same, twin, CLASSIFICATION, confidence, task="classification", resamples=50, seed=seed
    )
    for name, interval in out.items():
        assert interval in ((0.0, 0.0), None), name
        if name != "roc_auc":  # roc_auc is undefined only when the resample has one class
            assert interval == (0.0, 0.0)


@settings(max_examples=25, deadline=None)
@given(
    values=st.lists(st.floats(-100, 100), min_size=3, max_size=40),
    seed=st.integers(0, 2**32 - 1),
)
def test_swapping_the_models_mirrors_the_interval(values: list[float], seed: int) -> None:
    y = np.array(values)
    rng = np.random.default_rng(seed)
    first = Predictions(y + rng.normal(size=len(y)))
    second = Predictions(y + rng.normal(scale=2, size=len(y)))
    ahead = paired_bootstrap(
        y, first, second, REGRESSION, 0.9, task="regression", resamples=40, seed=seed
    )
    behind = paired_bootstrap(
        y, second, first, REGRESSION, 0.9, task="regression", resamples=40, seed=seed
    )
    for name in REGRESSION:
        a, b = ahead[name], behind[name]
        assert a is not None
        assert b is not None
        assert a[0] == pytest.approx(-b[1], rel=1e-9, abs=1e-9)
        assert a[1] == pytest.approx(-b[0], rel=1e-9, abs=1e-9)


def test_unknown_metric_and_bad_shapes_are_refused() -> None:
    y = np.array([0, 1])
    good = Predictions(y, classes=(0, 1))
    with pytest.raises(ValueError, match="no bootstrap for classification metric 'top5'"):
        paired_bootstrap(y, good, good, ["top5"], 0.95, task="classification")
    with pytest.raises(ValueError, match="3 predictions for 2 test rows"):
        paired_bootstrap(
            y, Predictions([0, 1, 1], classes=(0, 1)), good, ["accuracy"], 0.95,
            task="classification",
        )  # fmt: skip
    with pytest.raises(ValueError, match="needs predicted probabilities"):
        paired_bootstrap(y, good, good, ["roc_auc"], 0.95, task="classification")
