"""Locating the repository root cheaply (no subprocess, no heavy import)."""

from __future__ import annotations

from pathlib import Path

from mlcode.errors import UserError


def find_root(start: Path) -> Path:
    """The git top level above `start` (walking up for `.git`)."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    raise UserError(
        f"{start} is not inside a git repository; run `git init` first "
        "(mlcode keeps everything it generates in git)"
    )
