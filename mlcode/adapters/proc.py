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
    """os.environ without git-hook variables, plus `extra`: for DVC and for git on any repository
    other than the one being committed."""
    env = {k: v for k, v in os.environ.items() if k not in _GIT_HOOK_VARS}
    env.setdefault("DVC_NO_ANALYTICS", "1")
    if extra:
        env.update(extra)
    return env


def hook_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """os.environ with the git-hook variables kept, plus `extra`: for git reading the repository
    being committed. During `git commit -a` / `git commit PATH` git hands its hooks a temporary
    index in GIT_INDEX_FILE; only that index holds what the commit will contain.

    A relative value is made absolute against this process's directory (where git meant it), so
    it still names the same file when git runs elsewhere (`mlcode -C DIR check`)."""
    env = dict(os.environ)
    for key in _GIT_HOOK_VARS:
        value = env.get(key)
        if value and not os.path.isabs(value):
            env[key] = os.path.abspath(value)
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
    keep_hook_env: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run `args` in `cwd`; on failure raise UserError naming `what` failed and its stderr.

    `keep_hook_env`: keep the index and repository git handed a hook (see `hook_env`); only for
    git reading the repository being committed. Everything else runs in `clean_env`."""
    try:
        result = subprocess.run(
            list(args),
            cwd=cwd,
            capture_output=capture,
            text=True,
            env=hook_env(env) if keep_hook_env else clean_env(env),
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


def run_bytes(
    args: Sequence[str],
    cwd: Path,
    *,
    what: str,
    input_bytes: bytes | None = None,
    keep_hook_env: bool = False,
) -> bytes:
    """Like `run` for binary output (git's `-z` listings and object contents): stdout as bytes;
    failure raises UserError naming `what` and git's own reason."""
    try:
        result = subprocess.run(
            list(args),
            cwd=cwd,
            capture_output=True,
            env=hook_env() if keep_hook_env else clean_env(),
            input=input_bytes,
            check=False,
        )
    except FileNotFoundError:
        raise UserError(f"{what} failed: {args[0]!r} is not installed or not on PATH") from None
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip()
        if len(detail) > 2000:
            detail = detail[:2000] + " ..."
        raise UserError(
            f"{what} failed (exit {result.returncode}): {' '.join(args)}\n{detail}".rstrip()
        )
    return result.stdout
