"""The git adapter: the few git operations mlcode needs, through the git CLI."""

from __future__ import annotations

from pathlib import Path

from mlcode.adapters.proc import run
from mlcode.errors import UserError


def git(root: Path, *args: str, what: str | None = None, check: bool = True) -> str:
    """Run `git ARGS` in `root`, returning stdout."""
    result = run(["git", *args], root, what=what or f"git {args[0]}", check=check)
    return result.stdout


def toplevel(path: Path) -> Path:
    """The root of the git work tree containing `path`, or a clear error."""
    result = run(["git", "rev-parse", "--show-toplevel"], path, what="git", check=False)
    if result.returncode != 0:
        raise UserError(
            f"{path} is not inside a git repository; run `git init` first "
            "(mlcode versions everything through git)"
        )
    return Path(result.stdout.strip())


def add(root: Path, paths: list[str]) -> None:
    """Stage `paths` (those that exist) and record deletions of those that do not."""
    if paths:
        git(root, "add", "-A", "--", *paths, what="git add")


def staged_files(root: Path) -> list[tuple[str, int]]:
    """Files staged for commit (added or modified) with their sizes in the index, in bytes."""
    names = git(root, "diff", "--cached", "--name-only", "--diff-filter=AM", "-z").split("\0")
    out: list[tuple[str, int]] = []
    names = [n for n in names if n]
    if not names:
        return out
    listing = git(root, "ls-files", "-s", "-z", "--", *names).split("\0")
    blobs = {}
    for entry in listing:
        if not entry:
            continue
        meta, _, name = entry.partition("\t")
        blobs[name] = meta.split()[1]
    if not blobs:
        return out
    sizes = run(
        ["git", "cat-file", "--batch-check=%(objectsize)"],
        root,
        what="git cat-file",
        input_text="\n".join(blobs.values()) + "\n",
    ).stdout.split()
    for (name, _), size in zip(blobs.items(), sizes, strict=False):
        out.append((name, int(size) if size.isdigit() else 0))
    return out
