"""The built-in train step: pipeline, skops file, model card, determinism, errors, safe loading."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import skops.io as sio
import yaml
from sklearn import datasets
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from mlcode.errors import UserError
from mlcode.layout import model_paths, plot_kinds
from mlcode.steps import run_step
from mlcode.steps.common import atomic_dir
from mlcode.steps.model_io import allowed_types, load_model
from tests.e2e.helpers import env, mlcode


def write_project(root: Path, model: str = "wine", **section: Any) -> None:
    """Wine as CSV (numeric) with a categorical column, and params.yaml per the contract."""
    bunch = datasets.load_wine(as_frame=True)
    frame = bunch.frame.rename(columns={"od280/od315_of_diluted_wines": "od280"})
    frame["target"] = frame["target"].map({0: "a", 1: "b", 2: "c"})
    frame["batch"] = ["x" if i % 4 else "y" for i in range(len(frame))]
    frame.loc[[1, 7], "alcohol"] = None  # imputed by the pipeline
    (root / "data").mkdir(parents=True, exist_ok=True)
    frame.to_csv(root / "data" / "wine.csv", index=False)
    params: dict[str, Any] = {
        "task": "classification",
        "data": {
            "path": "data/wine.csv",
            "format": "csv",
            "target": "target",
            "numeric": ["alcohol", "malic_acid", "ash", "proline", "hue"],
            "categorical": ["batch"],
        },
        "split": {"test_size": 0.25, "seed": 3, "stratify": True},
        "estimator": "sklearn.ensemble.RandomForestClassifier",
        "params": {"n_estimators": 20, "max_depth": 4, "random_state": 0},
        "metrics": ["accuracy", "f1", "roc_auc", "log_loss"],
    }
    params.update(section)
    (root / "params.yaml").write_text(yaml.safe_dump({model: params}, sort_keys=False))


def test_train_writes_model_and_deterministic_card(tmp_path: Path) -> None:
    write_project(tmp_path)
    run_step("prepare", tmp_path, "wine")
    run_step("train", tmp_path, "wine")
    paths = model_paths("wine")
    assert sorted(p.name for p in (tmp_path / paths.model_dir).iterdir()) == [
        "card.json",
        "model.skops",
    ]
    card = json.loads((tmp_path / paths.model_card).read_text())
    split_hash = hashlib.sha256((tmp_path / paths.train_split).read_bytes()).hexdigest()
    assert card["data"]["sha256"] == split_hash
    assert card["data"]["rows"] == len(pd.read_parquet(tmp_path / paths.train_split))
    assert card["estimator"] == "sklearn.ensemble.RandomForestClassifier"
    assert card["params"] == {"n_estimators": 20, "max_depth": 4, "random_state": 0}
    assert card["target"]["classes"] == ["a", "b", "c"]
    assert card["features"]["dtypes"]["alcohol"] == "float64"
    assert set(card["versions"]) >= {"mlcode", "scikit-learn", "pandas", "numpy"}
    assert not any("time" in key or "date" in key for key in _keys(card))
    before = (tmp_path / paths.model_card).read_bytes()
    model_before = (tmp_path / paths.model_file).read_bytes()
    run_step("train", tmp_path, "wine")
    assert (tmp_path / paths.model_card).read_bytes() == before
    assert (tmp_path / paths.model_file).read_bytes() == model_before
    model = load_model(
        tmp_path / paths.model_file, card["estimator"], model="wine", step="evaluate"
    )
    assert isinstance(model, Pipeline)
    assert list(model.named_steps) == ["preprocess", "estimator"]
    assert model.named_steps["preprocess"].transformers[1][1][1].handle_unknown == "ignore"
    # Same inputs, same metrics.
    run_step("evaluate", tmp_path, "wine")
    first = (tmp_path / paths.metrics).read_text()
    run_step("train", tmp_path, "wine")
    run_step("evaluate", tmp_path, "wine")
    assert (tmp_path / paths.metrics).read_text() == first
    assert not [p for p in (tmp_path / "models").iterdir() if p.name.startswith(".")]


def _digests(root: Path, rels: list[str]) -> dict[str, str]:
    return {rel: hashlib.sha256((root / rel).read_bytes()).hexdigest() for rel in rels}


@pytest.mark.slow
def test_training_twice_gives_identical_bytes(tmp_path: Path) -> None:
    """Same data, params and seed: the same model file, card and metrics, whatever the process."""
    write_project(tmp_path)
    run_step("prepare", tmp_path, "wine")
    paths = model_paths("wine")
    rels = [
        paths.model_file,
        paths.model_card,
        paths.metrics,
        *(paths.plot(kind) for kind in plot_kinds("classification")),
    ]
    runs: dict[str, dict[str, str]] = {}
    for step in ("train", "evaluate"):
        run_step(step, tmp_path, "wine")
    runs["in process"] = _digests(tmp_path, rels)
    for step in ("train", "evaluate"):
        module = f"mlcode.steps.{step}"
        done = subprocess.run(
            [sys.executable, "-m", module, "wine"], cwd=tmp_path, env=env(), check=False
        )
        assert done.returncode == 0
    runs["python -m"] = _digests(tmp_path, rels)
    for step in ("train", "evaluate"):
        result = mlcode(tmp_path, "step", step, "wine")
        assert result.returncode == 0, result.stderr
    runs["mlcode step"] = _digests(tmp_path, rels)
    assert runs["python -m"] == runs["in process"]
    assert runs["mlcode step"] == runs["in process"]
    # Still an ordinary skops file: skops' own loader reads it and predicts the same.
    path = tmp_path / paths.model_file
    plain = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    checked = load_model(path, card_estimator(tmp_path), model="wine", step="evaluate")
    test = pd.read_parquet(tmp_path / paths.test_split)
    assert list(plain.predict(test)) == list(checked.predict(test))
    assert list(plain.predict_proba(test).ravel()) == list(checked.predict_proba(test).ravel())


def card_estimator(root: Path) -> str:
    return str(json.loads((root / model_paths("wine").model_card).read_text())["estimator"])


def _keys(data: Any) -> list[str]:
    if isinstance(data, dict):
        return [k for key, value in data.items() for k in [str(key), *_keys(value)]]
    return []


def _train_error(tmp_path: Path, **section: Any) -> str:
    write_project(tmp_path, **section)
    run_step("prepare", tmp_path, "wine")
    with pytest.raises(UserError) as info:
        run_step("train", tmp_path, "wine")
    text = info.value.render()
    assert "model 'wine', stage train_wine" in text
    assert not (tmp_path / "models" / "wine").exists()
    return text


def test_estimator_that_cannot_be_imported(tmp_path: Path) -> None:
    text = _train_error(tmp_path, estimator="sklearn.ensemble.RandomForestClassifer")
    assert "module 'sklearn.ensemble' has no 'RandomForestClassifer'" in text
    assert "did you mean sklearn.ensemble.RandomForestClassifier?" in text
    text = _train_error(tmp_path, estimator="nosuchpackage.Model")
    assert "cannot import estimator 'nosuchpackage.Model'" in text


def test_param_of_the_wrong_type(tmp_path: Path) -> None:
    text = _train_error(tmp_path, params={"n_estimators": "many"})
    assert "invalid params for sklearn.ensemble.RandomForestClassifier" in text
    assert "n_estimators" in text


def test_unknown_param(tmp_path: Path) -> None:
    text = _train_error(tmp_path, params={"n_trees": 3})
    assert "n_trees" in text


def test_regressor_for_a_classification_task(tmp_path: Path) -> None:
    text = _train_error(tmp_path, estimator="sklearn.linear_model.Ridge", params={})
    assert "is a regressor but the task is classification" in text


def test_nan_target_in_split_is_an_error(tmp_path: Path) -> None:
    write_project(tmp_path)
    run_step("prepare", tmp_path, "wine")
    split = tmp_path / model_paths("wine").train_split
    frame = pd.read_parquet(split)
    frame.loc[0, "target"] = None
    frame.to_parquet(split, index=False)
    with pytest.raises(UserError, match="target column 'target' has 1 missing value"):
        run_step("train", tmp_path, "wine")


def test_failed_fit_names_model_and_stage(tmp_path: Path) -> None:
    # A negative C passes the constructor and fails in fit (scikit-learn's param validation).
    text = _train_error(
        tmp_path, estimator="sklearn.linear_model.LogisticRegression", params={"C": -1.0}
    )
    assert "'C' parameter" in text


def test_atomic_dir_leaves_nothing_on_failure(tmp_path: Path) -> None:
    final = tmp_path / "models" / "m"
    final.mkdir(parents=True)
    (final / "old.txt").write_text("old")

    def half_written() -> None:
        with atomic_dir(final) as folder:
            (folder / "model.skops").write_text("half")
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        half_written()
    assert list((tmp_path / "models").iterdir()) == []
    with atomic_dir(final) as folder:
        (folder / "model.skops").write_text("whole")
    assert [p.name for p in final.iterdir()] == ["model.skops"]
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["m"]


def test_untrusted_types_are_refused(tmp_path: Path) -> None:
    evil = Pipeline(
        [("hook", FunctionTransformer(func=subprocess.call)), ("est", LogisticRegression())]
    )
    path = tmp_path / "model.skops"
    sio.dump(evil, path)
    with pytest.raises(UserError) as info:
        load_model(path, "sklearn.linear_model.LogisticRegression", model="m", step="evaluate")
    text = info.value.render()
    assert "refusing to load" in text
    assert "subprocess.call" in text
    assert "model 'm', stage evaluate_m" in text


def test_evaluate_refuses_a_tampered_model_file(tmp_path: Path) -> None:
    write_project(tmp_path)
    for step in ("prepare", "train"):
        run_step(step, tmp_path, "wine")
    evil = Pipeline([("hook", FunctionTransformer(func=subprocess.call))])
    sio.dump(evil, tmp_path / model_paths("wine").model_file)
    with pytest.raises(UserError, match=r"subprocess\.call"):
        run_step("evaluate", tmp_path, "wine")
    assert not (tmp_path / model_paths("wine").metrics).exists()


def test_allow_list() -> None:
    names = allowed_types(None, model="m", step="evaluate")
    assert "sklearn.tree._tree.Tree" in names
    assert "numpy.dtype" in names
    assert "scipy.sparse._csr.csr_matrix" in names
    # Exact classes, never packages: a function of a trusted package is not in the list.
    assert "numpy.testing._private.utils.runstring" not in names
    assert "sklearn.utils._testing.assert_run_python_script_without_output" not in names
    assert "builtins.eval" not in names
    assert "subprocess.Popen" not in names


def test_corrupt_model_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "model.skops"
    path.write_bytes(b"not a zip")
    with pytest.raises(UserError, match="cannot read model file"):
        load_model(path, None, model="m", step="evaluate")
