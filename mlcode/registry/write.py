"""Writing the model registry: annotated git tags in GTO's grammar, refused where `gto register` /
`gto assign` would refuse, so GTO reads what mlcode writes. Tags are created locally; pushing them
is the caller's step.
"""

from __future__ import annotations

import time
from pathlib import Path

from mlcode.adapters.git import git
from mlcode.errors import UserError
from mlcode.registry.grammar import stage_tag, version_tag
from mlcode.registry.read import Registry, read_registry


def _tag_exists(root: Path, tag: str) -> bool:
    out = git(root, "rev-parse", "-q", "--verify", f"refs/tags/{tag}", check=False)
    return bool(out.strip())


def _resolve_commit(root: Path, commit: str) -> str:
    out = git(root, "rev-parse", "-q", "--verify", f"{commit}^{{commit}}", check=False).strip()
    if not out:
        raise UserError(
            f"Cannot register at {commit!r}: it is not a commit of the repository at {root}"
        )
    return out


def _create(root: Path, tag: str, commit: str, message: str) -> None:
    git(root, "tag", "-a", "-m", message, "--", tag, commit, what=f"creating tag {tag}")


def default_register_message(model: str, version: str) -> str:
    """GTO's own message for a registration."""
    return f"Registering artifact {model} version {version}"


def default_assign_message(model: str, stage: str, version: str) -> str:
    """GTO's own message for a stage assignment."""
    return f"Assigning stage {stage} to artifact {model} version {version}"


def check_register(registry: Registry, model: str, version: str, commit: str) -> str:
    """The tag that would register `version` of `model` on `commit` (40 hex), or a UserError where
    GTO refuses: the version is taken (registered before, even if deregistered since), or the
    commit already holds another active version of the model."""
    tag = version_tag(model, version)
    if version in registry.taken_versions(model):
        raise UserError(
            f"Version {version} of model {model!r} is already in the registry (tag {tag}); "
            "choose another version (a deregistered version's number stays taken)."
        )
    for held in registry.versions(model):
        if held.commit == commit:
            raise UserError(
                f"Commit {commit[:12]} already holds version {held.version} of model {model!r} "
                f"(tag {held.tag}); GTO allows one active version of a model per commit. Register "
                "the new version on a new commit, or deregister the old one first."
            )
    return tag


def register(root: Path, model: str, version: str, commit: str, message: str) -> str:
    """Register `version` of `model` on `commit`: the annotated tag `<model>@<version>`, returned."""
    tag = version_tag(model, version)
    sha = _resolve_commit(root, commit)
    if _tag_exists(root, tag):
        raise UserError(
            f"Tag {tag} already exists in {root}: version {version} of {model!r} is taken."
        )
    check_register(read_registry(root), model, version, sha)
    _create(root, tag, sha, message)
    return tag


def check_assign(registry: Registry, model: str, stage: str, version: str) -> tuple[str, str]:
    """(tag, commit) of assigning `stage` to `version` of `model`, or a UserError where GTO refuses:
    the version is not registered, is deregistered, or is in that stage already."""
    found = [v for v in registry.versions(model) if v.version == version]
    if not found:
        known = ", ".join(v.version for v in registry.versions(model)) or "none"
        raise UserError(
            f"Cannot assign stage {stage!r}: version {version} of model {model!r} is not "
            f"registered (registered versions: {known})."
        )
    current = registry.current(model, stage)
    if current is not None and current.version == version:
        raise UserError(
            f"Version {version} of model {model!r} is already in stage {stage!r} "
            f"(tag {current.tag})."
        )
    return stage_tag(model, stage, registry.next_counter(model)), found[0].commit


def _after_newest(registry: Registry, model: str) -> None:
    # GTO orders a model's stage tags by their time in whole seconds and breaks a tie in a way
    # that can keep the earlier assignment current. A stage tag written in the same second as the
    # model's newest stage tag waits for the next second, so GTO's answer is the one intended.
    newest = registry.newest_stage_time(model)
    if newest is None:
        return
    wait = newest + 1 - time.time()
    if 0 < wait <= 2:
        time.sleep(wait)


def assign(root: Path, model: str, stage: str, version: str, message: str) -> str:
    """Assign `stage` to `version` of `model`: the annotated tag `<model>#<stage>#<n>` (n: the
    model's next counter) on the version's commit, returned. GTO (and mlcode's reader) then
    answer `version` for the stage: the tag is at least one second newer than the model's
    other stage tags (the writer waits up to a second for that)."""
    registry = read_registry(root)
    tag, commit = check_assign(registry, model, stage, version)
    _after_newest(registry, model)
    _create(root, tag, commit, message)
    return tag
