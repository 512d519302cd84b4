"""One way to find the repository root, for every command: from a subdirectory of the work tree a
command answers exactly as from its root; outside any git repository, `init` and `validate` work
in the current folder, and the commands that need git say so."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlcode.cli import cli
from mlcode.cli.boundary import run_guarded
from mlcode.spec.jsonschema import SCHEMA_FILE


def _run(cwd: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run_guarded(cli, ["-C", str(cwd), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def project(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A git work tree with a scaffolded ml.yaml at its root and a nested folder."""
    assert _run(git_repo, capsys, "init")[0] == 0
    (git_repo / "src" / "deep").mkdir(parents=True)
    return git_repo


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "--json"),
        ("validate",),
        ("plan", "--no-status", "--json"),
        ("check",),
        ("run", "--json"),
        ("params", "pull", "--dry-run"),
        ("step", "prepare", "nosuchmodel"),
    ],
    ids=" ".join,
)
def test_a_subdirectory_answers_as_the_root(
    project: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    at_root = _run(project, capsys, *args)
    nested = _run(project / "src" / "deep", capsys, *args)
    assert nested == at_root


def test_validate_from_a_subdirectory_reads_the_roots_ml_yaml(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(project / "src", capsys, "validate")
    assert code == 0, err
    assert out.startswith("ml.yaml is valid: project 'repo'")


def test_init_from_a_subdirectory_writes_at_the_root(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nested = git_repo / "src"
    nested.mkdir()
    code, out, err = _run(nested, capsys, "init")
    assert code == 0, err
    assert (git_repo / "ml.yaml").is_file()
    assert (git_repo / SCHEMA_FILE).is_file()
    assert not (nested / "ml.yaml").exists()
    assert f"in {git_repo.resolve()}" in out
    assert _run(git_repo, capsys, "validate")[0] == 0


def test_init_and_validate_outside_git_use_the_current_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "not-a-repo"
    folder.mkdir()
    assert _run(folder, capsys, "init")[0] == 0
    assert (folder / "ml.yaml").is_file()
    code, out, _ = _run(folder, capsys, "validate")
    assert code == 0
    assert out.startswith("ml.yaml is valid")


@pytest.mark.parametrize("args", [("plan", "--no-status"), ("check",), ("run",)], ids=" ".join)
def test_commands_that_need_git_refuse_outside_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    folder = tmp_path / "not-a-repo"
    folder.mkdir()
    assert _run(folder, capsys, "init")[0] == 0
    code, out, err = _run(folder, capsys, *args)
    assert code == 3
    assert "is not inside a git repository; run `git init` first" in err
    assert out == ""
