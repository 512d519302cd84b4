"""Locating the repository root cheaply (no subprocess, no heavy import): the one way every command
finds it (`mlcode.cli.options.root`)."""

from __future__ import annotations

from pathlib import Path

from mlcode.errors import UserError


def find_root(start: Path, *, needs_git: bool = True) -> Path:
    """The top of the git work tree holding `start` (walking up for `.git`). Outside any git
    repository: a UserError, or `start` itself when the caller can work without git."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    if not needs_git:
        return here
    raise UserError(
        f"{start} is not inside a git repository; run `git init` first "
        "(mlcode keeps everything it generates in git)"
    )
