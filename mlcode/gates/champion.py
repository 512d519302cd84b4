"""Which model a candidate is compared with: the champion, and where it came from.

In this order:
1. `--champion REF`: any git revision (commit, branch, tag), or a version of the model (`v0.2.0`
   or `iris@v0.2.0`, a GTO version tag);
2. the registry: the version assigned to the model's promotion stage (GTO's annotated tags,
   `<model>#<stage>#<n>` → `<model>@v<semver>`), read by `mlcode.registry`;
3. the promotion base branch: `origin/<base>` when that remote-tracking branch exists, else the
   local `<base>`. A base that exists nowhere is an error (exit 3): the gates cannot say what the
   model is compared with.

The champion's commit may be HEAD itself (the retrain workflow runs on the base branch; a model
promoted from this very commit): the champion is then what HEAD committed and the candidate is the
working tree, which `mlcode run` may have retrained; the note says "the base is this commit".
"""

from __future__ import annotations

import re
from pathlib import Path

from mlcode.errors import UserError
from mlcode.gates.report import ChampionInfo

_VERSION = re.compile(r"^v\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$")


def commit_of(root: Path, rev: str) -> str | None:
    """The commit `rev` names, or None when it names none."""
    from mlcode.adapters import git

    if rev.startswith("-"):
        return None
    out = git.git(
        root, "rev-parse", "--verify", "-q", "--end-of-options", f"{rev}^{{commit}}", check=False
    )
    return out.strip() or None


def head_commit(root: Path) -> str | None:
    """HEAD's commit, None before the first commit."""
    return commit_of(root, "HEAD")


def _same_as_head(root: Path, commit: str, what: str = "the champion") -> str:
    if commit == head_commit(root):
        return (
            f"{what} is this commit (HEAD): the champion's metrics are those HEAD committed, the "
            "candidate's those in the working tree"
        )
    return ""


def from_ref(root: Path, model: str, ref: str) -> ChampionInfo:
    """The champion `--champion REF` names; UserError when REF names no commit."""
    candidates = [ref]
    if _VERSION.match(ref):
        candidates.insert(0, f"{model}@{ref}")
    for rev in candidates:
        commit = commit_of(root, rev)
        if commit is not None:
            version = None
            if rev.startswith(f"{model}@") and _VERSION.match(rev[len(model) + 1 :]):
                version = rev[len(model) + 1 :]
            return ChampionInfo(
                model, version, commit, f"--champion {ref}", note=_same_as_head(root, commit)
            )
    raise UserError(
        f"--champion {ref}: no commit, branch, tag or version of model {model!r} has this name",
        hint="Name a git revision (a commit, branch or tag) or a version such as v0.2.0; "
        "`git tag --list` shows the versions.",
    )


def from_registry(root: Path, model: str, stage: str) -> ChampionInfo | None:
    """The version the registry assigns to `stage`, or None when it assigns none."""
    from mlcode.registry.read import read_registry

    current = read_registry(root).current(model, stage)
    if current is None:
        return None
    if current.registered:
        version: str | None = current.version
        source = f"registry: {model}@{current.version} ({stage})"
    else:  # GTO lets a stage point at a commit with no registered version
        version = None
        source = f"registry: {model} at commit {current.commit[:12]} ({stage})"
    return ChampionInfo(
        model, version, current.commit, source, note=_same_as_head(root, current.commit)
    )


def base_ref(root: Path, base: str) -> str | None:
    """`origin/<base>` when it exists, else `<base>` when it exists, else None."""
    for ref in (f"refs/remotes/origin/{base}", f"refs/heads/{base}"):
        if commit_of(root, ref) is not None:
            return ref.removeprefix("refs/remotes/").removeprefix("refs/heads/")
    return None


def from_base(root: Path, model: str, base: str, metrics_path: str) -> ChampionInfo:
    """The promotion base branch's commit as the champion; UserError when the branch is missing.

    A base that does not hold the model's metrics file yet (a model added on this branch) gives
    no champion: `commit` None, the note says why."""
    ref = base_ref(root, base)
    if ref is None:
        raise UserError(
            f"model {model!r}: the promotion base branch {base!r} does not exist (neither "
            f"origin/{base} nor a local branch {base}), so there is no champion to compare with",
            hint=f"Fetch it (`git fetch origin {base}`), or set `promotion.base` in ml.yaml to "
            "an existing branch, or name the champion with `--champion REF`.",
        )
    commit = commit_of(root, ref)
    assert commit is not None  # base_ref checked it
    source = f"base branch {ref}"
    if not has_file(root, commit, metrics_path):
        return ChampionInfo(
            model, None, None, source, note=f"{ref} has no {metrics_path}: no model there yet"
        )
    note = _same_as_head(root, commit, "the base")
    return ChampionInfo(model, None, commit, source, note=note)


def has_file(root: Path, commit: str, path: str) -> bool:
    """True when `commit`'s tree holds `path`."""
    from mlcode.adapters import git

    out = git.git(root, "ls-tree", "-z", "--name-only", commit, "--", path, check=False)
    return path in out.split("\0")


def resolve(
    root: Path,
    model: str,
    *,
    stage: str,
    base: str,
    metrics_path: str,
    override: str | None = None,
) -> ChampionInfo:
    """The champion of `model` (see the module docstring for the order)."""
    if override is not None:
        return from_ref(root, model, override)
    registered = from_registry(root, model, stage)
    if registered is not None:
        return registered
    return from_base(root, model, base, metrics_path)
