"""An iris project whose training data comes from a source, for `mlcode retrain`'s end-to-end
tests: a copy of the trained iris template (tests/e2e/projects.py) whose dataset `iris` is
imported from `../feed/iris.csv` (a sibling of the repository, so a copy of the template directory
is a fully independent project with its own feed), applied, committed and pushed.

A test writes a new batch into the feed (`write_feed`) and runs `mlcode retrain`; `dvc update`
brings it in. Batches are made from the iris data itself, seeded: a resample (no shift), a shift
of every numeric column, labels shuffled (a model the gates refuse).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd

from tests.e2e.helpers import BIN, env, git, mlcode
from tests.e2e.projects import copy_project

FEED = "feed/iris.csv"  # relative to the template directory; `../feed/iris.csv` from the repo
PATH_LINE = "    path: data/iris.csv            # versioned by DVC, never by git\n"
NUMERIC = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]


def _ok(cwd: Path, *args: str) -> str:
    result = mlcode(cwd, *args)
    if result.returncode != 0:
        raise AssertionError(
            f"mlcode {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def build_sourced_project(template: Path, dest: Path) -> Path:
    """Copy the trained iris `template` to `dest` and make `iris` a url-sourced dataset; return
    the repository."""
    repo = copy_project(template, dest)
    feed = dest / FEED
    feed.parent.mkdir(parents=True)
    shutil.copyfile(repo / "data/iris.csv", feed)
    spec = repo / "ml.yaml"
    text = spec.read_text()
    assert PATH_LINE in text
    spec.write_text(text.replace(PATH_LINE, PATH_LINE + "    source: {url: ../feed/iris.csv}\n"))
    _ok(repo, "apply", "--auto-approve")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "iris comes from the feed")
    git(repo, "push", "-q", "origin", "main")
    return repo


def build_ingest_project(template: Path, dest: Path) -> Path:
    """Like `build_sourced_project`, but `iris` is written by an ingest command that copies the
    feed, run by DVC on every run (`always_changed`: it reads from outside the repository)."""
    repo = copy_project(template, dest)
    feed = dest / FEED
    feed.parent.mkdir(parents=True)
    shutil.copyfile(repo / "data/iris.csv", feed)
    spec = repo / "ml.yaml"
    text = spec.read_text()
    assert PATH_LINE in text
    source = "    source: {cmd: 'cp ../feed/iris.csv data/iris.csv', always_changed: true}\n"
    spec.write_text(text.replace(PATH_LINE, PATH_LINE + source))
    # the stage owns the file now: DVC's pointer goes (what apply's refusal says to do)
    subprocess.run(
        [str(BIN / "dvc"), "remove", "-q", "data/iris.csv.dvc"], cwd=repo, env=env(), check=True
    )
    _ok(repo, "apply", "--auto-approve")
    _ok(repo, "run")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "iris is ingested from the feed")
    git(repo, "push", "-q", "origin", "main")
    return repo


def set_retrain(repo: Path, rule: str) -> None:
    """Give model `iris` the `retrain:` mapping `rule` (flow style) and commit it."""
    spec = repo / "ml.yaml"
    text = spec.read_text()
    anchor = "    promotion: {mode: pr, stage: prod}\n"
    assert anchor in text
    spec.write_text(text.replace(anchor, anchor + f"    retrain: {rule}\n"))
    git(repo, "commit", "-qam", f"iris retrains {rule}")


def original(repo: Path) -> pd.DataFrame:
    """The iris data the champion was trained on."""
    return pd.read_csv(repo / "data/iris.csv")


def write_feed(repo: Path, frame: pd.DataFrame) -> None:
    """Publish `frame` as the source's newest batch."""
    frame.to_csv(repo.parent / FEED, index=False)


def resample(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The same distribution, other rows: a bootstrap sample stratified by species."""
    rng = np.random.default_rng(seed)
    parts = [g.iloc[rng.integers(0, len(g), len(g))] for _, g in frame.groupby("species")]
    return pd.concat(parts).reset_index(drop=True)


def shifted(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Every numeric column moved by a large fraction of its spread: drift the tests must see.
    The classes stay separable (the same shift for every row)."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    for col in NUMERIC:
        out[col] = out[col] + 1.5 * out[col].std() + rng.normal(0, 0.01, len(out))
    return out


def shuffled_labels(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The features kept, the labels permuted: no model learns it (the accuracy gate says no)."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    out["species"] = rng.permutation(out["species"].to_numpy())
    return out
