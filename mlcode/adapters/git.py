"""The git adapter: the few git operations mlcode needs, through the git CLI."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mlcode.adapters.proc import hook_env, run, run_bytes
from mlcode.errors import UserError


def git(root: Path, *args: str, what: str | None = None, check: bool = True) -> str:
    """Run `git ARGS` in `root`, returning stdout."""
    result = run(["git", *args], root, what=what or f"git {args[0]}", check=check)
    return result.stdout


def add(root: Path, paths: list[str]) -> None:
    """Stage `paths` (those that exist) and record deletions of those that do not."""
    if paths:
        git(root, "--literal-pathspecs", "add", "-A", "--", *paths, what="git add")


# pre-commit's own filter: every kind of change that puts content into the commit (added, copied,
# modified, renamed, type-changed, unmerged, unknown, broken pairing); not deletions.
STAGED_FILTER = "ACMRTUXB"
_GITLINK = "160000"


@dataclass(frozen=True)
class StagedChange:
    """One path the commit adds or changes, as git's index holds it."""

    path: str  # where the content lands in the commit (the destination of a rename or copy)
    status: str  # one letter of STAGED_FILTER
    mode: str  # the index mode (100644, 100755, 120000 symlink, 160000 submodule)
    oid: str  # the staged object id (zeros when unmerged)
    source: str | None = None  # the source path of a rename or copy


@dataclass(frozen=True)
class StagedBlob:
    """A file as the index holds it: its mode, size, sha256 and (when small enough) its bytes."""

    mode: str
    size: int
    sha256: str
    data: bytes | None  # None when larger than the reader's limit

    @property
    def is_symlink(self) -> bool:
        """True when the index holds a symlink (the bytes are its target, not a file's content)."""
        return self.mode == "120000"


def _read_git(root: Path, *args: str) -> bytes:
    """stdout of git reading the repository being committed (the hook's index kept)."""
    return run_bytes(["git", *args], root, what=f"git {args[0]}", keep_hook_env=True)


def staged_differs_from_head(root: Path, path: str) -> bool:
    """True when the commit being made changes `path` (its staged version differs from HEAD's;
    true as well before the first commit)."""
    result = run(
        ["git", "diff", "--cached", "--quiet", "--", path],
        root,
        what="git diff --cached",
        check=False,
        keep_hook_env=True,
    )
    return result.returncode != 0


def _fsdecode(raw: bytes) -> str:
    import os

    return os.fsdecode(raw)


def staged_changes(root: Path) -> list[StagedChange]:
    """Every path the commit adds or changes (renames and copies detected, as pre-commit does),
    read from the index git hands the hook."""
    out = _read_git(
        root,
        "diff",
        "--cached",
        "--raw",
        "-z",
        "--no-abbrev",
        "--no-color",
        "--no-ext-diff",
        "-M",
        "-C",
        f"--diff-filter={STAGED_FILTER}",
    )
    fields = out.split(b"\0")
    changes: list[StagedChange] = []
    i = 0
    while i < len(fields) and fields[i].startswith(b":"):
        meta = fields[i][1:].decode("ascii", "replace").split()
        _, mode, _, oid, status = meta[:5]
        letter = status[:1]
        if letter in "RC":
            source, path = _fsdecode(fields[i + 1]), _fsdecode(fields[i + 2])
            i += 3
        else:
            source, path = None, _fsdecode(fields[i + 1])
            i += 2
        changes.append(StagedChange(path, letter, mode, oid, source))
    return changes


def object_sizes(root: Path, oids: list[str]) -> dict[str, int]:
    """Size in bytes of each object (one `git cat-file --batch-check`); missing ones left out."""
    wanted = sorted({o for o in oids if o.strip("0")})
    if not wanted:
        return {}
    out = run_bytes(
        ["git", "cat-file", "--batch-check=%(objectname) %(objectsize)"],
        root,
        what="git cat-file",
        input_bytes=("\n".join(wanted) + "\n").encode(),
        keep_hook_env=True,
    )
    sizes: dict[str, int] = {}
    for line in out.decode("ascii", "replace").splitlines():
        oid, _, size = line.partition(" ")
        if size.isdigit():
            sizes[oid] = int(size)
    return sizes


def staged_sizes(root: Path, changes: list[StagedChange]) -> dict[str, int]:
    """Staged size in bytes of each changed path (submodules and unmerged paths left out)."""
    blobs = {c.path: c.oid for c in changes if c.mode != _GITLINK and c.oid.strip("0")}
    sizes = object_sizes(root, list(blobs.values()))
    return {path: sizes[oid] for path, oid in blobs.items() if oid in sizes}


