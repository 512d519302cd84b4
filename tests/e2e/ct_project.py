"""The continuous-training project of the scheduled-run tests, built once per session and copied.

A template directory holds, like a user's machine next to a forge:
- `project/`: the git + DVC repository (stack `local`), two models on datasets that declare a
  `source`: `sensor` (`retrain.when: drift`) trained on `../upstream/sensor.csv`, with a drift
  gate against the newest readings `../upstream/sensor_latest.csv` (so its promotion report holds
  the drift plots), and `churn` (`retrain.when: data_changed`) on `../upstream/churn.csv`;
- `upstream/`: the "upstream" data the tests rewrite with each new batch (outside the repository;
  the sources are relative, `../upstream/...`, so a copy of the template is independent);
- `origin.git`: the bare origin; `.mlcode-storage/ct`: the DVC remote.

Both models are trained, committed, pushed, promoted (`mlcode promote`, pull-request mode), the
promotion branches merged into main on the origin and `mlcode promote --finalize` run, so each
model has a champion in the registry (`<model>#prod#1` → `<model>@v0.1.0`).

The batches are seeded numpy draws of well separated classes (every class's mean 10 standard
deviations from the next), so a decision tree scores 1.0 on every batch and the gates (accuracy,
no regression against the champion) pass whatever the shift: only the data decides whether a model
is retrained. `batch(..., shift=3)` moves every feature's mean by 3 of the column's standard
deviations: a real shift the drift test finds in every column.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV
from tests.e2e.helpers import git, mlcode
from tests.e2e.projects import copy_project

PROJECT = "project"
_BUILT = pytest.StashKey[Path]()
NAME = "ct"
ROWS = 300

SENSOR = ("temperature", "pressure", "vibration", "humidity")
CHURN = ("tenure", "spend", "visits", "tickets")

ML_YAML = f"""\
version: 1
project: {NAME}
stack: local

data:
  sensor:
    path: data/sensor.csv
    source: {{url: ../upstream/sensor.csv}}   # a new batch lands there every day
    target: state
    features:
      numeric: [{", ".join(SENSOR)}]
  sensor_latest:                             # the newest readings the model serves
    path: data/sensor_latest.csv
    source: {{url: ../upstream/sensor_latest.csv}}
    target: state
    features:
      numeric: [{", ".join(SENSOR)}]
  churn:
    path: data/churn.csv
    source: {{url: ../upstream/churn.csv}}
    target: churned
    features:
      numeric: [{", ".join(CHURN)}]

models:
  sensor:
    task: classification
    data: sensor
    estimator: sklearn.tree.DecisionTreeClassifier
    params: {{max_depth: 4, random_state: 0}}
    metrics: [accuracy]
    gates:
      metrics:
        - {{metric: accuracy, min: 0.9}}
        - {{metric: accuracy, vs_champion: {{max_regression: 0.02}}}}
      drift: {{reference: sensor, current: sensor_latest, max_drifted_share: 0.5}}
    retrain: {{when: drift, max_drifted_share: 0.5}}
    promotion: {{mode: pr, stage: prod}}
  churn:
    task: classification
    data: churn
    estimator: sklearn.tree.DecisionTreeClassifier
    params: {{max_depth: 4, random_state: 0}}
    metrics: [accuracy]
    gates:
      metrics:
        - {{metric: accuracy, min: 0.9}}
    retrain: {{when: data_changed}}
    promotion: {{mode: pr, stage: prod}}
"""

FAMILIES = {
    "sensor": (SENSOR, "state", ("ok", "warn", "fail")),
    "churn": (CHURN, "churned", ("no", "yes")),
}


def batch(family: str, seed: int, shift: float = 0.0, rows: int = ROWS) -> str:
    """A CSV batch of `family` (sensor, churn): `rows` seeded rows of well separated classes;
    `shift` moves every feature's mean by that many of the column's standard deviations."""
    import numpy as np

    features, target, classes = FAMILIES[family]
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, len(classes), size=rows)
    scale = np.arange(len(features)) + 1.0  # each feature on its own scale
    x = (labels[:, None] * 10.0 + rng.normal(0.0, 1.0, size=(rows, len(features)))) * scale
    # the columns' standard deviation in theory (uniform classes 10 apart, unit noise), so every
    # batch of one shift has the same distribution
    std = np.sqrt(100.0 * (len(classes) ** 2 - 1) / 12.0 + 1.0) * scale
    x = x + shift * std
    lines = [",".join([*features, target])]
    lines += [
        ",".join([*(f"{v:.4f}" for v in row), classes[label]])
        for row, label in zip(x, labels, strict=True)
    ]
    return "\n".join(lines) + "\n"


def sensor_batch(seed: int, shift: float = 0.0) -> dict[str, str]:
    """A day of sensor data: the training file and the newest readings, drawn alike."""
    return {
        "sensor.csv": batch("sensor", seed, shift),
        "sensor_latest.csv": batch("sensor", seed + 1000, shift, rows=ROWS // 3),
    }


def upstream(repo: Path) -> Path:
    """The folder the datasets' sources point at (`../upstream`)."""
    return repo.parent / "upstream"


