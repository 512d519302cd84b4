"""GTO's git-tag grammar, as GTO 1.10 writes and reads it: parse a tag name into a registry event,
build the names mlcode writes, and order and bump semantic versions (pure: no git, no I/O).

    register    <model>@v<semver>           deregister  <model>@v<semver>!
    assign      <model>#<stage>#<n>         unassign    <model>#<stage>!#<n>
    deprecate   <model>@deprecated          (any of them may end in #<n>)

A model in a subfolder, `dir:name`, is written `dir=name` in tags. The regular expressions are
GTO's own (gto/constants.py, gto 1.10.1, Apache License 2.0), character for character, so a name
is GTO's exactly when it is ours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from mlcode.errors import UserError

EventKind = Literal["register", "deregister", "assign", "unassign", "deprecate"]
Bump = Literal["major", "minor", "patch"]

SEPARATOR_IN_NAME = ":"
SEPARATOR_IN_TAG = "="

# Verbatim from gto/constants.py (GTO 1.10).
_DIRNAME = "[a-zA-Z0-9-_./]+"
_NAME = r"[a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?"
_SEMVER = (
    r"(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<prerelease>(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+(?P<buildmetadata>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
_FULLNAME = f"(?P<dirname>{_DIRNAME}{SEPARATOR_IN_NAME})?(?P<name>{_NAME})"
_FULLNAME_IN_TAG = _FULLNAME.replace(SEPARATOR_IN_NAME, SEPARATOR_IN_TAG)
_TAG_RE = re.compile(
    f"^(?P<artifact>{_FULLNAME_IN_TAG})(((#(?P<stage>{_NAME})|@(?P<version>v{_SEMVER}))"
    r"(?P<cancel>!?))|@((?P<deprecated>deprecated)|(?P<created>created)))(#(?P<counter>[0-9]+))?$"
)
_NAME_RE = re.compile(f"^{_NAME}$")
_FULLNAME_RE = re.compile(f"^{_FULLNAME}$")
_VERSION_RE = re.compile(f"^v{_SEMVER}$")
_SEMVER_RE = re.compile(f"^{_SEMVER}$")


@dataclass(frozen=True)
class TagEvent:
    """What one GTO tag says: `kind` of event on `model` (`dir:name` for a subfolder)."""

    kind: EventKind
    model: str
    version: str | None
    stage: str | None
    counter: int | None
    tag: str


def _match(name: str) -> re.Match[str] | None:
    return _TAG_RE.search(name)


def _model_of(match: re.Match[str]) -> str:
    return match["artifact"].replace(SEPARATOR_IN_TAG, SEPARATOR_IN_NAME)


def parse_tag(name: str) -> TagEvent | None:
    """The event a tag name records, or None for a tag that is not GTO's (GTO's `@created`, which
    GTO 1.10 can parse but not index, is None too)."""
    match = _match(name)
    if match is None or match["created"]:
        return None
    counter = int(match["counter"]) if match["counter"] else None
    model = _model_of(match)
    cancel = match["cancel"] == "!"
    if match["deprecated"]:
        return TagEvent("deprecate", model, None, None, counter, name)
    if match["version"]:
        kind: EventKind = "deregister" if cancel else "register"
        return TagEvent(kind, model, match["version"], None, counter, name)
    kind = "unassign" if cancel else "assign"
    return TagEvent(kind, model, None, match["stage"], counter, name)


def tag_counter(name: str) -> tuple[str, int] | None:
    """(model, counter) of a GTO-shaped tag that ends in `#<n>`: what GTO counts to pick the next
    stage tag's number (every such tag, `@created` ones and lightweight ones included)."""
    match = _match(name)
    if match is None or not match["counter"]:
        return None
    return _model_of(match), int(match["counter"])


def is_model_name(model: str) -> bool:
    """True when GTO accepts `model` as an artifact name (`name` or `dir:name`)."""
    return _FULLNAME_RE.search(model) is not None


def is_stage_name(stage: str) -> bool:
    """True when GTO accepts `stage` as a stage name."""
    return _NAME_RE.search(stage) is not None


