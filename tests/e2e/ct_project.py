"""The continuous-training project of the scheduled-run tests, built once per session and copied
(fixtures `ct_template` and `ct_project` in tests/e2e/conftest.py), and the readers of what
`mlcode retrain` said and left that those tests share.

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
import subprocess
from pathlib import Path
from typing import Any

from tests.e2e.helpers import git, snapshot
from tests.e2e.projects import new_project, ok, train_and_push
from tests.e2e.promote_helpers import origin, refs

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


def land(repo: Path, files: dict[str, str]) -> None:
    """New batches upstream: file name → CSV text, each replacing the upstream file."""
    for name, text in files.items():
        (upstream(repo) / name).write_text(text)


def build_ct_project(base: Path) -> Path:
    """Build `base/project` (see the module docstring); return its path."""
    repo = new_project(base)
    (base / "upstream").mkdir()
    land(repo, {**sensor_batch(seed=1), "churn.csv": batch("churn", seed=2)})
    ok(repo, "init", "--project", NAME)
    (repo / "ml.yaml").write_text(ML_YAML)
    train_and_push(repo, "two models on sourced data")  # apply imports both sources
    promoted = json.loads(ok(repo, "promote", "--json"))
    branches = sorted(m["branch"] for m in promoted["models"])
    assert len(branches) == 2, promoted
    # a reviewer merges both promotion branches; the finalize job assigns the stage
    git(repo, "fetch", "-q", "origin")
    for branch in branches:
        git(repo, "merge", "-q", "--no-ff", "-m", f"Merge {branch}", f"origin/{branch}")
    git(repo, "push", "-q", "origin", "main")
    ok(repo, "promote", "--finalize")
    assert git(repo, "status", "--porcelain") == ""
    return repo


# --- what a retrain said and left ----------------------------------------------------------------

State = tuple[dict[str, bytes], str, str, str, bytes, str]


def state(repo: Path) -> State:
    """The whole observable tree of a checkout: files, index, refs, HEAD, .dvc/config; and the
    refs of its origin (`../origin.git`)."""
    return (
        snapshot(repo),
        git(repo, "ls-files", "-s"),
        refs(repo),
        git(repo, "rev-parse", "HEAD"),
        (repo / ".dvc" / "config").read_bytes(),
        refs(origin(repo)),
    )


def summary_of(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The JSON summary of `mlcode retrain --json` (never a traceback); fails when there is none."""
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    try:
        summary: dict[str, Any] = json.loads(result.stdout)
    except ValueError:
        raise AssertionError(
            f"exit {result.returncode}, no JSON summary\n{result.stdout}\n{result.stderr}"
        ) from None
    return summary


def table_rows(table: str, model: str) -> list[str]:
    """The lines of a summary table whose first word (table borders aside) is `model`."""
    return [line for line in table.splitlines() if line.strip("|│┃ ").split()[:1] == [model]]
