"""Running external programs with a clean environment and readable failures."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from mlcode.errors import UserError

# Inherited from a git hook, these would point git (and DVC's git) at the wrong repository.
_GIT_HOOK_VARS = ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "GIT_OBJECT_DIRECTORY")


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """os.environ without git-hook variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in _GIT_HOOK_VARS}
    env.setdefault("DVC_NO_ANALYTICS", "1")
    if extra:
        env.update(extra)
    return env


def run(
    args: Sequence[str],
    cwd: Path,
    *,
    what: str,
    check: bool = True,
    capture: bool = True,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `args` in `cwd`; on failure raise UserError naming `what` failed and its stderr."""
    try:
        result = subprocess.run(
            list(args),
            cwd=cwd,
            capture_output=capture,
            text=True,
            env=clean_env(env),
            input=input_text,
            check=False,
        )
    except FileNotFoundError:
        raise UserError(f"{what} failed: {args[0]!r} is not installed or not on PATH") from None
    if check and result.returncode != 0:
        detail = (result.stderr or result.stdout or "").strip()
        if len(detail) > 2000:
            detail = detail[:2000] + " ..."
        raise UserError(
            f"{what} failed (exit {result.returncode}): {' '.join(args)}\n{detail}".rstrip()
        )
    return result
