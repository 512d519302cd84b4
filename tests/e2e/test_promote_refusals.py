"""`mlcode promote` refuses bad input before its first change: exit 3, a message naming what is
wrong, and the project, its origin and its DVC remote exactly as they were."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.helpers import git, mlcode
from tests.e2e.promote_helpers import state

pytestmark = pytest.mark.slow


def _dirty(repo: Path) -> None:
    (repo / "scratch.py").write_text("print('not reviewed')\n")


def _stale(repo: Path) -> None:
    lines = (repo / "data" / "iris.csv").read_text().splitlines(keepends=True)
    (repo / "data" / "iris.csv").write_text("".join(lines[:-5]))
    git(repo, "add", "-A")  # the pointer is not rewritten: DVC sees the data changed


def _no_remote(repo: Path) -> None:
    git(repo, "remote", "remove", "origin")


def _no_base(repo: Path) -> None:
    git(repo, "branch", "-m", "main", "trunk")
    git(repo, "update-ref", "-d", "refs/remotes/origin/main")  # nor the remote-tracking branch


def _no_metrics(repo: Path) -> None:
    (repo / "metrics" / "iris.json").unlink()


def _detached(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")


def _missing_token(repo: Path) -> None:
    (repo / "stack.yaml").write_text(
        "name: hub\nci: github\nforge: {type: github, token_env: ABSENT_FORGE_TOKEN}\n"
        "remote: {type: local, url: ../.mlcode-storage/project}\n"
    )
    text = (repo / "ml.yaml").read_text().replace("stack: local ", "stack: stack.yaml ")
    (repo / "ml.yaml").write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "own stack")


def _unknown_forge(repo: Path) -> None:
    _missing_token(repo)
    (repo / "stack.yaml").write_text(
        (repo / "stack.yaml").read_text().replace("type: github", "type: bitbucket")
    )
    git(repo, "commit", "-qam", "unknown forge")


CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "dirty": (_dirty, "scratch.py"),
    "stale": (_stale, "mlcode run"),
    "no-remote": (_no_remote, "git remote"),
    "no-base": (_no_base, "'main'"),
    "no-metrics": (_no_metrics, "metrics/iris.json"),
    "detached": (_detached, "detached"),
    "missing-token": (_missing_token, "ABSENT_FORGE_TOKEN"),
    "unknown-forge": (_unknown_forge, "bitbucket"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_refusal_changes_nothing(trained_iris: Path, case: str) -> None:
    repo = trained_iris
    spoil, said = CASES[case]
    spoil(repo)
    before = state(repo)
    result = mlcode(repo, "promote")
    assert result.returncode == 3, result.stdout + result.stderr
    assert said in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert state(repo) == before


def test_a_failing_gate_exits_1_with_the_table_and_changes_nothing(trained_iris: Path) -> None:
    repo = trained_iris
    text = (
        (repo / "ml.yaml")
        .read_text()
        .replace("{metric: accuracy, min: 0.85}", "{metric: accuracy, min: 0.99}")
    )
    (repo / "ml.yaml").write_text(text)
    git(repo, "commit", "-qam", "a stricter gate")
    before = state(repo)
    result = mlcode(repo, "promote")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "accuracy >= 0.99" in result.stdout + result.stderr
    assert "FAILED" in result.stdout + result.stderr
    assert state(repo) == before  # the DVC remote included: gates come before the data push
