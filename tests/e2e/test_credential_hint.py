"""The credential hint apply prints works as written: each `dvc remote modify --local` line it
prints, run as is in a shell, succeeds and puts the value in .dvc/config.local, never .dvc/config."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from mlcode.project.remote import parse_config
from tests.e2e.helpers import env, git, mlcode

pytestmark = pytest.mark.slow


def test_ssh_hint_lines_run_as_printed(git_repo: Path, tmp_path: Path) -> None:
    assert mlcode(git_repo, "init", "--example", "iris", "--stack", "github-ssh").returncode == 0
    applied = mlcode(git_repo, "apply", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    lines = [
        line.strip()
        for line in applied.stdout.splitlines()
        if line.strip().startswith("dvc remote modify --local ")
    ]
    assert lines, applied.stdout
    committed = (git_repo / ".dvc" / "config").read_text()
    key = tmp_path / "id_ed25519"
    shell_env = {**env(), "DVC_SSH_KEYFILE": str(key)}
    for command in lines:  # exactly as printed, comment included
        done = subprocess.run(
            ["sh", "-c", command],
            cwd=git_repo,
            env=shell_env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, f"{command!r}: {done.stderr}"
    local = parse_config((git_repo / ".dvc" / "config.local").read_text())
    assert local.remotes["ssh-storage"] == {"keyfile": str(key)}
    assert (git_repo / ".dvc" / "config").read_text() == committed
    assert ".dvc/config.local" not in git(git_repo, "ls-files")
    assert os.fspath(key) not in git(git_repo, "diff", "--cached")


def test_s3_hint_names_the_variables_the_client_reads(git_repo: Path) -> None:
    assert mlcode(git_repo, "init", "--example", "iris", "--stack", "github-s3").returncode == 0
    applied = mlcode(git_repo, "apply", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "AWS_ACCESS_KEY_ID" in applied.stdout
    assert "AWS_SECRET_ACCESS_KEY" in applied.stdout
    assert "dvc remote modify --local`" not in applied.stdout  # no half-written command
