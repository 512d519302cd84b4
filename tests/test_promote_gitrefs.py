"""Git plumbing of a promotion, on real repositories: a commit built in a temporary index leaves
the user's checkout alone; pushes are atomic and a refusal says git's own reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlcode.errors import UserError
from mlcode.promote import gitrefs
from tests.conftest import run
from tests.e2e.helpers import snapshot


def _git(cwd: Path, *args: str) -> str:
    return run(["git", *args], cwd).stdout


@pytest.fixture
def repo_with_origin(tmp_path: Path) -> Path:
    origin = tmp_path / "origin.git"
    run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], tmp_path)
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "a.txt").write_text("a\n")
    (repo / "dvc.lock").write_text("old\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "first")
    _git(repo, "remote", "add", "origin", "../origin.git")
    _git(repo, "push", "-q", "origin", "main")
    return repo


def _state(repo: Path) -> tuple[object, ...]:
    return (
        snapshot(repo),
        _git(repo, "ls-files", "-s"),
        _git(repo, "for-each-ref"),
        _git(repo, "symbolic-ref", "HEAD"),
        _git(repo, "status", "--porcelain"),
    )


def test_build_commit_touches_no_checkout(repo_with_origin: Path) -> None:
    repo = repo_with_origin
    (repo / "dvc.lock").write_text("new\n")  # the pipeline's own output, dirty
    (repo / "untracked.txt").write_text("x\n")
    before = _state(repo)
    base = _git(repo, "rev-parse", "main").strip()
    files = {"dvc.lock": b"new\n", "reports/m/v0.1.0/promotion.md": b"# report\n"}
    commit, tree = gitrefs.build_commit(repo, base, files, "Promote m v0.1.0\n")
    assert _state(repo) == before  # working tree, index, refs, HEAD: all as they were
    assert _git(repo, "rev-parse", f"{commit}^").strip() == base
    assert _git(repo, "show", f"{commit}:dvc.lock") == "new\n"
    assert _git(repo, "show", f"{commit}:a.txt") == "a\n"  # the base's other files kept
    assert gitrefs.blob_at(repo, commit, "reports/m/v0.1.0/promotion.md") == b"# report\n"
    assert gitrefs.blob_at(repo, commit, "missing") is None
    assert gitrefs.tree_of(repo, commit) == tree
    assert _git(repo, "log", "-1", "--format=%s", commit).strip() == "Promote m v0.1.0"


def test_set_ref_refuses_to_overwrite_and_delete_only_its_own(repo_with_origin: Path) -> None:
    repo = repo_with_origin
    base = _git(repo, "rev-parse", "main").strip()
    commit, _ = gitrefs.build_commit(repo, base, {"x": b"x"}, "c\n")
    gitrefs.set_ref(repo, "refs/heads/p", commit, None)
    with pytest.raises(UserError):
        gitrefs.set_ref(repo, "refs/heads/p", base, None)  # exists already
    gitrefs.delete_ref(repo, "refs/heads/p", base)  # not what it points at: kept
    assert gitrefs.rev(repo, "refs/heads/p") == commit
    gitrefs.delete_ref(repo, "refs/heads/p", commit)
    assert gitrefs.rev(repo, "refs/heads/p") is None


def test_push_is_atomic_and_a_hook_refusal_says_why(repo_with_origin: Path, tmp_path: Path) -> None:
    repo = repo_with_origin
    hook = tmp_path / "origin.git" / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'policy: promotions need a ticket' >&2\nexit 1\n")
    hook.chmod(0o755)
    base = _git(repo, "rev-parse", "main").strip()
    commit, _ = gitrefs.build_commit(repo, base, {"x": b"x"}, "c\n")
    _git(repo, "tag", "-a", "m@v0.1.0", "-m", "m", commit)
    remote_before = _git(tmp_path / "origin.git", "for-each-ref")
    with pytest.raises(gitrefs.PushRefused) as refused:
        gitrefs.push(
            repo,
            "origin",
            [
                gitrefs.Push(commit, "refs/heads/p"),
                gitrefs.Push("refs/tags/m@v0.1.0", "refs/tags/m@v0.1.0"),
            ],
        )
    text = refused.value.render()
    assert "policy: promotions need a ticket" in text
    assert "pre-receive hook declined" in text
    assert _git(tmp_path / "origin.git", "for-each-ref") == remote_before


def test_non_fast_forward_push_is_refused_and_lease_allows_a_replacement(
    repo_with_origin: Path, tmp_path: Path
) -> None:
    repo = repo_with_origin
    base = _git(repo, "rev-parse", "main").strip()
    first, _ = gitrefs.build_commit(repo, base, {"x": b"1"}, "one\n")
    second, _ = gitrefs.build_commit(repo, base, {"x": b"2"}, "two\n")
    gitrefs.push(repo, "origin", [gitrefs.Push(first, "refs/heads/p")])
    with pytest.raises(gitrefs.PushRefused) as refused:
        gitrefs.push(repo, "origin", [gitrefs.Push(second, "refs/heads/p")])
    assert "non-fast-forward" in refused.value.render() or "rejected" in refused.value.render()
    assert gitrefs.remote_ref(repo, "origin", "refs/heads/p") == first
    # a stale lease is refused; the right one replaces the branch (an open PR's head updated)
    with pytest.raises(gitrefs.PushRefused):
        gitrefs.push(repo, "origin", [gitrefs.Push(second, "refs/heads/p", lease=base)])
    gitrefs.push(repo, "origin", [gitrefs.Push(second, "refs/heads/p", lease=first)])
    assert gitrefs.remote_ref(repo, "origin", "refs/heads/p") == second
