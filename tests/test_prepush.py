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
    assert ranges_from_environment(env) == [PushedRange(A, (B,))]
    root_push = {"PRE_COMMIT_REMOTE_NAME": "up", "PRE_COMMIT_LOCAL_BRANCH": "refs/heads/x"}
    assert ranges_from_environment(root_push) == [PushedRange("refs/heads/x", ("--remotes=up",))]


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
