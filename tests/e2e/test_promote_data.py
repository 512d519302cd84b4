"""Data before pointer, with the real DVC: `push_and_verify` sends a model's stages' outputs, its
data and the run-cache to the project's DVC remote, and refuses when an object is not there."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlcode.errors import UserError
from mlcode.promote import data

TARGETS = [
    "prepare_iris",
    "train_iris",
    "evaluate_iris",
    "drift_iris",
    "data/iris.csv.dvc",
    "data/iris_latest.csv.dvc",
]


@pytest.mark.slow
def test_push_then_verify_and_missing_object_refused(trained_iris: Path) -> None:
    storage = trained_iris.parent / ".mlcode-storage" / "project"
    assert data.missing(trained_iris, TARGETS)  # the fixture pushed git only
    data.push_and_verify(trained_iris, TARGETS)
    assert data.missing(trained_iris, TARGETS) == {}
    assert (storage / "runs").is_dir()  # the run-cache went too
    # an object gone from the remote, the cache and the workspace (push cannot resend it) is caught
    lock = (trained_iris / "dvc.lock").read_text()
    model_md5 = lock.split("path: models/iris\n")[1].split("md5: ")[1].split(".dir")[0]
    shutil.rmtree(storage / "files" / "md5" / model_md5[:2])
    shutil.rmtree(trained_iris / ".dvc" / "cache" / "files" / "md5" / model_md5[:2])
    shutil.rmtree(trained_iris / "models" / "iris")
    with pytest.raises(UserError) as refused:
        data.push_and_verify(trained_iris, TARGETS)
    assert model_md5 in refused.value.render()