def is_version(version: str) -> bool:
    """True for a GTO version: `v` and a semantic version (`v1.2.0`, `v2.0.0-rc.1`)."""
    return _VERSION_RE.search(version) is not None


def _check_model(model: str) -> str:
    if not is_model_name(model):
        raise UserError(
            f"{model!r} is not a valid model name for GTO's registry: letters, digits, '-', '_' "
            "and '/' only, starting and ending with a letter or digit (a subfolder as 'dir:name')"
        )
    return model.replace(SEPARATOR_IN_NAME, SEPARATOR_IN_TAG)


def _check_version(version: str) -> str:
    if not is_version(version):
        raise UserError(
            f"{version!r} is not a valid registry version: 'v' and a semantic version, "
            "like v1.2.0 or v2.0.0-rc.1"
        )
    return version


def _check_stage(stage: str) -> str:
    if not is_stage_name(stage):
        raise UserError(
            f"{stage!r} is not a valid stage name for GTO's registry: letters, digits, '-', '_' "
            "and '/' only, starting and ending with a letter or digit"
        )
    return stage


def version_tag(model: str, version: str) -> str:
    """The tag that registers `version` of `model`: ("iris", "v1.2.0") → "iris@v1.2.0"."""
    return f"{_check_model(model)}@{_check_version(version)}"


def deregister_tag(model: str, version: str) -> str:
    """The tag that deregisters `version` of `model`: "iris@v1.2.0!"."""
    return f"{version_tag(model, version)}!"


def stage_tag(model: str, stage: str, counter: int) -> str:
    """The tag that assigns `stage`, the `counter`-th numbered tag of `model`: "iris#prod#3"."""
    if counter < 1:
        raise ValueError(f"a stage tag's counter starts at 1, not {counter}")
    return f"{_check_model(model)}#{_check_stage(stage)}#{counter}"


def unassign_tag(model: str, stage: str, counter: int) -> str:
    """The tag that takes `stage` away again: "iris#prod!#4"."""
    if counter < 1:
        raise ValueError(f"a stage tag's counter starts at 1, not {counter}")
    return f"{_check_model(model)}#{_check_stage(stage)}!#{counter}"


def deprecate_tag(model: str) -> str:
    """The tag that deprecates `model` (GTO's default, without a counter): "iris@deprecated"."""
    return f"{_check_model(model)}@deprecated"


PrereleaseKey = tuple[tuple[int, int, str], ...]
SemverKey = tuple[int, int, int, int, PrereleaseKey]


def _identifier_key(identifier: str) -> tuple[int, int, str]:
    # The semver package's order (GTO sorts with it): numbers below words, numbers by value.
    if not identifier.isdigit():
        return (1, 0, identifier)
    normalized = identifier.lstrip("0") or "0"
    return (0, len(normalized), normalized)


def semver_key(version: str) -> SemverKey:
    """A sort key in semantic-version precedence (build metadata ignored, a pre-release below its
    release), for a version with or without its `v`."""
    match = _SEMVER_RE.search(version[1:] if version.startswith("v") else version)
    if match is None:
        raise ValueError(f"{version!r} is not a semantic version")
    pre = match["prerelease"]
    major, minor, patch = int(match["major"]), int(match["minor"]), int(match["patch"])
    if pre is None:
        return (major, minor, patch, 1, ())
    return (major, minor, patch, 0, tuple(_identifier_key(part) for part in pre.split(".")))


def next_version(current: str | None, bump: Bump = "minor") -> str:
    """The version after `current` with one part bumped (the lower parts reset, pre-release and
    build dropped, as GTO's bump does). With no version yet, the bump of v0.0.0: "patch" gives
    v0.0.1, what `gto register` picks first with its own default bump (patch); "minor" gives v0.1.0;
    "major" v1.0.0."""
    if current is None:
        major, minor, patch = 0, 0, 0
    else:
        key = semver_key(_check_version(current))
        major, minor, patch = key[0], key[1], key[2]
    if bump == "major":
        return f"v{major + 1}.0.0"
    if bump == "minor":
        return f"v{major}.{minor + 1}.0"
    if bump == "patch":
        return f"v{major}.{minor}.{patch + 1}"
    raise ValueError(f"unknown bump {bump!r}: major, minor or patch")
