"""The pre-push check: no commit leaves for the git remote while the data it points to is missing
from the DVC remote (data before pointer, on every push).

Which commits are being pushed comes from git itself: the lines git writes to a pre-push hook's
stdin (`<local ref> <local sha> <remote ref> <remote sha>`), or the range pre-commit hands its
hooks (`PRE_COMMIT_FROM_REF` / `PRE_COMMIT_TO_REF`, `PRE_COMMIT_REMOTE_NAME`), or, run by hand,
every commit of HEAD that no remote-tracking branch of the git remote holds. Only commits that
change a DVC pointer (`*.dvc`, `dvc.lock`) are asked about, so a push of code alone costs a few
git calls and never starts DVC; and of those commits only the pointers they change (the `.dvc`
files, the stages of a `dvc.lock` whose outputs changed: `mlcode.project.pointer_changes`), so
a retrain of one model in a repository of a hundred asks DVC about that model's objects, in one
batched question to the remote.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlcode.adapters.dvc_remote_objects import (
    MissingObject,
    Question,
    default_remote,
    missing_objects,
)
from mlcode.adapters.git import blobs, commit_changes, git
from mlcode.errors import UserError
from mlcode.project.pointer_changes import changed_targets, pointed_objects

ZERO = "0" * 40
POINTER_PATHSPECS = (":(glob)**/*.dvc", ":(glob)**/dvc.lock")


@dataclass(frozen=True)
class PushedRange:
    """Commits reachable from `tip` and not from `exclude` (a commit, or `--remotes=NAME`); an
    excluded commit this clone lacks stands for what the git remote `remote` is known to hold."""

    tip: str
    exclude: tuple[str, ...]
    remote: str = "origin"


@dataclass(frozen=True)
class PrePushReport:
    """What was checked and what is missing."""

    remote: str | None
    commits_checked: tuple[str, ...]
    missing: tuple[MissingObject, ...]


def ranges_from_hook_stdin(text: str, git_remote: str) -> list[PushedRange]:
    """The ranges of git's pre-push stdin: one line per ref being pushed (deletions skipped)."""
    out: list[PushedRange] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 4:
            continue
        _local_ref, local_sha, _remote_ref, remote_sha = parts
        if local_sha == ZERO:
            continue
        if remote_sha != ZERO:
            out.append(PushedRange(local_sha, (remote_sha,), git_remote))
        else:
            out.append(PushedRange(local_sha, (f"--remotes={git_remote}",), git_remote))
    return out


def ranges_from_environment(environ: Mapping[str, str]) -> list[PushedRange] | None:
    """The range pre-commit hands a pre-push hook, or None when not run by pre-commit."""
    to_ref = environ.get("PRE_COMMIT_TO_REF")
    remote_name = environ.get("PRE_COMMIT_REMOTE_NAME")
    if to_ref:
        from_ref = environ.get("PRE_COMMIT_FROM_REF") or ""
        exclude = (from_ref,) if from_ref and from_ref != ZERO else (f"--remotes={remote_name}",)
        return [PushedRange(to_ref, exclude, remote_name or "origin")]
    if remote_name:  # pre-commit's "all files" case: the push starts at a root commit
        tip = environ.get("PRE_COMMIT_LOCAL_BRANCH") or "HEAD"
        return [PushedRange(tip, (f"--remotes={remote_name}",), remote_name)]
    return None


def _rev_list_args(root: Path, pushed: PushedRange) -> list[str]:
    """`git rev-list` arguments for one range: the tip, then what the remote already holds.

    `--remotes=NAME` names remote-tracking branches to exclude, so it goes after `--not` (given
    bare, git would add every commit they hold to the range). A remote sha this clone never
    fetched (a force-push over someone else's commits) falls back to the remote-tracking branches.
    """
    commits: list[str] = []
    remotes: list[str] = []
    for item in pushed.exclude:
        if item.startswith("--remotes="):
            remotes.append(item)
        elif git(root, "cat-file", "-t", item, check=False).strip() == "commit":
            commits.append(f"^{item}")
        else:
            remotes.append(f"--remotes={pushed.remote}")
    args = [pushed.tip, *commits]
    if remotes:
        args += ["--not", *dict.fromkeys(remotes)]
    return args


