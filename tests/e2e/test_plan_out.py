"""`plan --out` writes only into an existing folder: a missing one is an error and nothing is
written (no folder created, no plan file, nothing else in the tree)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.helpers import git, mlcode, snapshot

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("planout") / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    assert mlcode(root, "init", "--example", "iris").returncode == 0
    return root


@pytest.mark.parametrize("out", ["missing/plan.json", "missing/deeper/plan.json"])
def test_missing_parent_folder_is_an_error(project: Path, out: str) -> None:
    before = snapshot(project), git(project, "ls-files", "-s")
    result = mlcode(project, "plan", "--no-status", "--out", out)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "does not exist" in result.stderr
    assert out.split("/", maxsplit=1)[0] in result.stderr
    assert not (project / "missing").exists()
    assert (snapshot(project), git(project, "ls-files", "-s")) == before


def test_parent_that_is_a_file_is_an_error(project: Path) -> None:
    (project / "notes.txt").write_text("x\n")
    result = mlcode(project, "plan", "--no-status", "--out", "notes.txt/plan.json")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "not a folder" in result.stderr
    assert (project / "notes.txt").read_text() == "x\n"


def test_existing_folder_gets_the_plan(project: Path) -> None:
    (project / "plans").mkdir(exist_ok=True)
    result = mlcode(project, "plan", "--no-status", "--out", "plans/p.json")
    assert result.returncode == 0, result.stderr
    assert (project / "plans" / "p.json").is_file()
