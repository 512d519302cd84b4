"""Which commits the pre-push check asks about: git's hook stdin, pre-commit's environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlcode.adapters.dvc_remote_objects import MissingObject
from mlcode.errors import UserError
from mlcode.project.prepush import (
    ZERO,
    PrePushReport,
    PushedRange,
    check_push,
    ranges_from_environment,
    ranges_from_hook_stdin,
    render_refusal,
)
from tests.conftest import run

A = "a" * 40
B = "b" * 40


def test_hook_stdin_update_new_branch_and_delete() -> None:
    text = (
        f"refs/heads/main {A} refs/heads/main {B}\n"
        f"refs/heads/topic {A} refs/heads/topic {ZERO}\n"
        f"(delete) {ZERO} refs/heads/old {B}\n"
        "garbage line\n"
    )
    assert ranges_from_hook_stdin(text, "origin") == [
        PushedRange(A, (B,)),
        PushedRange(A, ("--remotes=origin",)),
    ]


def test_pre_commit_environment() -> None:
    assert ranges_from_environment({}) is None
    env = {"PRE_COMMIT_FROM_REF": B, "PRE_COMMIT_TO_REF": A, "PRE_COMMIT_REMOTE_NAME": "up"}
    assert ranges_from_environment(env) == [PushedRange(A, (B,), "up")]
    root_push = {"PRE_COMMIT_REMOTE_NAME": "up", "PRE_COMMIT_LOCAL_BRANCH": "refs/heads/x"}
    assert ranges_from_environment(root_push) == [
        PushedRange("refs/heads/x", ("--remotes=up",), "up")
    ]


def test_only_commits_changing_pointers_are_asked_about(git_repo: Path) -> None:
    """A push of code alone never starts DVC: there is no .dvc folder here, and no error."""
    (git_repo / "code.py").write_text("print(1)\n")
    run(["git", "add", "code.py"], git_repo)
    run(["git", "commit", "-qm", "code"], git_repo)
    report = check_push(git_repo, [PushedRange("HEAD", ("--remotes=origin",))], None)
    assert report.commits_checked == ()
    assert report.missing == ()
    (git_repo / "sub").mkdir()
    (git_repo / "sub" / "d.csv.dvc").write_text("outs:\n- md5: 0\n  path: d.csv\n")
    run(["git", "add", "sub"], git_repo)
    run(["git", "commit", "-qm", "pointer"], git_repo)
    with pytest.raises(UserError, match=r"no \.dvc folder"):  # the pointer commit is asked about
        check_push(git_repo, [PushedRange("HEAD", ("--remotes=origin",))], None)


def test_refusal_names_objects_commits_and_the_push_to_run() -> None:
    report = PrePushReport(
        "store",
        (A,),
        tuple(MissingObject(f"data/f{i}.csv", f"{i:032x}", A, "new") for i in range(25)),
    )
    text = render_refusal(report)
    for part in ("25 object(s)", "DVC remote 'store'", "data/f0.csv", A[:10], "and 5 more"):
        assert part in text
    assert "`dvc push -r store`" in text
    assert "--no-verify" in text


def _commit(repo: Path, name: str, text: str) -> str:
    (repo / name).parent.mkdir(parents=True, exist_ok=True)
    (repo / name).write_text(text)
    run(["git", "add", name], repo)
    run(["git", "commit", "-qm", name], repo)
    return run(["git", "rev-parse", "HEAD"], repo).stdout.strip()


@pytest.fixture
def pushed_pointer(git_repo: Path) -> Path:
    """A repo whose pointer commit is already on its bare remote `origin` (no .dvc folder: any
    question to DVC would raise, so a test sees when a pushed commit is asked about again)."""
    origin = git_repo.parent / "origin.git"
    run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], git_repo)
    run(["git", "remote", "add", "origin", str(origin)], git_repo)
    _commit(git_repo, "data/d.csv.dvc", "outs:\n- md5: 0\n  path: d.csv\n")
    run(["git", "push", "-q", "origin", "main"], git_repo)
    return git_repo


def test_by_hand_commits_already_on_the_remote_are_not_asked_about(pushed_pointer: Path) -> None:
    """`mlcode pre-push` by hand: the remote-tracking branches are excluded, not included."""
    _commit(pushed_pointer, "code.py", "print(1)\n")
    report = check_push(pushed_pointer, [PushedRange("HEAD", ("--remotes=origin",))], None)
    assert report.commits_checked == ()


def test_new_branch_checks_only_commits_no_remote_branch_holds(pushed_pointer: Path) -> None:
    run(["git", "switch", "-qc", "topic"], pushed_pointer)
    tip = _commit(pushed_pointer, "code.py", "print(1)\n")
    stdin = f"refs/heads/topic {tip} refs/heads/topic {ZERO}\n"
    assert check_push(pushed_pointer, ranges_from_hook_stdin(stdin, "origin"), None).missing == ()
    env = {
        "PRE_COMMIT_FROM_REF": ZERO,
        "PRE_COMMIT_TO_REF": tip,
        "PRE_COMMIT_REMOTE_NAME": "origin",
    }
    ranges = ranges_from_environment(env)
    assert ranges is not None
    assert check_push(pushed_pointer, ranges, None).commits_checked == ()
    pointer = _commit(pushed_pointer, "sub/e.csv.dvc", "outs:\n- md5: 1\n  path: e.csv\n")
    stdin = f"refs/heads/topic {pointer} refs/heads/topic {ZERO}\n"
    with pytest.raises(UserError, match=r"no \.dvc folder"):  # the new pointer commit is asked
        check_push(pushed_pointer, ranges_from_hook_stdin(stdin, "origin"), None)


def test_unknown_remote_sha_falls_back_to_the_remote_tracking_branches(
    pushed_pointer: Path,
) -> None:
    """A force-push over a remote commit never fetched here: what origin/* holds is not asked."""
    tip = _commit(pushed_pointer, "code.py", "print(1)\n")
    stdin = f"refs/heads/main {tip} refs/heads/main {'c' * 40}\n"
    assert check_push(pushed_pointer, ranges_from_hook_stdin(stdin, "origin"), None).missing == ()


def test_deleting_a_branch_and_pushing_a_tag_of_pushed_commits(pushed_pointer: Path) -> None:
    head = run(["git", "rev-parse", "HEAD"], pushed_pointer).stdout.strip()
    run(["git", "tag", "-a", "-m", "v1", "v1"], pushed_pointer)
    tag = run(["git", "rev-parse", "v1"], pushed_pointer).stdout.strip()
    stdin = f"(delete) {ZERO} refs/heads/old {head}\nrefs/tags/v1 {tag} refs/tags/v1 {ZERO}\n"
    report = check_push(pushed_pointer, ranges_from_hook_stdin(stdin, "origin"), None)
    assert report.commits_checked == ()
