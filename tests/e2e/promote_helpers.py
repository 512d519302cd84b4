"""Helpers of the promotion tests: the whole observable state of a project, its bare origin and
its DVC remote (to prove a refusal or a dry run changed nothing), and gto's view of the registry."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.e2e.helpers import BIN, env, git, snapshot


def origin(repo: Path) -> Path:
    """The project's bare origin (`../origin.git`)."""
    return repo.parent / "origin.git"


def storage(repo: Path) -> Path:
    """The project's DVC remote on the local stack."""
    return repo.parent / ".mlcode-storage" / "project"


def refs(repo: Path) -> str:
    """Every ref with the object it points at."""
    return git(repo, "for-each-ref", "--format=%(refname) %(objectname)")


def state(repo: Path) -> dict[str, Any]:
    """Files, index, refs, HEAD of the project; refs of its origin; files of its DVC remote."""
    remote = storage(repo)
    return {
        "files": snapshot(repo),
        "index": git(repo, "ls-files", "-s"),
        "refs": refs(repo),
        "head": git(repo, "symbolic-ref", "-q", "HEAD")
        if _attached(repo)
        else git(repo, "rev-parse", "HEAD"),
        "origin": refs(origin(repo)),
        "storage": sorted(p.relative_to(remote).as_posix() for p in remote.rglob("*"))
        if remote.exists()
        else [],
    }


def _attached(repo: Path) -> bool:
    return (
        subprocess.run(
            ["git", "symbolic-ref", "-q", "HEAD"], cwd=repo, capture_output=True, check=False
        ).returncode
        == 0
    )


def gto_show(repo: Path) -> dict[str, Any]:
    """`gto show --json` on the repository: GTO's own reading of the tags."""
    out = subprocess.run(
        [str(BIN / "gto"), "show", "--json"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env(),
        check=True,
    ).stdout
    data: dict[str, Any] = json.loads(out)
    return data


def remote_refs(repo: Path) -> dict[str, str]:
    """Ref → object id on the origin."""
    lines = refs(origin(repo)).splitlines()
    return {name: oid for oid_name in lines for name, oid in [oid_name.split(" ")]}
