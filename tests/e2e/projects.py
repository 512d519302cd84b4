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
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV
from tests.e2e.helpers import git, mlcode

PROJECT = "project"


def ok(cwd: Path, *args: str) -> str:
    """Run `mlcode ARGS` in `cwd`; its stdout, or an AssertionError with everything it said."""
    result = mlcode(cwd, *args)
    if result.returncode != 0:
        raise AssertionError(
            f"mlcode {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def new_project(base: Path) -> Path:
    """`base/origin.git` (bare) and `base/project`, an empty git repository on `main` whose
    origin it is (a relative path); return the project."""
    base.mkdir(parents=True, exist_ok=True)
    git(base, "init", "-q", "--bare", "-b", "main", "origin.git")
    repo = base / PROJECT
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", "../origin.git")
    return repo


def train_and_push(repo: Path, what: str) -> None:
    """Apply the declared ml.yaml and commit, run the pipeline and commit what it made, push."""
    ok(repo, "apply", "--auto-approve")
    git(repo, "commit", "-qm", f"ml project: {what} declared in ml.yaml")
    ok(repo, "run")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", f"{what}: first trained model")
    git(repo, "push", "-q", "origin", "main")


def build_trained_project(base: Path, example: str = "iris") -> Path:
    """Build `base/project` from `mlcode init --example`, trained and pushed; return its path."""
    repo = new_project(base)
    ok(repo, "init", "--example", example)
    train_and_push(repo, example)
    return repo


def build_template(
    factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]
) -> Path:
    """`build(folder)` a session template under a new temporary `name` folder, with its own HOME
    and the tests' git identity (the session has no per-test isolation yet); return the folder."""
    base = factory.mktemp(name)
    with pytest.MonkeyPatch.context() as patch:
        home = factory.mktemp(f"{name}-home")
        patch.setenv("HOME", str(home))
        patch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        patch.setenv("DVC_NO_ANALYTICS", "1")
        for key, value in GIT_ENV.items():
            patch.setenv(key, value)
        build(base / "t")
    return base / "t"


def copy_project(template: Path, dest: Path) -> Path:
    """Copy a template directory (project, origin.git, DVC storage) to `dest`; return the copy's
    repository. Hard links are not used: each test may change every file."""
    shutil.copytree(template, dest, symlinks=True)
    return dest / PROJECT
