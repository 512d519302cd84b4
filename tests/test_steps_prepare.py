"""The built-in prepare step on scikit-learn's bundled datasets: columns, types, split, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from sklearn import datasets
from sklearn.model_selection import train_test_split

from mlcode.errors import UserError
from mlcode.layout import model_paths
from mlcode.steps import run_step
from mlcode.steps.common import Outputs


def iris_frame() -> pd.DataFrame:
    frame = datasets.load_iris(as_frame=True).frame
    frame.columns = ["sl", "sw", "pl", "pw", "species"]
    frame["species"] = frame["species"].map({0: "setosa", 1: "versicolor", 2: "virginica"})
    frame["colour"] = ["red" if i % 3 else "blue" for i in range(len(frame))]
    frame["extra"] = 1.0  # not declared: prepare drops it
    return frame


def write_model(
    root: Path, model: str, frame: pd.DataFrame, *, fmt: str = "csv", **section: Any
) -> dict[str, Any]:
    """Write `frame` as the dataset and params.yaml with one model section (contract layout)."""
    path = f"data/{model}.{fmt}"
    (root / "data").mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        frame.to_csv(root / path, index=False)
    else:
        frame.to_parquet(root / path, index=False)
    params: dict[str, Any] = {
        "task": "classification",
        "data": {
            "path": path,
            "format": fmt,
            "target": "species",
            "numeric": [],
            "categorical": [],
        },
        "split": {"test_size": 0.25, "seed": 42, "stratify": True},
        "estimator": "sklearn.linear_model.LogisticRegression",
        "params": {"max_iter": 1000},
        "metrics": ["accuracy"],
    }
    data = section.pop("data", {})
    params.update(section)
    params["data"].update(data)
    (root / "params.yaml").write_text(yaml.safe_dump({model: params}, sort_keys=False))
    return params


IRIS_DATA = {"numeric": ["sl", "sw", "pl", "pw"], "categorical": ["colour"]}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_split_is_the_seeded_stratified_split_of_declared_columns(tmp_path: Path, fmt: str) -> None:
    frame = iris_frame()
    write_model(tmp_path, "iris", frame, fmt=fmt, data=IRIS_DATA)
    run_step("prepare", tmp_path, "iris")
    paths = model_paths("iris")
    train = pd.read_parquet(tmp_path / paths.train_split)
    test = pd.read_parquet(tmp_path / paths.test_split)
    kept = ["sl", "sw", "pl", "pw", "colour", "species"]
    assert list(train.columns) == kept
    assert list(test.columns) == kept
    exp_train, exp_test = train_test_split(
        frame[kept], test_size=0.25, random_state=42, stratify=frame["species"]
    )
    pd.testing.assert_frame_equal(
        train, exp_train.reset_index(drop=True), check_dtype=False, check_index_type=False
    )
    pd.testing.assert_frame_equal(
        test, exp_test.reset_index(drop=True), check_dtype=False, check_index_type=False
    )
    # Stratified: every class keeps its share in the test split.
    assert sorted(test["species"].value_counts().tolist()) == [12, 13, 13]


def test_id_and_time_columns_are_kept_and_types_are_normalised(tmp_path: Path) -> None:
    frame = iris_frame()
    frame["row_id"] = range(len(frame))
    frame["seen"] = "2024-01-01"
    frame["colour"] = [i % 2 for i in range(len(frame))]  # integer codes declared categorical
    data = {**IRIS_DATA, "id_column": "row_id", "time_column": "seen"}
    write_model(tmp_path, "iris", frame, data=data, split={"test_size": 0.2, "seed": 1})
    run_step("prepare", tmp_path, "iris")
    train = pd.read_parquet(tmp_path / model_paths("iris").train_split)
    assert list(train.columns)[:2] == ["row_id", "seen"]
    assert train["sl"].dtype == "float64"
    assert set(train["colour"].unique()) == {"0", "1"}  # categorical → strings


def test_unstratified_regression_split(tmp_path: Path) -> None:
    bunch = datasets.load_diabetes(as_frame=True, scaled=False)
    frame = bunch.frame
    write_model(
        tmp_path,
        "diabetes",
        frame,
        task="regression",
        data={"target": "target", "numeric": ["age", "bmi", "bp"], "categorical": ["sex"]},
        split={"test_size": 0.3, "seed": 7, "stratify": False},
        estimator="sklearn.linear_model.Ridge",
        metrics=["rmse"],
    )
    run_step("prepare", tmp_path, "diabetes")
    test = pd.read_parquet(tmp_path / model_paths("diabetes").test_split)
    _, expected = train_test_split(
        frame[["age", "bmi", "bp", "sex", "target"]], test_size=0.3, random_state=7
    )
    assert test["target"].tolist() == expected["target"].tolist()
    assert test["target"].dtype == "float64"


def _error(tmp_path: Path, model: str = "iris") -> str:
    with pytest.raises(UserError) as info:
        run_step("prepare", tmp_path, model)
    text = info.value.render()
    assert f"model {model!r}" in text
    assert f"prepare_{model}" in text
    assert "Traceback" not in text
    for rel in (model_paths(model).train_split, model_paths(model).test_split):
        assert not (tmp_path / rel).exists()
    return text


def test_missing_columns_are_named(tmp_path: Path) -> None:
    write_model(
        tmp_path,
        "iris",
        iris_frame(),
        data={"numeric": ["sl", "petal_area"], "categorical": ["shape"]},
    )
    text = _error(tmp_path)
    assert "'petal_area'" in text
    assert "'shape'" in text
    assert "columns in the file: sl, sw" in text


def test_missing_columns_in_parquet_are_named(tmp_path: Path) -> None:
    write_model(tmp_path, "iris", iris_frame(), fmt="parquet", data={"numeric": ["nope"]})
    assert "'nope'" in _error(tmp_path)


def test_numeric_feature_with_strings_is_named(tmp_path: Path) -> None:
    frame = iris_frame()
    frame["sw"] = frame["sw"].astype(object)
    frame.loc[3, "sw"] = "unknown"
    frame.loc[9, "sw"] = "broken"
    write_model(tmp_path, "iris", frame, data=IRIS_DATA)
    text = _error(tmp_path)
    assert "numeric feature 'sw'" in text
    assert "2 non-numeric value(s)" in text
    assert "'unknown'" in text


def test_numeric_strings_that_parse_are_accepted(tmp_path: Path) -> None:
    frame = iris_frame()
    frame["sw"] = frame["sw"].astype(str)
    write_model(tmp_path, "iris", frame, fmt="parquet", data=IRIS_DATA)
    run_step("prepare", tmp_path, "iris")
    assert pd.read_parquet(tmp_path / model_paths("iris").train_split)["sw"].dtype == "float64"


def test_nan_in_target_is_an_error(tmp_path: Path) -> None:
    frame = iris_frame()
    frame.loc[[5, 50], "species"] = None
    write_model(tmp_path, "iris", frame, data=IRIS_DATA)
    assert "2 missing value(s)" in _error(tmp_path)


def test_single_class_target_is_an_error(tmp_path: Path) -> None:
    frame = iris_frame()
    frame["species"] = "setosa"
    write_model(tmp_path, "iris", frame, data=IRIS_DATA)
    assert "single class ('setosa')" in _error(tmp_path)


def test_non_numeric_regression_target_is_an_error(tmp_path: Path) -> None:
    frame = iris_frame()
    write_model(tmp_path, "iris", frame, task="regression", data=IRIS_DATA)
    assert "regression target 'species'" in _error(tmp_path)


def test_stratify_with_a_one_row_class_suggests_turning_it_off(tmp_path: Path) -> None:
    frame = iris_frame()
    frame.loc[0, "species"] = "rare"
    write_model(tmp_path, "iris", frame, data=IRIS_DATA)
    assert "stratify: false" in _error(tmp_path)


def test_missing_dataset_and_missing_params(tmp_path: Path) -> None:
    assert "params.yaml not found" in _error(tmp_path)
    write_model(tmp_path, "iris", iris_frame(), data=IRIS_DATA)
    (tmp_path / "data" / "iris.csv").unlink()
    assert "dataset file data/iris.csv not found" in _error(tmp_path)
    assert "no section for this model (models there: iris)" in _error(tmp_path, "other")


def test_outputs_are_all_or_nothing(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("stale")

    def half_written() -> None:
        with Outputs(tmp_path, ["a.txt", "b.txt"]) as out:
            out.temp("a.txt").write_text("new a")
            raise RuntimeError("failed half way")

    with pytest.raises(RuntimeError):
        half_written()
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    with Outputs(tmp_path, ["a.txt", "b.txt"]) as out:
        out.temp("a.txt").write_text("A")
        out.temp("b.txt").write_text("B")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.txt"]
    assert (tmp_path / "a.txt").read_text() == "A"


def test_python_m_mlcode_steps_reports_errors_without_traceback(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "mlcode.steps", "prepare", "iris"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 3
    assert "Error: model 'iris', stage prepare_iris: params.yaml not found" in result.stderr
    assert "Traceback" not in result.stderr
