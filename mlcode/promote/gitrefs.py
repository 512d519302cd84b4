"""Git plumbing for a promotion: read blobs at a revision, build a commit in a temporary index
(the user's working tree, index and HEAD are never touched), create and roll back refs, and push
atomically with git's own reason when the remote refuses.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlcode.adapters.git import git
from mlcode.adapters.proc import run, run_bytes
from mlcode.errors import UserError

ZERO = "0" * 40


class PushRefused(UserError):
    """The git remote refused the push (non-fast-forward, a hook that declined, ...)."""


def rev(root: Path, ref: str) -> str | None:
    """The object id `ref` names (a tag peeled to its commit), or None when it does not exist."""
    out = git(root, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}", check=False).strip()
    return out or None


def ref_target(root: Path, ref: str) -> str | None:
    """The object a full ref name points at (unpeeled), or None."""
    out = git(root, "rev-parse", "--verify", "-q", ref, check=False).strip()
    return out or None


def blob_at(root: Path, revision: str, path: str) -> bytes | None:
    """A file's bytes at `revision`, or None when the revision has no such file."""
    listing = git(root, "ls-tree", "-z", revision, "--", path, check=False)
    entry = listing.split("\0")[0]
    if not entry or "\t" not in entry or entry.split()[1] != "blob":
        return None
    oid = entry.split()[2]
    return run_bytes(["git", "cat-file", "blob", oid], root, what="git cat-file")


def has_path(root: Path, revision: str, path: str) -> bool:
    """True when the tree of `revision` holds `path`."""
    return bool(git(root, "ls-tree", "--name-only", revision, "--", path, check=False).strip())


def is_ancestor(root: Path, older: str, newer: str) -> bool:
    """True when commit `older` is reachable from `newer`."""
    result = run(
        ["git", "merge-base", "--is-ancestor", older, newer],
        root,
        what="git merge-base",
        check=False,
    )
    return result.returncode == 0


def current_branch(root: Path) -> str | None:
    """The branch HEAD is on, or None when HEAD is detached."""
    out = git(root, "symbolic-ref", "-q", "--short", "HEAD", check=False).strip()
    return out or None


def remote_url(root: Path, remote: str) -> str | None:
    """The URL of git remote `remote` as configured (it names the forge's repository; git's
    `insteadOf` rewriting applies only to where pushes go), or None when there is no such remote."""
    out = git(root, "config", "--get", f"remote.{remote}.url", check=False).strip()
    return out or None


def build_commit(
    root: Path, parent: str, files: Mapping[str, bytes], message: str
) -> tuple[str, str]:
    """A commit whose tree is `parent`'s with `files` (path → bytes) written over it, made in a
    temporary index: (commit id, tree id). Nothing but new objects is written."""
    with tempfile.TemporaryDirectory(prefix="mlcode-promote-") as tmp:
        env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
        run(["git", "read-tree", parent], root, what="git read-tree", env=env)
        entries: list[str] = []
        for path, data in sorted(files.items()):
            oid = _hash_blob(root, data)
            entries.append(f"100644 {oid}\t{path}")
        if entries:
            run(
                ["git", "update-index", "--add", "--index-info"],
                root,
                what="git update-index",
                env=env,
                input_text="\n".join(entries) + "\n",
            )
        tree = run(["git", "write-tree"], root, what="git write-tree", env=env).stdout.strip()
    commit = run(
        ["git", "commit-tree", tree, "-p", parent, "-F", "-"],
        root,
        what="git commit-tree",
        input_text=message,
    ).stdout.strip()
    return commit, tree


def _hash_blob(root: Path, data: bytes) -> str:
    out = run_bytes(
        ["git", "hash-object", "-w", "--stdin"], root, what="git hash-object", input_bytes=data
    )
    return out.decode("ascii").strip()


def tree_of(root: Path, commit: str) -> str:
    """The tree id of a commit."""
    return git(root, "rev-parse", f"{commit}^{{tree}}").strip()


def set_ref(root: Path, ref: str, new: str, old: str | None) -> None:
    """Point `ref` at `new` only if it still points at `old` (None: only if it does not exist)."""
    git(root, "update-ref", "-m", "mlcode promote", ref, new, old or ZERO, what="git update-ref")


def delete_ref(root: Path, ref: str, expected: str) -> None:
    """Delete `ref` if it still points at `expected` (a rollback never removes someone else's)."""
    git(root, "update-ref", "-d", ref, expected, what="git update-ref -d", check=False)


@dataclass(frozen=True)
class Push:
    """One ref to push: local `source` (an object id or ref) to `dest` on the remote."""

    source: str
    dest: str
    lease: str | None = None  # --force-with-lease=dest:lease (the remote's expected old id)


def push(root: Path, remote: str, pushes: Sequence[Push]) -> None:
    """`git push --atomic` of every ref at once: all land or none; PushRefused with git's reason."""
    args = ["git", "push", "--atomic", "--porcelain", remote]
    for item in pushes:
        if item.lease is not None:
            args.insert(2, f"--force-with-lease={item.dest}:{item.lease}")
        args.append(f"{item.source}:{item.dest}")
    result = run(args, root, what="git push", check=False, env={"GIT_TERMINAL_PROMPT": "0"})
    if result.returncode != 0:
        raise PushRefused(
            f"the git remote {remote!r} refused the push; nothing was promoted:\n"
            + _reason(result.stdout, result.stderr)
        )


def _reason(stdout: str, stderr: str) -> str:
    """git's own lines that say why: the remote's messages and each rejected ref."""
    lines = [
        line.rstrip()
        for line in (stderr + "\n" + stdout).splitlines()
        if line.startswith(("remote:", "!", "error:", "fatal:", "hint: Updates were rejected"))
        or "rejected" in line
    ]
    return "\n".join(dict.fromkeys(line for line in lines if line.strip())) or stderr.strip()


def remote_ref(root: Path, remote: str, ref: str) -> str | None:
    """The object id `ref` has on the remote (one `git ls-remote`), or None when absent."""
    out = run(
        ["git", "ls-remote", "--refs", remote, ref],
        root,
        what="git ls-remote",
        env={"GIT_TERMINAL_PROMPT": "0"},
    ).stdout
    for line in out.splitlines():
        oid, _, name = line.partition("\t")
        if name == ref:
            return oid
    return None
