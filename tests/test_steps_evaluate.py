"""The built-in evaluate step: metrics equal an independent scikit-learn computation on the same
split, plot files follow the contract, and metrics that cannot be computed are clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn import datasets
from sklearn import metrics as skm
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlcode.errors import UserError
from mlcode.layout import model_paths, plot_kinds
from mlcode.steps import run_step
from mlcode.steps.evaluate import MAX_POINTS


def _project(
    root: Path,
    model: str,
    frame: pd.DataFrame,
    *,
    task: str,
    target: str,
    numeric: list[str],
    categorical: list[str],
    estimator: str,
    params: dict[str, Any],
    metrics: list[str],
    stratify: bool,
    fmt: str = "csv",
) -> None:
    (root / "data").mkdir(parents=True, exist_ok=True)
    path = f"data/{model}.{fmt}"
    if fmt == "csv":
        frame.to_csv(root / path, index=False)
    else:
        frame.to_parquet(root / path, index=False)
    section = {
        "task": task,
        "data": {
            "path": path,
            "format": fmt,
            "target": target,
            "numeric": numeric,
            "categorical": categorical,
        },
        "split": {"test_size": 0.3, "seed": 11, "stratify": stratify},
        "estimator": estimator,
        "params": params,
        "metrics": metrics,
    }
    (root / "params.yaml").write_text(yaml.safe_dump({model: section}, sort_keys=False))


def _pipeline(numeric: list[str], categorical: list[str], estimator: Any) -> Pipeline:
    """The documented built-in pipeline, built independently of mlcode."""
    parts: list[tuple[str, Any, list[str]]] = []
    if numeric:
        parts.append(
            (
                "n",
                Pipeline([("i", SimpleImputer(strategy="median")), ("s", StandardScaler())]),
                numeric,
            )
        )
    if categorical:
        parts.append(
            (
                "c",
                Pipeline(
                    [
                        ("i", SimpleImputer(strategy="most_frequent")),
                        ("o", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
                    ]
                ),
                categorical,
            )
        )
    return Pipeline([("p", ColumnTransformer(parts, sparse_threshold=0.0)), ("e", estimator)])


def _run_all(root: Path, model: str) -> dict[str, float]:
    for step in ("prepare", "train", "evaluate"):
        run_step(step, root, model)
    return dict(json.loads((root / model_paths(model).metrics).read_text()))


def _plots(root: Path, model: str, task: str) -> dict[str, list[dict[str, Any]]]:
    paths = model_paths(model)
    return {k: json.loads((root / paths.plot(k)).read_text()) for k in plot_kinds(task)}


def test_multiclass_iris_matches_scikit_learn(tmp_path: Path) -> None:
    frame = datasets.load_iris(as_frame=True).frame
    frame.columns = ["sl", "sw", "pl", "pw", "species"]
    frame["species"] = frame["species"].map({0: "setosa", 1: "versicolor", 2: "virginica"})
    numeric = ["sl", "sw", "pl", "pw"]
    all_metrics = ["accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc"]
    all_metrics.append("log_loss")
    _project(
        tmp_path,
        "iris",
        frame,
        task="classification",
        target="species",
        numeric=numeric,
        categorical=[],
        estimator="sklearn.linear_model.LogisticRegression",
        params={"C": 0.5, "max_iter": 1000},
        metrics=all_metrics,
        stratify=True,
    )
    got = _run_all(tmp_path, "iris")
    assert list(got) == all_metrics  # only the listed metrics, in their order

    train, test = train_test_split(frame, test_size=0.3, random_state=11, stratify=frame["species"])
    pipe = _pipeline(numeric, [], LogisticRegression(C=0.5, max_iter=1000))
    pipe.fit(train[numeric], train["species"])
    pred = pipe.predict(test[numeric])
    proba = pipe.predict_proba(test[numeric])
    y = test["species"]
    expected = {
        "accuracy": skm.accuracy_score(y, pred),
        "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
        "precision": skm.precision_score(y, pred, average="macro"),
        "recall": skm.recall_score(y, pred, average="macro"),
        "f1": skm.f1_score(y, pred, average="macro"),
        "roc_auc": skm.roc_auc_score(y, proba, multi_class="ovr", average="macro"),
        "log_loss": skm.log_loss(y, proba),
    }
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)

    plots = _plots(tmp_path, "iris", "classification")
    assert len(plots["confusion"]) == len(test)
    assert set(plots["confusion"][0]) == {"actual", "predicted"}
    assert {r["actual"] for r in plots["confusion"]} == {"setosa", "versicolor", "virginica"}
    # Multiclass curves are micro-averaged one-vs-rest.
    assert set(plots["roc"][0]) == {"fpr", "tpr"}
    assert plots["roc"][0] == {"fpr": 0.0, "tpr": 0.0}
    assert plots["roc"][-1] == {"fpr": 1.0, "tpr": 1.0}
    assert set(plots["precision_recall"][0]) == {"recall", "precision"}


def test_binary_breast_cancer_uses_second_sorted_class_as_positive(tmp_path: Path) -> None:
    bunch = datasets.load_breast_cancer(as_frame=True)
    frame = bunch.frame.iloc[:, [0, 1, 2, 3, 7, 20, 27]].copy()
    frame.columns = ["r", "t", "p", "a", "c", "wr", "wc"]
    frame["diagnosis"] = bunch.frame["target"].map({0: "malignant", 1: "benign"})
    numeric = ["r", "t", "p", "a", "c", "wr", "wc"]
    metrics = ["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"]
    _project(
        tmp_path,
        "bc",
        frame,
        task="classification",
        target="diagnosis",
        numeric=numeric,
        categorical=[],
        estimator="sklearn.ensemble.HistGradientBoostingClassifier",
        params={"max_iter": 30, "max_depth": 3, "random_state": 0},
        metrics=metrics,
        stratify=True,
        fmt="parquet",
    )
    got = _run_all(tmp_path, "bc")
    train, test = train_test_split(
        frame, test_size=0.3, random_state=11, stratify=frame["diagnosis"]
    )
    pipe = _pipeline(
        numeric, [], HistGradientBoostingClassifier(max_iter=30, max_depth=3, random_state=0)
    )
    pipe.fit(train[numeric], train["diagnosis"])
    pred = pipe.predict(test[numeric])
    proba = pipe.predict_proba(test[numeric])
    y = test["diagnosis"]
    positive = "malignant"  # sorted(["benign", "malignant"])[1]
    col = list(pipe.classes_).index(positive)
    expected = {
        "accuracy": skm.accuracy_score(y, pred),
        "precision": skm.precision_score(y, pred, pos_label=positive),
        "recall": skm.recall_score(y, pred, pos_label=positive),
        "f1": skm.f1_score(y, pred, pos_label=positive),
        "roc_auc": skm.roc_auc_score(y == positive, proba[:, col]),
        "log_loss": skm.log_loss(y, proba),
    }
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)
    plots = _plots(tmp_path, "bc", "classification")
    fpr, tpr, _ = skm.roc_curve(y == positive, proba[:, col])
    assert len(plots["roc"]) == len(fpr)
    assert [r["tpr"] for r in plots["roc"]] == pytest.approx(tpr, abs=1e-6)


def test_regression_diabetes_matches_scikit_learn(tmp_path: Path) -> None:
    frame = datasets.load_diabetes(as_frame=True, scaled=False).frame
    frame["sex"] = frame["sex"].map(lambda v: f"sex_{int(v)}")
    numeric = ["age", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
    _project(
        tmp_path,
        "diabetes",
        frame,
        task="regression",
        target="target",
        numeric=numeric,
        categorical=["sex"],
        estimator="sklearn.ensemble.RandomForestRegressor",
        params={"n_estimators": 30, "max_depth": 5, "random_state": 0},
        metrics=["rmse", "mae", "r2", "mape"],
        stratify=False,
    )
    got = _run_all(tmp_path, "diabetes")
    train, test = train_test_split(frame, test_size=0.3, random_state=11)
    cols = [*numeric, "sex"]
    pipe = _pipeline(
        numeric, ["sex"], RandomForestRegressor(n_estimators=30, max_depth=5, random_state=0)
    )
    pipe.fit(train[cols], train["target"])
    pred = pipe.predict(test[cols])
    y = test["target"]
    expected = {
        "rmse": float(np.sqrt(skm.mean_squared_error(y, pred))),
        "mae": skm.mean_absolute_error(y, pred),
        "r2": skm.r2_score(y, pred),
        "mape": skm.mean_absolute_percentage_error(y, pred),
    }
    assert got == pytest.approx(expected, rel=1e-9)
    plots = _plots(tmp_path, "diabetes", "regression")
    assert len(plots["predicted_vs_actual"]) == len(test)
    first = plots["residuals"][0]
    assert first["residual"] == pytest.approx(y.iloc[0] - pred[0], abs=1e-5)
    assert plots["predicted_vs_actual"][0]["actual"] == pytest.approx(y.iloc[0], abs=1e-6)


def test_large_test_split_plots_are_capped(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 6000
    frame = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n)})
    frame["y"] = frame["x1"] * 3 + rng.normal(size=n)
    frame["label"] = np.where(frame["y"] > 0, "pos", "neg")
    _project(
        tmp_path,
        "big",
        frame.drop(columns=["y"]),
        task="classification",
        target="label",
        numeric=["x1", "x2"],
        categorical=[],
        estimator="sklearn.linear_model.LogisticRegression",
        params={},
        metrics=["accuracy"],
        stratify=True,
    )
    _run_all(tmp_path, "big")
    plots = _plots(tmp_path, "big", "classification")
    assert len(plots["roc"]) <= MAX_POINTS
    assert len(plots["precision_recall"]) <= MAX_POINTS
    assert plots["roc"][-1] == {"fpr": 1.0, "tpr": 1.0}
    first = (tmp_path / model_paths("big").plot("roc")).read_bytes()
    run_step("evaluate", tmp_path, "big")
    assert (tmp_path / model_paths("big").plot("roc")).read_bytes() == first

    _project(
        tmp_path,
        "reg",
        frame.drop(columns=["label"]),
        task="regression",
        target="y",
        numeric=["x1", "x2"],
        categorical=[],
        estimator="sklearn.linear_model.Ridge",
        params={},
        metrics=["r2"],
        stratify=False,
    )
    _run_all(tmp_path, "reg")
    plots = _plots(tmp_path, "reg", "regression")
    assert 0 < len(plots["predicted_vs_actual"]) <= MAX_POINTS
    assert len(plots["residuals"]) == len(plots["predicted_vs_actual"])


def _svc_project(tmp_path: Path, metrics: list[str]) -> None:
    frame = datasets.load_iris(as_frame=True).frame
    frame.columns = ["sl", "sw", "pl", "pw", "species"]
    _project(
        tmp_path,
        "svc",
        frame,
        task="classification",
        target="species",
        numeric=["sl", "sw", "pl", "pw"],
        categorical=[],
        estimator="sklearn.svm.LinearSVC",
        params={"random_state": 0},
        metrics=metrics,
        stratify=True,
    )


def test_probability_metric_without_predict_proba_is_a_clear_error(tmp_path: Path) -> None:
    _svc_project(tmp_path, ["accuracy", "roc_auc"])
    with pytest.raises(UserError) as info:
        _run_all(tmp_path, "svc")
    text = info.value.render()
    assert "model 'svc', stage evaluate_svc" in text
    assert "roc_auc" in text
    assert "sklearn.svm.LinearSVC has no predict_proba" in text
    assert "Drop roc_auc from `metrics`" in text
    paths = model_paths("svc")
    assert not (tmp_path / paths.metrics).exists()
    assert not any((tmp_path / paths.plot(k)).exists() for k in plot_kinds("classification"))


def test_estimator_without_predict_proba_still_writes_every_plot(tmp_path: Path) -> None:
    _svc_project(tmp_path, ["accuracy", "f1"])
    got = _run_all(tmp_path, "svc")
    assert set(got) == {"accuracy", "f1"}
    plots = _plots(tmp_path, "svc", "classification")
    assert plots["roc"]
    assert plots["precision_recall"]


def test_integer_labels_binary(tmp_path: Path) -> None:
    bunch = datasets.load_breast_cancer(as_frame=True)
    frame = bunch.frame.iloc[:, [0, 1, 2, 30]].copy()
    frame.columns = ["r", "t", "p", "label"]
    _project(
        tmp_path,
        "ints",
        frame,
        task="classification",
        target="label",
        numeric=["r", "t", "p"],
        categorical=[],
        estimator="sklearn.linear_model.LogisticRegression",
        params={"max_iter": 1000},
        metrics=["precision"],
        stratify=True,
    )
    got = _run_all(tmp_path, "ints")
    train, test = train_test_split(frame, test_size=0.3, random_state=11, stratify=frame["label"])
    pipe = _pipeline(["r", "t", "p"], [], LogisticRegression(max_iter=1000))
    pipe.fit(train[["r", "t", "p"]], train["label"])
    expected = skm.precision_score(test["label"], pipe.predict(test[["r", "t", "p"]]), pos_label=1)
    assert got["precision"] == pytest.approx(expected)
    confusion = _plots(tmp_path, "ints", "classification")["confusion"]
    assert {r["actual"] for r in confusion} == {"0", "1"}
