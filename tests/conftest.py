"""Shared fixtures: isolated git identity and HOME-free environments, real repos in tmp dirs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Hypothesis profiles: `ci` (chosen when CI is set) derandomizes, so a CI failure replays exactly;
# `dev` explores new examples on every run; `thorough` is for hunting (ten times the examples of
# tests that do not fix their own count). Pick one with HYPOTHESIS_PROFILE=NAME.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None)
settings.register_profile("thorough", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

GIT_ENV = {
    "GIT_AUTHOR_NAME": "mlcode tests",
    "GIT_AUTHOR_EMAIL": "tests@mlcode.invalid",
    "GIT_COMMITTER_NAME": "mlcode tests",
    "GIT_COMMITTER_EMAIL": "tests@mlcode.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@pytest.fixture(autouse=True)
def _isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never touch the real HOME or the user's git config; pin the git identity."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    monkeypatch.setenv("DVC_SITE_CACHE_DIR", str(home / "dvc-site-cache"))
    for key in ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)


def run(cmd: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command in `cwd`, capturing text output."""
    return subprocess.run(cmd, cwd=cwd, check=check, capture_output=True, text=True, env=os.environ)


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """An empty real git repository on branch main."""
    repo = tmp_path / "repo"
    repo.mkdir()
    run(["git", "init", "-q", "-b", "main"], repo)
    return repo