def index_entries(root: Path, paths: list[str]) -> dict[str, tuple[str, str]]:
    """path → (mode, object id) of those `paths` the index holds at stage 0 (one `git ls-files`)."""
    wanted = sorted({p for p in paths if p and "\n" not in p})
    if not wanted:
        return {}
    out = _read_git(root, "--literal-pathspecs", "ls-files", "-s", "-z", "--", *wanted)
    found: dict[str, tuple[str, str]] = {}
    targets = set(wanted)
    for entry in out.split(b"\0"):
        if not entry:
            continue
        meta, _, raw_name = entry.partition(b"\t")
        name = _fsdecode(raw_name)
        mode, oid, stage = meta.decode("ascii", "replace").split()[:3]
        if stage == "0" and name in targets:
            found[name] = (mode, oid)
    return found


def staged_blobs(root: Path, paths: list[str], keep_bytes: int) -> dict[str, StagedBlob]:
    """The index's version of each of `paths` that it holds (absent ones left out): one
    `git ls-files` and one streamed `git cat-file --batch`. Bytes are kept up to `keep_bytes`
    per file; larger ones are hashed as they stream by, never held in memory."""
    import hashlib
    import subprocess
    import threading

    entries = {p: e for p, e in index_entries(root, paths).items() if e[0] != _GITLINK}
    oids = sorted({oid for _, oid in entries.values()})
    if not oids:
        return {}
    proc = subprocess.Popen(
        ["git", "cat-file", "--batch"],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=hook_env(),
    )
    assert proc.stdin is not None
    assert proc.stdout is not None

    def feed() -> None:
        assert proc.stdin is not None
        try:
            proc.stdin.write(("\n".join(oids) + "\n").encode())
            proc.stdin.close()
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    read: dict[str, tuple[int, str, bytes | None]] = {}
    try:
        for _ in oids:
            header = proc.stdout.readline().decode("ascii", "replace").split()
            if len(header) != 3 or not header[2].isdigit():
                continue  # "<oid> missing"
            oid, size = header[0], int(header[2])
            digest = hashlib.sha256()
            kept: list[bytes] = []
            left = size
            while left:
                chunk = proc.stdout.read(min(left, 1 << 20))
                if not chunk:
                    raise UserError("git cat-file stopped in the middle of an object")
                digest.update(chunk)
                if size <= keep_bytes:
                    kept.append(chunk)
                left -= len(chunk)
            proc.stdout.read(1)  # the newline after each object
            read[oid] = (size, digest.hexdigest(), b"".join(kept) if size <= keep_bytes else None)
    finally:
        writer.join()
        err = proc.stderr.read() if proc.stderr else b""
        proc.wait()
    if proc.returncode != 0:
        detail = err.decode("utf-8", "replace").strip()
        raise UserError(f"git cat-file failed (exit {proc.returncode}) reading the index\n{detail}")
    return {
        path: StagedBlob(mode, *read[oid]) for path, (mode, oid) in entries.items() if oid in read
    }


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


@dataclass(frozen=True)
class ChangedPath:
    """One path a commit changes against its first parent; a blob id, or None when absent."""

    path: str
    old: str | None
    new: str | None


def commit_changes(root: Path, commit: str, pathspecs: Sequence[str]) -> list[ChangedPath]:
    """The paths matching `pathspecs` that `commit` changes against its first parent (all of
    them for a root commit), from one `git diff-tree`."""
    raw = run_bytes(
        [
            "git",
            "diff-tree",
            "-r",
            "-z",
            "--root",
            "--no-renames",
            "--no-commit-id",
            "--diff-merges=first-parent",
            commit,
            "--",
            *pathspecs,
        ],
        root,
        what="git diff-tree (pointers a pushed commit changes)",
    )
    fields = raw.split(b"\0")
    out: list[ChangedPath] = []
    for header, path in zip(fields[0::2], fields[1::2], strict=False):
        parts = header.decode("ascii", "replace").split()
        if len(parts) < 5 or parts[2] == parts[3]:
            continue
        old, new = (None if oid.strip("0") == "" else oid for oid in (parts[2], parts[3]))
        out.append(ChangedPath(_fsdecode(path), old, new))
    return out


def blobs(root: Path, names: Sequence[str]) -> dict[str, bytes]:
    """The contents of objects by name (a blob id, or `COMMIT:PATH`), from one
    `git cat-file --batch`; names git cannot resolve are left out."""
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return {}
    raw = run_bytes(
        ["git", "cat-file", "--batch"],
        root,
        what="git cat-file",
        input_bytes=("\n".join(wanted) + "\n").encode(),
    )
    out: dict[str, bytes] = {}
    pos = 0
    for name in wanted:  # git answers in the order it was asked
        end = raw.index(b"\n", pos)
        header = raw[pos:end].decode("ascii", "replace").split()
        pos = end + 1
        if len(header) != 3 or not header[2].isdigit():  # "<name> missing" (or ambiguous)
            continue
        size = int(header[2])
        out[name] = raw[pos : pos + size]
        pos += size + 1
    return out
