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
        git(root, "--literal-pathspecs", "add", "-A", "--", *paths, what="git add")


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


def unstaged(root: Path, paths: list[str]) -> list[str]:
    """Those of `paths` whose working-tree state is not what the index holds (untracked, modified,
    deleted), as git reports them. Ignored files are not listed."""
    if not paths:
        return []
    out = git(
        root,
        "--literal-pathspecs",
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=all",
        "--",
        *paths,
        what="git status",
    )
    found: list[str] = []
    entries = iter(out.split("\0"))
    for entry in entries:
        if len(entry) < 4:
            continue
        code, name = entry[:2], entry[3:]
        if code[0] in "RC":
            next(entries, None)  # the rename's source path follows
        if code[1] != " ":
            found.append(name)
    return sorted(set(found))


def tracked(root: Path, paths: list[str]) -> list[str]:
    """Those of `paths` that are in the git index."""
    if not paths:
        return []
    out = git(root, "--literal-pathspecs", "ls-files", "-z", "--cached", "--", *paths)
    wanted = set(paths)
    return sorted({p for p in out.split("\0") if p in wanted})


def ignored(root: Path, paths: list[str], *, index: bool = True) -> dict[str, str]:
    """Those of `paths` that git ignores → the rule that ignores them (`file:line:pattern`).

    With `index=False`, tracked files count as ignored too when a rule matches them (what DVC
    checks before writing a `.dvc` pointer)."""
    if not paths:
        return {}
    args = ["check-ignore", "-v", "-n", "-z", "--stdin"]
    if not index:
        args.insert(1, "--no-index")
    result = run(
        ["git", *args], root, what="git check-ignore", check=False, input_text="\0".join(paths)
    )
    if result.returncode not in (0, 1):
        raise UserError(f"git check-ignore failed: {result.stderr.strip()}")
    fields = result.stdout.split("\0")
    out: dict[str, str] = {}
    for i in range(0, len(fields) - 3, 4):
        source, line, pattern, path = fields[i : i + 4]
        if source and not pattern.startswith("!"):
            out[path] = f"{source}:{line}: {pattern!r}"
    return out


def rm_cached(root: Path, paths: list[str]) -> None:
    """Stop tracking `paths` in git, keeping the files on disk."""
    if paths:
        git(root, "--literal-pathspecs", "rm", "--cached", "-q", "--", *paths, what="git rm")


def stage_text(root: Path, path: str, text: str) -> None:
    """Put `text` into the index as `path` (before the file itself is written)."""
    blob = run(
        ["git", "hash-object", "-w", "--stdin"], root, what="git hash-object", input_text=text
    ).stdout.strip()
    git(root, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", what="git add")


def index_file(root: Path) -> Path:
    """The index file of the work tree at `root`."""
    rel = git(root, "rev-parse", "--git-path", "index").strip()
    path = Path(rel)
    return path if path.is_absolute() else root / path
