"""On every shipped stack: init → plan → apply → plan ends with no changes (exit 0 under
--detailed-exitcode), and switching stacks deletes the files the old stack generated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlcode.resources import stack_presets
from tests.e2e.helpers import git, mlcode

pytestmark = pytest.mark.slow

EXPECTED_CI = {
    "local": set(),
    "github-s3": {
        ".github/workflows/mlcode-pr.yml",
        ".github/workflows/mlcode-retrain.yml",
        ".github/workflows/mlcode-finalize.yml",
    },
    "github-ssh": {
        ".github/workflows/mlcode-pr.yml",
        ".github/workflows/mlcode-retrain.yml",
        ".github/workflows/mlcode-finalize.yml",
    },
    "gitlab-s3": {".gitlab-ci.yml"},
}


def test_every_preset_is_covered() -> None:
    assert set(stack_presets()) == set(EXPECTED_CI)


@pytest.mark.parametrize("stack", sorted(EXPECTED_CI))
def test_init_plan_apply_plan(git_repo: Path, stack: str) -> None:
    assert mlcode(git_repo, "init", "--example", "wine", "--stack", stack).returncode == 0
    first = mlcode(git_repo, "plan", "--detailed-exitcode", "--no-status")
    assert first.returncode == 2, first.stdout + first.stderr
    applied = mlcode(git_repo, "apply", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    for path in EXPECTED_CI[stack]:
        assert (git_repo / path).is_file(), path
        assert path in git(git_repo, "diff", "--cached", "--name-only").split()
    again = mlcode(git_repo, "plan", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes" in again.stdout
    assert mlcode(git_repo, "check").returncode == 0
    config = (git_repo / ".dvc" / "config").read_text()
    assert "secret" not in config.lower()
    assert "password" not in config.lower()


def test_switching_stack_deletes_old_ci_files(git_repo: Path) -> None:
    assert mlcode(git_repo, "init", "--example", "iris", "--stack", "github-s3").returncode == 0
    assert mlcode(git_repo, "apply", "--auto-approve").returncode == 0
    spec = git_repo / "ml.yaml"
    spec.write_text(spec.read_text().replace("stack: github-s3", "stack: gitlab-s3"))
    plan = mlcode(git_repo, "plan", "--no-status")
    assert "- .github/workflows/mlcode-pr.yml (delete)" in plan.stdout
    assert "+ .gitlab-ci.yml (create)" in plan.stdout
    assert mlcode(git_repo, "apply", "--auto-approve").returncode == 0
    assert not (git_repo / ".github" / "workflows" / "mlcode-pr.yml").exists()
    assert (git_repo / ".gitlab-ci.yml").is_file()
    assert mlcode(git_repo, "plan", "--detailed-exitcode").returncode == 0


def test_gitlab_schedule_is_named_as_a_pipeline_schedule_to_create(git_repo: Path) -> None:
    """GitLab has no schedule in .gitlab-ci.yml: plan and apply say which pipeline schedule to
    create when the file is written, and again when ci.schedule changes; not on every plan."""
    assert mlcode(git_repo, "init", "--example", "iris", "--stack", "gitlab-s3").returncode == 0
    wanted = ("pipeline schedule", "0 3 * * 1", "UTC", "target branch `main`")
    plan = mlcode(git_repo, "plan", "--no-status")
    assert plan.returncode == 0, plan.stderr
    assert all(words in plan.stdout for words in wanted), plan.stdout
    data = json.loads(mlcode(git_repo, "plan", "--no-status", "--json").stdout)
    assert any("0 3 * * 1" in note for note in data["notes"])
    applied = mlcode(git_repo, "apply", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert all(words in applied.stdout for words in wanted), applied.stdout
    again = mlcode(git_repo, "plan", "--no-status")
    assert "No changes" in again.stdout
    assert "pipeline schedule" not in again.stdout
    spec = git_repo / "ml.yaml"
    spec.write_text(spec.read_text().replace('schedule: "0 3 * * 1"', 'schedule: "30 4 * * *"'))
    changed = mlcode(git_repo, "plan", "--no-status")
    assert "~ .gitlab-ci.yml (update)" in changed.stdout
    assert "30 4 * * *" in changed.stdout.split("Plan:", 1)[0].rsplit("note:", 1)[-1]
