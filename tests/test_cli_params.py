"""`mlcode params`: registered, documented, and in the light install it names what it lacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mlcode.cli import cli, needs
from mlcode.cli.boundary import run_guarded


def test_pull_help_works_in_the_light_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(needs, "missing", lambda: ["dvc"])
    result = CliRunner().invoke(cli, ["params", "pull", "--help"])
    assert result.exit_code == 0, result.output
    assert "--dry-run" in result.output


def test_pull_names_what_the_light_install_lacks(
    monkeypatch: pytest.MonkeyPatch, git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(needs, "missing", lambda: ["dvc"])
    assert run_guarded(cli, ["-C", str(git_repo), "params", "pull"]) == 3
    assert "`mlcode params pull` needs dvc" in capsys.readouterr().err
