"""`mlcode pre-push` on a trained project: which commits it asks DVC about, and that a push of
code alone never starts DVC (a `dvc` package that fails on import stands in for a dead remote).

The ways git hands over a push are all exercised with the real command: by hand (HEAD against the
remote-tracking branches), git's own hook protocol (`HOOK <remote> <url>` with ref lines on stdin:
a new branch, a deletion, a tag) and pre-commit's environment. A pointer push with data missing
from the local DVC remote is refused, naming the object of the pointer it changes (and not the
objects of pointers already pushed); after `dvc push` it passes.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.e2e.helpers import BIN, env, git

pytestmark = pytest.mark.slow

ZERO = "0" * 40


def _pre_push(
    repo: Path, *args: str, stdin: str = "", no_dvc: Path | None = None, **extra: str
) -> subprocess.CompletedProcess[str]:
    e = env()
    for key in ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF", "PRE_COMMIT_REMOTE_NAME"):
        e.pop(key, None)
    e.update(extra)
    if no_dvc is not None:  # a `dvc` that cannot be imported: any DVC question fails loudly
        e["PYTHONPATH"] = os.pathsep.join(filter(None, [str(no_dvc), e.get("PYTHONPATH")]))
    return subprocess.run(
        [str(BIN / "mlcode"), "pre-push", *args],
        cwd=repo,
        env=e,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def no_dvc(tmp_path: Path) -> Path:
    shim = tmp_path / "no-dvc"
    (shim / "dvc").mkdir(parents=True)
    (shim / "dvc" / "__init__.py").write_text('raise ImportError("dvc was imported")\n')
    return shim


def _dvc(repo: Path, *args: str) -> int:
    return subprocess.run([str(BIN / "dvc"), *args], cwd=repo, env=env(), check=False).returncode


def _commit(repo: Path, name: str, text: str) -> str:
    (repo / name).write_text(text)
    git(repo, "add", name)
    git(repo, "commit", "-qm", f"change {name}")
    return git(repo, "rev-parse", "HEAD").strip()


def test_code_only_push_never_starts_dvc(trained_iris: Path, no_dvc: Path) -> None:
    repo = trained_iris
    tip = _commit(repo, "notes.md", "code only\n")
    quiet = "no DVC pointer changes"

    by_hand = _pre_push(repo, "origin", no_dvc=no_dvc)
    assert by_hand.returncode == 0, by_hand.stderr
    assert quiet in by_hand.stdout

    git(repo, "tag", "-a", "-m", "v1", "v1")
    tag = git(repo, "rev-parse", "v1").strip()
    head = git(repo, "rev-parse", "origin/main").strip()
    lines = (
        f"refs/heads/topic {tip} refs/heads/topic {ZERO}\n"  # a new branch
        f"(delete) {ZERO} refs/heads/old {head}\n"  # a deletion
        f"refs/tags/v1 {tag} refs/tags/v1 {ZERO}\n"  # a tag
        f"refs/heads/main {tip} refs/heads/main {'c' * 40}\n"  # force over unknown commits
    )
    hook = _pre_push(repo, "origin", "../origin.git", stdin=lines, no_dvc=no_dvc)
    assert hook.returncode == 0, hook.stderr
    assert quiet in hook.stdout

    pre_commit = _pre_push(
        repo,
        no_dvc=no_dvc,
        PRE_COMMIT_FROM_REF=ZERO,
        PRE_COMMIT_TO_REF=tip,
        PRE_COMMIT_REMOTE_NAME="origin",
    )
    assert pre_commit.returncode == 0, pre_commit.stderr
    assert quiet in pre_commit.stdout


def test_pointer_push_refused_until_the_data_is_in_the_local_remote(
    trained_iris: Path, no_dvc: Path
) -> None:
    repo = trained_iris
    assert _dvc(repo, "push", "-q") == 0
    # An object of a pointer already on the git remote goes missing from the DVC remote: the
    # push is not about it (only the pointers the pushed commits change are asked about).
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    manifest = next(
        out["md5"] for out in lock["stages"]["train_iris"]["outs"] if out["md5"].endswith(".dir")
    )
    storage = repo.parent / ".mlcode-storage" / "project" / "files" / "md5"
    (storage / manifest[:2] / manifest[2:]).unlink()
    (repo / "data" / "extra.csv").write_text("a,b\n1,2\n3,4\n")
    assert _dvc(repo, "add", "-q", "data/extra.csv") == 0
    git(repo, "add", "data")
    git(repo, "commit", "-qm", "extra data")
    tip = git(repo, "rev-parse", "HEAD").strip()
    lines = f"refs/heads/topic {tip} refs/heads/topic {ZERO}\n"

    refused = _pre_push(repo, "origin", "../origin.git", stdin=lines)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    said = refused.stdout + refused.stderr
    assert "1 object(s)" in said
    assert "data/extra.csv" in said
    assert "models/iris" not in said
    assert tip[:10] in said
    assert "dvc push" in said

    unverified = _pre_push(repo, "origin", "../origin.git", stdin=lines, no_dvc=no_dvc)
    assert unverified.returncode != 0  # the pointer commit is asked about, never let through

    assert _dvc(repo, "push", "-q") == 0
    accepted = _pre_push(repo, "origin", "../origin.git", stdin=lines)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "1 commit(s) changing DVC pointers" in accepted.stdout


def test_pointer_dvc_resolves_itself_is_checked_too(trained_iris: Path, tmp_path: Path) -> None:
    """An `import-url` pointer is not read outright (DVC decides what of an import is pushed):
    DVC's own collection answers, and its object is still named until it is pushed."""
    repo = trained_iris
    assert _dvc(repo, "push", "-q") == 0
    source = tmp_path / "outside.csv"
    source.write_text("a,b\n7,8\n")
    assert _dvc(repo, "import-url", "-q", str(source), "data/imported.csv") == 0
    git(repo, "add", "data")
    git(repo, "commit", "-qm", "imported data")

    refused = _pre_push(repo, "origin")
    said = refused.stdout + refused.stderr
    assert refused.returncode == 1, said
    assert "1 object(s)" in said
    assert "data/imported.csv" in said

    assert _dvc(repo, "push", "-q") == 0
    accepted = _pre_push(repo, "origin")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
