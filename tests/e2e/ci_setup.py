"""A trained project set up as a CI provider would see it, for the tests that run generated jobs:
its stack a copy of the `github-s3` / `gitlab-s3` preset whose forge API is the contract server
and whose DVC remote is an rclone S3 server on 127.0.0.1 (the data pushed there), its bare origin
playing the forge's git side, and a `gh` shim on a PATH folder for the GitHub jobs.
"""

from __future__ import annotations

import contextlib
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import yaml

from mlcode.resources import stack_presets
from tests.contract.github_fake import GitHubFake
from tests.contract.gitlab_fake import GitLabFake
from tests.contract.server import ContractServer
from tests.e2e.helpers import BIN, env, git, mlcode
from tests.e2e.promote_helpers import origin
from tests.e2e.s3server import ACCESS_KEY, SECRET_KEY, S3Server

HERE = Path(__file__).parent
S3_SECRETS = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}


def use_ci_stack(repo: Path, preset: str, api_url: str, s3: S3Server) -> None:
    """Switch `repo` to a copy of `preset` (forge API at `api_url`, DVC remote on `s3`), push its
    data there, commit and push to the origin."""
    stack = yaml.safe_load(stack_presets()[preset].read_text(encoding="utf-8"))
    stack["name"] = f"{preset}-test"
    stack["forge"]["api_url"] = api_url
    stack["remote"]["url"] = f"s3://{s3.bucket}/dvc"
    stack["remote"]["options"] = {"endpointurl": s3.endpoint}
    (repo / "stack.yaml").write_text(yaml.safe_dump(stack, sort_keys=False), encoding="utf-8")
    text = (repo / "ml.yaml").read_text(encoding="utf-8")
    (repo / "ml.yaml").write_text(text.replace("stack: local ", "stack: stack.yaml "), "utf-8")
    applied = mlcode(repo, "apply", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    _dvc(repo, "push", "-q", "--run-cache")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", f"{preset} stack against the test servers")
    git(repo, "push", "-q", "origin", "main")


def _dvc(repo: Path, *args: str) -> None:
    """Run the real `dvc` with the S3 server's credentials; fail the test when it fails."""
    done = subprocess.run(
        [str(BIN / "dvc"), *args],
        cwd=repo,
        env={**env(), **S3_SECRETS},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@contextlib.contextmanager
def ci_servers(
    repo: Path, preset: str, fake: GitHubFake | GitLabFake, tmp: Path
) -> Iterator[tuple[ContractServer, S3Server]]:
    """The forge contract server playing `fake` (its branches: those the bare origin holds) and
    an S3 server over `tmp/s3`, with `repo` switched to `preset` against both (`use_ci_stack`).
    On the way out the contract server must have seen no violation of the forge's API."""
    fake.branches = PushedBranches(origin(repo))  # type: ignore[assignment]
    s3 = S3Server(tmp / "s3")
    s3.start()
    try:
        with ContractServer(fake) as server:
            use_ci_stack(repo, preset, server.url, s3)
            yield server, s3
            assert server.violations == [], "\n".join(server.violations)
    finally:
        s3.stop()


def gh_shim(folder: Path) -> Path:
    """A folder holding an executable `gh` that runs tests/e2e/gh_shim.py; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "gh"
    script.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" "{HERE / "gh_shim.py"}" "$@"\n', encoding="utf-8"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return folder


def commit_on_branch(repo: Path, branch: str, files: dict[str, str], message: str) -> str:
    """Commit `files` on a new branch from main, push it; back to main; return the commit."""
    git(repo, "checkout", "-q", "-b", branch)
    for name, text in files.items():
        (repo / name).write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    git(repo, "push", "-q", "origin", branch)
    sha = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "main")
    return sha


def new_rows(repo: Path, count: int) -> None:
    """New training data on main: the first `count` rows appended again (same distribution, new
    md5), tracked with DVC and pushed (data first, then the pointer) — a data-refresh commit."""
    path = repo / "data" / "iris.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, *lines[1 : count + 1]]) + "\n", encoding="utf-8")
    _dvc(repo, "add", "-q", "data/iris.csv")
    _dvc(repo, "push", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", f"data: {count} new rows")
    git(repo, "push", "-q", "origin", "main")


class PushedBranches:
    """A fake forge's branches: those the bare origin holds (what was really pushed)."""

    def __init__(self, bare: Path) -> None:
        self.bare = bare

    def __contains__(self, name: object) -> bool:
        return bool(git(self.bare, "for-each-ref", f"refs/heads/{name}").strip())

    def add(self, name: str) -> None:
        return None


def retrain_always(repo: Path) -> None:
    """`retrain: {when: always}` on the iris model (models `add_model` copies later inherit it)."""
    text = (repo / "ml.yaml").read_text(encoding="utf-8")
    line = "    promotion: {mode: pr, stage: prod}"
    assert text.count(line) == 1, text
    (repo / "ml.yaml").write_text(
        text.replace(line, f"{line}\n    retrain: {{when: always}}"), encoding="utf-8"
    )


def add_model(repo: Path, name: str, trees: int) -> None:
    """A second model in ml.yaml: a copy of `iris` under `name` with `trees` trees (not trained,
    not committed: `use_ci_stack` applies and commits)."""
    text = (repo / "ml.yaml").read_text(encoding="utf-8")
    start, end = text.index("  iris:\n    task"), text.index("\nci:")
    block = text[start:end].replace("  iris:\n", f"  {name}:\n", 1)
    block = block.replace("n_estimators: 100", f"n_estimators: {trees}")
    (repo / "ml.yaml").write_text(text[:end] + "\n" + block.rstrip() + "\n" + text[end:], "utf-8")
