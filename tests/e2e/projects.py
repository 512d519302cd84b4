"""Trained example projects built once per test session and copied per test.

Building a project (init → apply → commit → run → commit → push) takes about 15 s, so tests that
need a trained model share one template per xdist worker (`trained_iris` in tests/e2e/conftest.py)
and work on a copy (`copy_project`). A template directory holds three siblings, like a user's
machine in the README: `project/` (the git + DVC repository), `origin.git` (its bare git remote)
and `.mlcode-storage/` (the local stack's DVC remote). Every remote path is relative, so a copy of
the whole directory is a fully independent project.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.e2e.helpers import git, mlcode

PROJECT = "project"


def _ok(cwd: Path, *args: str) -> str:
    result = mlcode(cwd, *args)
    if result.returncode != 0:
        raise AssertionError(
            f"mlcode {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def build_trained_project(base: Path, example: str = "iris") -> Path:
    """Build `base/project` from `mlcode init --example`, trained and pushed; return its path."""
    base.mkdir(parents=True, exist_ok=True)
    git(base, "init", "-q", "--bare", "-b", "main", "origin.git")
    repo = base / PROJECT
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", "../origin.git")
    _ok(repo, "init", "--example", example)
    _ok(repo, "apply", "--auto-approve")
    git(repo, "commit", "-qm", f"ml project: {example} declared in ml.yaml")
    _ok(repo, "run")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", f"{example}: first trained model")
    git(repo, "push", "-q", "origin", "main")
    return repo


def copy_project(template: Path, dest: Path) -> Path:
    """Copy a template directory (project, origin.git, DVC storage) to `dest`; return the copy's
    repository. Hard links are not used: each test may change every file."""
    shutil.copytree(template, dest, symlinks=True)
    return dest / PROJECT
