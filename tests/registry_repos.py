"""Building registry repositories for tests: commits and annotated tags at chosen times with plain
git, and GTO's own answers (its Python API, the code behind `gto show` / `gto history`) read back
in the shape mlcode's reader answers in."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

T0 = 1_790_000_000  # a fixed instant; scenarios add seconds to it
IDENTITY = {
    "GIT_AUTHOR_NAME": "Ada Registrar",
    "GIT_AUTHOR_EMAIL": "ada@registry.invalid",
    "GIT_COMMITTER_NAME": "Ada Registrar",
    "GIT_COMMITTER_EMAIL": "ada@registry.invalid",
}


def git(repo: Path, *args: str, when: int | None = None) -> str:
    env = {**os.environ, **IDENTITY}
    if when is not None:
        env["GIT_COMMITTER_DATE"] = env["GIT_AUTHOR_DATE"] = f"@{when} +0000"
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def init(repo: Path) -> Path:
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    return repo


def commit(repo: Path, message: str, when: int = T0) -> str:
    git(repo, "commit", "-q", "--allow-empty", "-m", message, when=when)
    return git(repo, "rev-parse", "HEAD")


def tag(repo: Path, name: str, target: str, when: int = T0, message: str | None = None) -> None:
    git(repo, "tag", "-a", "-m", message or f"message of {name}", name, target, when=when)


def lightweight(repo: Path, name: str, target: str) -> None:
    git(repo, "tag", name, target)


def gto_show(repo: Path) -> dict[str, Any]:
    import gto.api

    return dict(gto.api.show(str(repo), table=False))


def gto_versions(repo: Path, model: str) -> list[dict[str, Any]]:
    """`gto show MODEL --json`, each version reduced to the fields mlcode reports."""
    import gto.api

    return [
        {
            "version": v["version"],
            "commit": v["commit_hexsha"],
            "tag": v["ref"],
            "created": v["created_at"].isoformat(),
            "author": v["author"],
            "author_email": v["author_email"],
            "message": v["message"],
            "registered": bool(v["registrations"]),
            "stages": sorted(s["stage"] for s in v["stages"]),
        }
        for v in gto.api.show(str(repo), name=model, table=False)
    ]


def gto_history(repo: Path, model: str | None = None) -> list[dict[str, Any]]:
    """`gto history --json`, in mlcode's field names."""
    import gto.api

    return [
        {
            "timestamp": e["timestamp"].isoformat(),
            "model": e["artifact"],
            "event": e["event"],
            "version": e["version"],
            "stage": e["stage"],
            "commit": e["commit"],
            "author": e["author"],
            "author_email": e["author_email"],
            "message": e["message"],
            "tag": e["ref"],
        }
        for e in gto.api.history(str(repo), model, table=False)
    ]
