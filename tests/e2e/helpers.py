"""Helpers for end-to-end tests: run the real `mlcode` console script in real repositories."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

BIN = Path(sys.executable).parent


def env() -> dict[str, str]:
    """The test environment with the venv's scripts (mlcode, dvc, linters) first on PATH."""
    out = dict(os.environ)
    out["PATH"] = f"{BIN}{os.pathsep}{out.get('PATH', '')}"
    return out


def mlcode(
    cwd: Path,
    *args: str,
    stdin: str | None = None,
    timeout: float | None = None,
    preexec_fn: Callable[[], object] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the installed `mlcode` in `cwd` (never raises on a non-zero exit; a `timeout` that
    expires raises subprocess.TimeoutExpired)."""
    return subprocess.run(
        [str(BIN / "mlcode"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env(),
        input=stdin,
        timeout=timeout,
        preexec_fn=preexec_fn,
        check=False,
    )


def git(cwd: Path, *args: str) -> str:
    """Run git, failing the test on error."""
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env=env(), check=True
    ).stdout


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` except .git internals and DVC's cache/tmp, by relative path."""
    out: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith((".git/", ".dvc/cache", ".dvc/tmp")) or not path.is_file():
            continue
        out[rel] = path.read_bytes()
    return out