def storage(repo: Path) -> Path:
    """The project's DVC remote on the local stack."""
    return repo.parent / ".mlcode-storage" / NAME


def origin(repo: Path) -> Path:
    """The project's bare origin."""
    return repo.parent / "origin.git"


def ref_map(repo: Path) -> dict[str, str]:
    """Ref name → object id of a repository (a checkout or a bare one)."""
    out = git(repo, "for-each-ref", "--format=%(refname) %(objectname)")
    return dict(line.split(" ", 1) for line in out.splitlines())


def land(repo: Path, files: dict[str, str]) -> None:
    """New batches upstream: file name → CSV text, each replacing the upstream file."""
    for name, text in files.items():
        (upstream(repo) / name).write_text(text)


def _ok(cwd: Path, *args: str) -> str:
    result = mlcode(cwd, *args)
    if result.returncode != 0:
        raise AssertionError(
            f"mlcode {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def build_ct_project(base: Path) -> Path:
    """Build `base/project` (see the module docstring); return its path."""
    base.mkdir(parents=True, exist_ok=True)
    git(base, "init", "-q", "--bare", "-b", "main", "origin.git")
    repo = base / PROJECT
    repo.mkdir()
    (base / "upstream").mkdir()
    land(repo, {**sensor_batch(seed=1), "churn.csv": batch("churn", seed=2)})
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", "../origin.git")
    _ok(repo, "init", "--project", NAME)
    (repo / "ml.yaml").write_text(ML_YAML)
    _ok(repo, "apply", "--auto-approve")  # imports both sources (`dvc import-url`)
    git(repo, "commit", "-qm", "ct project: two models on sourced data")
    _ok(repo, "run")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "first trained models")
    git(repo, "push", "-q", "origin", "main")
    promoted = json.loads(_ok(repo, "promote", "--json"))
    branches = sorted(m["branch"] for m in promoted["models"])
    assert len(branches) == 2, promoted
    # a reviewer merges both promotion branches; the finalize job assigns the stage
    git(repo, "fetch", "-q", "origin")
    for branch in branches:
        git(repo, "merge", "-q", "--no-ff", "-m", f"Merge {branch}", f"origin/{branch}")
    git(repo, "push", "-q", "origin", "main")
    _ok(repo, "promote", "--finalize")
    assert git(repo, "status", "--porcelain") == ""
    return repo


@pytest.fixture(scope="session")
def ct_template(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built continuous-training project (never modify it: take a copy with `ct_project`).
    Built once per session (per xdist worker) even when several test modules import this
    fixture: the path is kept in the session's stash."""
    built = request.config.stash.get(_BUILT, None)
    if built is not None:
        return built
    base = tmp_path_factory.mktemp("ct-template")
    with pytest.MonkeyPatch.context() as patch:
        home = tmp_path_factory.mktemp("ct-template-home")
        patch.setenv("HOME", str(home))
        patch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        patch.setenv("DVC_NO_ANALYTICS", "1")
        for key, value in GIT_ENV.items():
            patch.setenv(key, value)
        build_ct_project(base / "t")
    request.config.stash[_BUILT] = base / "t"
    return base / "t"


@pytest.fixture
def ct_project(ct_template: Path, tmp_path: Path) -> Path:
    """A private copy of the continuous-training project; returns its repository (siblings:
    `../origin.git`, `../upstream`, `../.mlcode-storage/ct`)."""
    return copy_project(ct_template, tmp_path / "ct")
