"""The DVC adapter: every call to DVC goes through here, as its CLI (`python -m dvc`).

Using the CLI keeps DVC out of mlcode's process (fast start) and matches what users run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from mlcode.adapters.proc import run
from mlcode.errors import UserError


def _dvc(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "dvc", *args]


def dvc(root: Path, *args: str, what: str | None = None, capture: bool = True) -> str:
    """Run `dvc ARGS` in `root`, returning stdout; failures raise UserError."""
    result = run(_dvc(list(args)), root, what=what or f"dvc {args[0]}", capture=capture)
    return result.stdout or ""


def is_initialized(root: Path) -> bool:
    """True when `root` already holds a DVC project."""
    return (root / ".dvc").is_dir()


def init(root: Path) -> None:
    """`dvc init` (in a git repository)."""
    dvc(root, "init", "-q", what="dvc init")


def status(root: Path, targets: list[str] | None = None) -> dict[str, Any]:
    """`dvc status --json`: stage name → list of changes; empty when up to date."""
    out = dvc(root, "status", "--json", *(targets or []), what="dvc status")
    try:
        data = json.loads(out or "{}")
    except json.JSONDecodeError:
        raise UserError(f"dvc status printed something that is not JSON:\n{out[:500]}") from None
    if not isinstance(data, dict):
        return {}
    return data


def repro(root: Path, targets: list[str], *, capture: bool = False) -> None:
    """`dvc repro TARGETS` showing DVC's own progress unless captured."""
    run(_dvc(["repro", *targets]), root, what="dvc repro", capture=capture)


def metrics_diff(root: Path, rev: str = "HEAD") -> dict[str, Any]:
    """`dvc metrics diff REV --json`: {file: {metric: {old, new, diff}}}."""
    out = dvc(root, "metrics", "diff", rev, "--json", what="dvc metrics diff")
    try:
        data = json.loads(out or "{}")
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def remote_list(root: Path) -> dict[str, str]:
    """Configured remotes (project + local config): name → url."""
    out = dvc(root, "remote", "list", what="dvc remote list")
    remotes: dict[str, str] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            remotes[parts[0]] = parts[1]
    return remotes
