"""`mlcode.retrain.champion_data`: the training data's md5 at a commit and now, the champion's
data file from the DVC cache or the DVC remote, and the drift evidence `mlcode retrain` decides
from, against real git and real DVC on the trained iris project."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlcode.errors import UserError
from mlcode.retrain.champion_data import champion_data_file, data_md5, evidence
from mlcode.retrain.decide import decide
from mlcode.spec.load import load_project
from mlcode.spec.model import MlSpec
from tests.e2e.helpers import env, git, snapshot

pytestmark = pytest.mark.slow

DATA = "data/iris.csv"
NUMERIC = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]


def _dvc(repo: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "dvc", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env(),
        check=False,
    )
    assert result.returncode == 0, f"dvc {' '.join(args)}: {result.stdout}\n{result.stderr}"
    return result.stdout


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _spec(repo: Path) -> MlSpec:
    return load_project(repo).spec


def _head(repo: Path, rev: str = "HEAD") -> str:
    return git(repo, "rev-parse", rev).strip()


def _shifted(repo: Path, seed: int, columns: list[str]) -> None:
    """A new batch of the iris rows (resampled with replacement, seeded), `columns` shifted by
    1.5 of their standard deviation plus noise; written over the data file and `dvc add`ed."""
    frame = pd.read_csv(repo / DATA)
    rng = np.random.default_rng(seed)
    batch = frame.iloc[rng.integers(0, len(frame), len(frame))].reset_index(drop=True)
    for column in columns:
        spread = float(frame[column].std())
        noise = rng.normal(0.0, 0.1 * spread, len(batch))
        batch[column] = (batch[column] + 1.5 * spread + noise).round(2)
    batch.to_csv(repo / DATA, index=False)
    _dvc(repo, "add", DATA)


def test_data_md5_at_head_an_older_commit_and_the_working_tree(trained_iris: Path) -> None:
    repo = trained_iris
    spec = _spec(repo)
    old = _md5(repo / DATA)
    assert data_md5(repo, spec, "iris", "HEAD") == old
    assert data_md5(repo, spec, "iris", None) == old

    _shifted(repo, 1, NUMERIC[:2])  # new data, `dvc add`ed, not committed
    new = _md5(repo / DATA)
    assert new != old
    assert data_md5(repo, spec, "iris", None) == new
    assert data_md5(repo, spec, "iris", "HEAD") == old

    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "iris: a new batch")
    assert data_md5(repo, spec, "iris", "HEAD") == new
    assert data_md5(repo, spec, "iris", _head(repo, "HEAD~1")) == old
    # no pointer and no stage writing it (dvc.lock only lists it as a dependency): no record
    git(repo, "rm", "-q", f"{DATA}.dvc")
    git(repo, "commit", "-qm", "iris: no longer tracked")
    assert data_md5(repo, spec, "iris", "HEAD") is None
    assert data_md5(repo, spec, "iris", None) is None
    assert data_md5(repo, spec, "iris", _head(repo, "HEAD~1")) == new


def test_data_md5_of_an_ingest_stage_output(git_repo: Path) -> None:
    repo = git_repo
    spec = MlSpec.model_validate(
        {
            "version": 1,
            "project": "p",
            "data": {
                "batch": {
                    "path": "data/batch.csv",
                    "target": "y",
                    "features": {"numeric": ["x"]},
                    "source": {"cmd": "python make.py"},
                }
            },
            "models": {
                "m": {
                    "task": "regression",
                    "data": "batch",
                    "estimator": "sklearn.linear_model.LinearRegression",
                }
            },
        }
    )
    (repo / "data").mkdir()
    (repo / "make.py").write_text(
        "import numpy as np\n"
        "rng = np.random.default_rng(3)\n"
        "x = rng.normal(size=50)\n"
        "rows = '\\n'.join(f'{a:.4f},{2 * a:.4f}' for a in x)\n"
        "open('data/batch.csv', 'w').write('x,y\\n' + rows + '\\n')\n",
        encoding="utf-8",
    )
    _dvc(repo, "init", "-q")
    _dvc(
        repo, "stage", "add", "-n", "ingest_batch", "-d", "make.py", "-o", "data/batch.csv",
        "python make.py",
    )  # fmt: skip
    _dvc(repo, "repro")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "ingest")
    assert not (repo / "data/batch.csv.dvc").exists()
    md5 = _md5(repo / "data/batch.csv")
    assert data_md5(repo, spec, "m", "HEAD") == md5
    assert data_md5(repo, spec, "m", None) == md5


def test_champion_data_from_the_cache_then_from_the_remote(
    trained_iris: Path, tmp_path: Path
) -> None:
    repo = trained_iris
    spec = _spec(repo)
    champion = _head(repo)
    old_bytes = (repo / DATA).read_bytes()
    _dvc(repo, "push", DATA)
    _shifted(repo, 2, NUMERIC[:3])  # the working tree now holds other data
    before = snapshot(repo)

    got = champion_data_file(repo, spec, "iris", champion, tmp_path / "cache-side")
    assert got.parent == tmp_path / "cache-side"
    assert got.read_bytes() == old_bytes
    md5 = hashlib.md5(old_bytes).hexdigest()
    cached = repo / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    assert got.samefile(cached)  # taken from the cache by md5 (a hard link), DVC not asked
    assert snapshot(repo) == before

    shutil.rmtree(repo / ".dvc" / "cache")
    got = champion_data_file(repo, spec, "iris", champion, tmp_path / "remote-side")
    assert got.read_bytes() == old_bytes
    assert snapshot(repo) == before

    storage = repo.parent / ".mlcode-storage"
    storage.rename(repo.parent / "storage-gone")
    with pytest.raises(UserError) as caught:
        champion_data_file(repo, spec, "iris", champion, tmp_path / "nowhere")
    message = caught.value.message
    assert "'iris'" in message
    assert DATA in message
    assert champion[:12] in message
    assert "'local-storage'" in message
    assert snapshot(repo) == before


def test_evidence_of_a_shifted_batch_and_of_a_resample(trained_iris: Path, tmp_path: Path) -> None:
    repo = trained_iris
    spec = _spec(repo)
    champion = _head(repo)
    old = _md5(repo / DATA)

    # unchanged data: nothing drifted, nothing read
    same = evidence(repo, spec, "iris", champion, measure_drift=True, workdir=tmp_path / "w0")
    assert (same.champion_md5, same.current_md5, same.drifted_share) == (old, old, 0.0)
    assert same.n_columns == 4
    assert not (tmp_path / "w0").exists()
    assert not decide("data_changed", same, 0.5).retrain
    # no champion: the md5 of now only
    first = evidence(repo, spec, "iris", None, measure_drift=True, workdir=tmp_path / "w0")
    assert (first.champion_commit, first.current_md5, first.drifted_share) == (None, old, None)

    _shifted(repo, 5, [])  # a resample of the same rows: no shift
    resample = evidence(repo, spec, "iris", champion, measure_drift=True, workdir=tmp_path / "w1")
    assert resample.current_md5 == _md5(repo / DATA) != old
    assert resample.n_columns == 4
    assert resample.drifted_share is not None
    assert resample.drifted_share < 0.5
    assert not decide("drift", resample, 0.5).retrain
    assert decide("data_changed", resample, 0.5).retrain
    assert list((tmp_path / "w1").iterdir()) == []  # the champion's file is removed afterwards
    unmeasured = evidence(repo, spec, "iris", champion, measure_drift=False, workdir=tmp_path)
    assert unmeasured.drifted_share is None

    git(repo, "checkout", "-q", "--", f"{DATA}.dvc")
    _dvc(repo, "checkout", DATA)
    _shifted(repo, 6, NUMERIC[:3])  # three of four columns shifted
    shifted = evidence(repo, spec, "iris", champion, measure_drift=True, workdir=tmp_path / "w2")
    assert shifted.drifted_share is not None
    assert shifted.drifted_share >= 0.5
    assert set(NUMERIC[:3]) <= set(shifted.drifted_columns)
    decision = decide("drift", shifted, 0.5)
    assert decision.retrain
    assert decision.why.startswith(f"drift {len(shifted.drifted_columns)}/4 columns ≥ 0.5")

    # the drift gate's column settings apply: an ignored column is not counted
    text = (repo / "ml.yaml").read_text(encoding="utf-8")
    ignoring = text.replace(
        "        max_drifted_share: 0.5\n",
        "        max_drifted_share: 0.5\n        columns: {sepal_length_cm: {ignore: true}}\n",
    )
    assert ignoring != text
    (repo / "ml.yaml").write_text(ignoring, encoding="utf-8")
    ignored = evidence(
        repo, _spec(repo), "iris", champion, measure_drift=True, workdir=tmp_path / "w3"
    )
    assert ignored.n_columns == 3
    assert "sepal_length_cm" not in ignored.drifted_columns
    assert set(NUMERIC[1:3]) <= set(ignored.drifted_columns)


def test_evidence_of_data_that_lost_a_column_is_an_error(
    trained_iris: Path, tmp_path: Path
) -> None:
    repo = trained_iris
    spec = _spec(repo)
    frame = pd.read_csv(repo / DATA).drop(columns=["petal_width_cm"])
    frame.to_csv(repo / DATA, index=False)
    _dvc(repo, "add", DATA)
    before = snapshot(repo)
    with pytest.raises(UserError) as caught:
        evidence(repo, spec, "iris", _head(repo), measure_drift=True, workdir=tmp_path / "w")
    message = caught.value.message
    assert "model 'iris'" in message
    assert "petal_width_cm" in message
    assert DATA in message
    assert snapshot(repo) == before
    assert list((tmp_path / "w").iterdir()) == []
    # the new data recorded but not in the working tree (a clone before `dvc pull`)
    (repo / DATA).unlink()
    with pytest.raises(UserError) as caught:
        evidence(repo, spec, "iris", _head(repo), measure_drift=True, workdir=tmp_path / "w")
    assert "is not in the working tree" in caught.value.message
    assert caught.value.hint == f"Bring it in with `dvc pull {DATA}`."


def test_champion_data_of_a_url_source_after_dvc_update(git_repo: Path, tmp_path: Path) -> None:
    """A `source: {url}` dataset refreshed by `dvc update`: the source now holds new data, the
    cache is empty (a fresh runner), and the champion's data still comes back from the remote."""
    repo = git_repo
    source = repo.parent / "source" / "batch.csv"
    source.parent.mkdir()
    source.write_text("x,y\n1.0,2.0\n2.0,4.0\n", encoding="utf-8")
    spec = MlSpec.model_validate(
        {
            "version": 1,
            "project": "p",
            "data": {
                "batch": {
                    "path": "batch.csv",
                    "target": "y",
                    "features": {"numeric": ["x"]},
                    "source": {"url": "../source/batch.csv"},
                }
            },
            "models": {
                "m": {
                    "task": "regression",
                    "data": "batch",
                    "estimator": "sklearn.linear_model.LinearRegression",
                }
            },
        }
    )
    _dvc(repo, "init", "-q")
    _dvc(repo, "remote", "add", "-d", "store", str(tmp_path / "store"))
    _dvc(repo, "import-url", "../source/batch.csv", "batch.csv")
    old = _md5(repo / "batch.csv")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "import")
    champion = _head(repo)
    _dvc(repo, "push")
    source.write_text("x,y\n5.0,1.0\n6.0,0.0\n", encoding="utf-8")
    _dvc(repo, "update", "batch.csv.dvc")
    assert data_md5(repo, spec, "m", None) == _md5(repo / "batch.csv") != old
    assert data_md5(repo, spec, "m", champion) == old
    shutil.rmtree(repo / ".dvc" / "cache")
    got = champion_data_file(repo, spec, "m", champion, tmp_path / "out")
    assert _md5(got) == old
