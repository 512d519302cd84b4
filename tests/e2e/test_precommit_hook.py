"""The shipped pre-commit hooks, installed by the real pre-commit from this source tree.

`pre-commit try-repo` fails on a stale generated file and passes after apply; and a real
`git commit` through an installed hook is blocked while generated files are stale.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.helpers import BIN, env, git, mlcode

pytestmark = pytest.mark.slow

SOURCE = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def _pre_commit(cwd: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    e = env()
    e["PRE_COMMIT_HOME"] = str(home)
    return subprocess.run(
        [str(BIN / "pre-commit"), *args],
        cwd=cwd,
        env=e,
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
    )


@pytest.fixture
def applied(git_repo: Path) -> Path:
    assert mlcode(git_repo, "init", "--example", "iris").returncode == 0
    result = mlcode(git_repo, "apply", "--auto-approve")
    assert result.returncode == 0, result.stderr
    git(git_repo, "commit", "-qm", "ml project")
    return git_repo


def _make_stale(root: Path) -> None:
    spec = root / "ml.yaml"
    spec.write_text(spec.read_text().replace("max_depth: 5", "max_depth: 3"))
    git(root, "add", "ml.yaml")


def test_try_repo_fails_on_stale_then_passes(applied: Path, pre_commit_home: Path) -> None:
    _make_stale(applied)
    failing = _pre_commit(
        applied, pre_commit_home, "try-repo", str(SOURCE), "mlcode-check", "--all-files"
    )
    assert failing.returncode != 0, failing.stdout + failing.stderr
    assert "out of sync" in failing.stdout
    assert mlcode(applied, "apply", "--auto-approve").returncode == 0
    passing = _pre_commit(
        applied, pre_commit_home, "try-repo", str(SOURCE), "mlcode-check", "--all-files"
    )
    assert passing.returncode == 0, passing.stdout + passing.stderr
    valid = _pre_commit(
        applied, pre_commit_home, "try-repo", str(SOURCE), "mlcode-validate", "--all-files"
    )
    assert valid.returncode == 0, valid.stdout + valid.stderr


def test_installed_hook_blocks_a_stale_commit(applied: Path, pre_commit_home: Path) -> None:
    rev = git(SOURCE, "rev-parse", "HEAD").strip()
    (applied / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {SOURCE}\n    rev: {rev}\n    hooks:\n      - id: mlcode-check\n"
    )
    git(applied, "add", ".pre-commit-config.yaml")
    installed = _pre_commit(applied, pre_commit_home, "install")
    assert installed.returncode == 0, installed.stderr
    _make_stale(applied)
    e = env()
    e["PRE_COMMIT_HOME"] = str(pre_commit_home)
    blocked = subprocess.run(
        ["git", "commit", "-m", "stale"],
        check=False,
        cwd=applied,
        env=e,
        capture_output=True,
        text=True,
    )
    assert blocked.returncode != 0, blocked.stdout + blocked.stderr
    assert "out of sync" in blocked.stdout + blocked.stderr
    assert mlcode(applied, "apply", "--auto-approve").returncode == 0
    ok = subprocess.run(
        ["git", "commit", "-m", "in sync"],
        check=False,
        cwd=applied,
        env=e,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
