"""The issue's "Done when", on the local stack: a scheduled run of continuous training, done the
way the scheduled CI job does it (a fresh clone of the origin, `mlcode retrain --pull --push
--json`), turns a new data batch with a real shift into a promotion branch with its report, and a
batch without one into "nothing to do" — twice in a row, changing nothing the second time. The
project is tests/e2e/ct_project.py's (two models, sourced data, champions in the registry);
`scripts/ct_demo.sh` shows the same to a person; `.ci/run` runs it after the suite."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.ct_project import land, sensor_batch, state, storage, summary_of, table_rows
from tests.e2e.dvc_objects import missing_in_store
from tests.e2e.helpers import git, mlcode
from tests.e2e.promote_helpers import origin, remote_refs

pytestmark = pytest.mark.slow

STEPS = ("refresh", "drift", "run", "gates", "promote")


def _clone(repo: Path, name: str) -> Path:
    """A fresh clone of the origin next to the project (so `../upstream` and the DVC remote's
    relative path resolve as in the project): the scheduled job's checkout."""
    git(repo.parent, "clone", "-q", str(origin(repo)), name)
    return repo.parent / name


def _retrain(clone: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """What the scheduled job runs; the parsed JSON summary."""
    result = mlcode(clone, "retrain", "--pull", "--push", "--json", *args)
    return result, summary_of(result)


def _rows(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["model"]: row for row in summary["models"]}


def _unchanged_churn(row: dict[str, Any]) -> None:
    """`churn` (when: data_changed) got no new data: not retrained, nothing promoted."""
    assert row["outcome"] == "nothing to do", row
    assert row["decision"]["when"] == "data_changed"
    assert row["decision"]["retrain"] is False
    assert row["branch"] is None
    assert row["version"] is None
    assert row["error"] is None
    assert row["steps"]["run"]["status"] == "skipped"
    assert row["steps"]["promote"]["status"] == "skipped"


def test_a_shifted_batch_is_promoted_an_unshifted_one_is_nothing_to_do(ct_project: Path) -> None:
    repo = ct_project
    first = remote_refs(repo)

    # --- a new batch with a real shift: every feature's mean moved by 3 standard deviations
    land(repo, sensor_batch(seed=11, shift=3.0))
    run1 = _clone(repo, "run-1")
    result, summary = _retrain(run1)
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary["outcome"] == "promoted"
    assert summary["exit_code"] == 0
    changed = {item["dataset"]: item["changed"] for item in summary["refresh"]}
    assert changed == {"sensor": True, "sensor_latest": True, "churn": False}
    rows = _rows(summary)
    assert set(rows) == {"sensor", "churn"}
    sensor = rows["sensor"]
    assert sensor["outcome"] == "promoted", sensor
    assert sensor["decision"]["when"] == "drift"
    assert sensor["decision"]["retrain"] is True
    assert sensor["error"] is None
    assert {step: sensor["steps"][step]["status"] for step in STEPS} == dict.fromkeys(STEPS, "done")
    _unchanged_churn(rows["churn"])

    # exactly one new branch and one new version tag on the origin; main untouched
    version, branch = sensor["version"], sensor["branch"]
    assert version != "v0.1.0"
    assert branch == f"mlcode/promote/sensor/{version}"
    second = remote_refs(repo)
    new = {name for name in second if first.get(name) != second[name]}
    assert new == {f"refs/heads/{branch}", f"refs/tags/sensor@{version}"}
    commit = second[f"refs/heads/{branch}"]
    assert git(run1, "rev-parse", f"{commit}^").strip() == first["refs/heads/main"]

    # the promotion commit: the report with its drift plots, the new data's pointer
    git(run1, "fetch", "-q", "origin")
    files = git(run1, "ls-tree", "-r", "--name-only", commit).split()
    folder = f"reports/sensor/{version}"
    assert f"{folder}/promotion.md" in files
    plots = [name for name in files if name.startswith(f"{folder}/") and name.endswith(".svg")]
    assert plots
    report = git(run1, "show", f"{commit}:{folder}/promotion.md")
    for plot in plots:
        assert plot.removeprefix(f"{folder}/") in report  # linked from the report
        assert git(run1, "show", f"{commit}:{plot}").lstrip().startswith("<svg")
    new_md5 = {item["dataset"]: item["new_md5"] for item in summary["refresh"]}
    pointer = yaml.safe_load(git(run1, "show", f"{commit}:data/sensor.csv.dvc"))
    assert pointer["outs"][0]["md5"] == new_md5["sensor"]
    assert "sensor:" in git(run1, "show", f"{commit}:dvc.lock")
    # data before pointer: every object the commit points to is on the DVC remote
    assert missing_in_store(run1, commit, storage(repo)) == []

    # --- the next scheduled run: new rows from the champion's distribution, no shift
    land(repo, sensor_batch(seed=21))
    run2 = _clone(repo, "run-2")
    head = git(run2, "rev-parse", "HEAD")
    result, summary = _retrain(run2)
    assert result.returncode == 4, result.stdout + result.stderr
    assert summary["outcome"] == "nothing to do"
    assert summary["exit_code"] == 4
    changed = {item["dataset"]: item["changed"] for item in summary["refresh"]}
    assert changed == {"sensor": True, "sensor_latest": True, "churn": False}
    rows = _rows(summary)
    assert rows["sensor"]["outcome"] == "nothing to do", rows["sensor"]
    assert rows["sensor"]["decision"]["when"] == "drift"
    assert rows["sensor"]["decision"]["retrain"] is False
    assert rows["sensor"]["branch"] is None
    assert rows["sensor"]["version"] is None
    assert rows["sensor"]["steps"]["drift"]["status"] == "done"
    assert rows["sensor"]["steps"]["run"]["status"] == "skipped"
    _unchanged_churn(rows["churn"])
    assert remote_refs(repo) == second  # no new branch, no new tag
    assert git(run2, "rev-parse", "HEAD") == head
    # what changed in the checkout is the refreshed data's pointers, nothing else
    diff = set(git(run2, "diff", "--name-only", "HEAD").split())
    assert diff <= {"data/sensor.csv.dvc", "data/sensor_latest.csv.dvc"}, diff

    # --- the same batch again: still nothing to do, and now nothing changes at all
    before = state(run2)
    again = mlcode(run2, "retrain", "--pull", "--push")
    assert again.returncode == 4, again.stdout + again.stderr
    assert "Traceback" not in again.stderr
    assert state(run2) == before
    assert remote_refs(repo) == second
    for model in ("sensor", "churn"):
        (row,) = table_rows(again.stdout, model)
        assert "nothing to do" in row, again.stdout