def _commits_changing_pointers(root: Path, ranges: Sequence[PushedRange]) -> list[str]:
    commits: list[str] = []
    for pushed in ranges:
        out = git(
            root,
            "rev-list",
            *_rev_list_args(root, pushed),
            "--",
            *POINTER_PATHSPECS,
            what="git rev-list (commits being pushed)",
        )
        for sha in out.split():
            if sha not in commits:
                commits.append(sha)
    return commits


def _questions(root: Path, commits: Sequence[str]) -> dict[str, Question]:
    """commit → what to ask about it: the objects its changed pointers name outright, and the
    targets left for DVC to resolve (commits changing no output left out)."""
    changes = {sha: commit_changes(root, sha, POINTER_PATHSPECS) for sha in commits}
    oids = [oid for found in changes.values() for c in found for oid in (c.old, c.new) if oid]
    texts = {oid: data.decode("utf-8", "replace") for oid, data in blobs(root, oids).items()}
    targets: dict[str, list[str]] = {}
    for sha, found in changes.items():
        targets[sha] = [
            target
            for c in found
            for target in changed_targets(
                c.path, texts.get(c.old or ""), texts.get(c.new) if c.new else None
            )
        ]
    # The pipeline files beside each changed lock, as the commit has them.
    names = [
        f"{sha}:{target.partition(':')[0][: -len('dvc.yaml')]}{name}"
        for sha, asked in targets.items()
        for target in asked
        if ":" in target
        for name in ("dvc.yaml", "dvc.lock")
    ]
    at = {name: data.decode("utf-8", "replace") for name, data in blobs(root, names).items()}
    out: dict[str, Question] = {}
    for sha, asked in targets.items():
        if not asked:
            continue
        paths = {name.partition(":")[2] for name in names if name.startswith(f"{sha}:")}
        pointer_texts: dict[str, str | None] = {path: at.get(f"{sha}:{path}") for path in paths}
        for c in changes[sha]:
            if c.path.endswith(".dvc"):
                pointer_texts[c.path] = texts.get(c.new) if c.new else None
        objects, left = pointed_objects(asked, pointer_texts)
        out[sha] = Question(tuple((o.path, o.md5) for o in objects), tuple(left))
    return out


def check_push(root: Path, ranges: Sequence[PushedRange], remote: str | None) -> PrePushReport:
    """Ask the DVC remote about the objects of the pointers the pushed commits change."""
    commits = _commits_changing_pointers(root, ranges)
    if not commits:
        return PrePushReport(remote, (), ())
    if not (root / ".dvc").is_dir():
        raise UserError(
            f"{root} has no .dvc folder, yet the pushed commits change DVC pointers; run this "
            "check at the root of the DVC repository"
        )
    import importlib.util

    if importlib.util.find_spec("dvc") is None:
        raise UserError(
            "the pushed commits change DVC pointers, and checking the DVC remote needs DVC, which "
            "this environment lacks",
            hint="Install mlcode-git (it brings DVC); in pre-commit, give the hook "
            '`additional_dependencies: ["dvc[s3]>=3.50"]` (the extra of your remote type).',
        )
    remote = remote or default_remote(root)
    questions = _questions(root, commits)
    missing = missing_objects(root, questions, remote) if questions else []
    return PrePushReport(remote, tuple(commits), tuple(missing))


def render_refusal(report: PrePushReport, limit: int = 20) -> str:
    """The message of a refused push: which objects, of which commits, and what to run."""
    remote = report.remote
    where = f"DVC remote '{remote}'" if remote else "default DVC remote"
    lines = [
        f"mlcode pre-push: {len(report.missing)} object(s) the pushed commits point to are not "
        f"in the {where}; the push is refused so nobody pulls pointers to data that was never "
        "pushed:"
    ]
    for obj in report.missing[:limit]:
        state = "only in the local cache" if obj.state == "new" else "in no cache or remote"
        lines.append(
            f"  - {obj.path or '(object)'} (md5 {obj.md5}, commit {obj.commit[:10]}): {state}"
        )
    if len(report.missing) > limit:
        lines.append(f"  ... and {len(report.missing) - limit} more")
    push = f"dvc push -r {remote}" if remote else "dvc push"
    lines.append(
        f"Push the data first: `{push}` (data of older commits: `{push} --all-commits`), then push "
        "again. `git push --no-verify` skips this check."
    )
    return "\n".join(lines)
