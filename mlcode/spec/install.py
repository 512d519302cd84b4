"""Where CI installs mlcode from: `ci.install` in ml.yaml (or `ci_install` in the stack).

mlcode is published as the distribution `mlcode-git` (the command is `mlcode`); the project named
plain `mlcode` on the package index is unrelated, so no install line may name it. `mlcode-git`
holds no code: it depends on `mlcode-git-core[ml]` (the repository's root, light without its `ml`
extra, which is what the pre-commit hook installs). A generated workflow installs mlcode from one
of three pinned sources, each parsed and checked here (pure):

- the package index, by an exact pin: `mlcode-git==0.1.0`, `mlcode-git[s3]==0.1.0`;
- a git repository at a full commit SHA: `git+https://host/org/repo@<40 hex>` (also
  `git+ssh://git@host/...`, an `#egg=mlcode-git` fragment, or `mlcode-git[s3] @ git+...`);
- a wheel committed in the repository: `dist/mlcode_git_core-0.1.0-py3-none-any.whl` (relative,
  no `..`; `python -m build` at the repository's root makes it).

A git URL installs the repository's root, so its requirement names `mlcode-git-core` (whether the
value says `mlcode-git` or `mlcode-git-core`), and every install of the core adds its `ml` extra.

Anything else (an unpinned or ranged name, a branch or tag, pip options such as another index, a
plain download URL, shell metacharacters, a distribution that is not mlcode) is refused with a
reason. `requirement` turns a source into the one pip argument CI runs, adding the extras the
stack's DVC remote needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

# The distribution users install (`pip install mlcode-git`); the command it provides is `mlcode`.
DIST = "mlcode-git"
# The repository's root distribution: the code, with light dependencies unless `[ml]`.
CORE_DIST = "mlcode-git-core"
# Our distributions → the extras every CI install of it needs on top of the remote's.
OUR_DISTS: dict[str, tuple[str, ...]] = {DIST: (), CORE_DIST: ("ml",)}
# The distribution a git URL of mlcode's repository installs (its root pyproject).
GIT_DIST = CORE_DIST
# Extras the distributions offer (a typo would silently install nothing).
EXTRAS = frozenset({"ml", "s3", "ssh", "gs", "azure", "webdav", "hdfs"})
# DVC remote type → the extra that installs its DVC plugin (http/https are built into DVC).
REMOTE_EXTRAS = {
    "s3": "s3",
    "ssh": "ssh",
    "gs": "gs",
    "azure": "azure",
    "webdav": "webdav",
    "webdavs": "webdav",
    "hdfs": "hdfs",
}

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_EXTRAS = r"\[\s*[A-Za-z0-9][A-Za-z0-9._-]*(?:\s*,\s*[A-Za-z0-9][A-Za-z0-9._-]*)*\s*\]"
# A public PEP 440 version: no wildcard, no local part (`+build`), nothing to resolve.
_VERSION = r"(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*(?:(?:a|b|rc)[0-9]+)?(?:\.post[0-9]+)?(?:\.dev[0-9]+)?"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = rf"{_LABEL}(?:\.{_LABEL})*(?::[0-9]{{1,5}})?"
_SEGMENT = r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*"
_SHA = r"[0-9a-fA-F]{40}"

_PINNED = re.compile(rf"(?P<name>{_NAME})(?P<extras>{_EXTRAS})?\s*==\s*(?P<version>{_VERSION})")
_UNPINNED = re.compile(rf"(?P<name>{_NAME})\s*(?P<extras>{_EXTRAS})?\s*(?P<spec>[<>=!~].*)?")
_GIT = re.compile(
    rf"git\+(?P<scheme>https|ssh)://(?:(?P<user>[^@/]*)@)?(?P<host>{_HOST})"
    rf"(?P<path>(?:/{_SEGMENT})+)@(?P<rev>[^@/#]+)(?:#egg=(?P<egg>{_NAME}))?"
)
_SSH_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
_DIRECT = re.compile(rf"(?P<name>{_NAME})\s*(?P<extras>{_EXTRAS})?\s*@\s*(?P<url>\S+)")
_WHEEL_PATH = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*\.whl")
# Wheel file names: {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl (name uses '_').
_WHEEL_NAME = re.compile(
    r"(?P<name>[A-Za-z0-9_.]+)-(?P<version>[A-Za-z0-9_.!+]+)(?:-[0-9][A-Za-z0-9_]*)?"
    r"-[A-Za-z0-9_.]+-[A-Za-z0-9_.]+-[A-Za-z0-9_.]+\.whl"
)
# Characters a value may hold at all: no quote, '$', '`', ';', '|', '&', '?', '(', ')', '%',
# '{', '}', '\\', newline, ... (what a shell, YAML or a CI dialect would read). '<', '>', '!',
# '*' and spaces pass this first gate only so that a range or wildcard gets its own message: no
# accepted form holds them (the forms' patterns below are the real gate).
_SAFE = re.compile(r"[A-Za-z0-9._~/:@+=#\[\], !<>*-]*")
_MAX = 500

# For editors (the JSON Schema): the three forms in outline; `parse` gives the exact reason.
SCHEMA_PATTERN = (
    rf"^(?:{_NAME}(?:{_EXTRAS})?\s*==\s*{_VERSION}"
    rf"|(?:{_NAME}\s*(?:{_EXTRAS})?\s*@\s*)?git\+(?:https|ssh)://[^\s]+@{_SHA}(?:#egg={_NAME})?"
    rf"|(?:\./)?{_SEGMENT}(?:/{_SEGMENT})*\.whl)$"
)

Kind = Literal["index", "git", "wheel"]
_FORMS = (
    f"an exact pin such as '{DIST}==0.1.0', a git URL at a full commit SHA such as "
    "'git+https://github.com/org/mlcode@<40-hex commit>', or the path of a wheel committed in the "
    "repository such as 'dist/mlcode_git_core-0.1.0-py3-none-any.whl'"
)


@dataclass(frozen=True)
class Source:
    """A checked place to install mlcode from."""

    kind: Kind
    dist: str  # normalized distribution name
    extras: tuple[str, ...] = ()
    version: str | None = None  # kind "index"
    url: str | None = None  # kind "git": the URL without fragment, the SHA lowercased
    path: str | None = None  # kind "wheel": relative to the repository root


def normalize(name: str) -> str:
    """A distribution name in its canonical form (lowercase, runs of '-', '_', '.' as '-')."""
    return re.sub(r"[-_.]+", "-", name).lower()


def default(version: str) -> Source:
    """The default: the real distribution from the package index at exactly `version`."""
    return Source(kind="index", dist=DIST, version=version)


def parse(value: str) -> Source:
    """The install source `value` names; ValueError with the reason when it is not accepted."""
    text = value
    if not text.strip():
        raise ValueError(f"ci.install is empty; give {_FORMS}")
    if text != text.strip():
        raise ValueError(f"{_show(text)} has leading or trailing spaces")
    if len(text) > _MAX:
        raise ValueError(f"ci.install is longer than {_MAX} characters")
    bad = next((ch for ch in text if not _SAFE.fullmatch(ch)), None)
    if bad is not None:
        raise ValueError(
            f"{_show(text)} holds {bad!r}, which an install requirement of mlcode never needs "
            f"(quotes, '$', shell operators and spaces other than in 'name @ url' are refused); "
            f"give {_FORMS}"
        )
    if text.startswith("-"):
        raise ValueError(
            f"{_show(text)} is a pip option; options such as another index (--index-url, "
            f"--extra-index-url, -i) or --pre are refused: give {_FORMS}"
        )
    direct = _DIRECT.fullmatch(text)
    if direct is not None:
        return _git(direct["url"], direct["name"], direct["extras"], text)
    if text.startswith("git+"):
        return _git(text, None, None, text)
    if "://" in text or text.lower().startswith("file:"):
        raise ValueError(
            f"{_show(text)} is a download URL; only a git URL at a full commit SHA "
            f"(git+https:// or git+ssh://) is accepted, never another index or archive URL: "
            f"give {_FORMS}"
        )
    if text.lower().endswith(".whl"):
        return _wheel(text)
    return _index(text)


def _show(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _ours(name: str, text: str) -> str:
    dist = normalize(name)
    if dist in OUR_DISTS:
        return dist
    if dist == "mlcode":
        raise ValueError(
            f"{_show(text)} names the distribution 'mlcode', an unrelated project on the package "
            f"index; mlcode is published as {DIST!r} (the command stays `mlcode`)"
        )
    raise ValueError(
        f"{_show(text)} installs {name!r}, which is not mlcode; mlcode is published as {DIST!r}"
    )


def _extras(group: str | None, text: str) -> tuple[str, ...]:
    if not group:
        return ()
    found = tuple(sorted({normalize(e.strip()) for e in group.strip()[1:-1].split(",")}))
    unknown = [e for e in found if e not in EXTRAS]
    if unknown:
        raise ValueError(
            f"{_show(text)}: unknown extra {unknown[0]!r}; mlcode offers "
            f"{', '.join(sorted(EXTRAS))} (CI adds the one the stack's remote needs by itself)"
        )
    return found


def _index(text: str) -> Source:
    pinned = _PINNED.fullmatch(text)
    if pinned is not None:
        dist = _ours(pinned["name"], text)
        extras = _extras(pinned["extras"], text)
        return Source(kind="index", dist=dist, extras=extras, version=pinned["version"])
    loose = _UNPINNED.fullmatch(text)
    if loose is None:
        raise ValueError(f"{_show(text)} is not an install requirement; give {_FORMS}")
    dist = _ours(loose["name"], text)
    if not loose["spec"]:
        raise ValueError(
            f"{_show(text)} is not pinned; CI must install exactly one version: write "
            f"'{dist}==<version>' (or leave ci.install out for the version that generated the "
            "workflows)"
        )
    raise ValueError(
        f"{_show(text)} does not pin one exact version; write '{dist}==<version>' with a "
        "released version (no ranges, wildcards or local '+' versions)"
    )


def _git(url: str, name: str | None, extras: str | None, text: str) -> Source:
    match = _GIT.fullmatch(url)
    if match is None:
        if not url.startswith(("git+https://", "git+ssh://")):
            raise ValueError(
                f"{_show(text)}: only git+https:// and git+ssh:// URLs are accepted; give {_FORMS}"
            )
        if "@" not in url.split("://", 1)[1].split("#", 1)[0].rsplit("/", 1)[-1]:
            raise ValueError(
                f"{_show(text)} names no commit; append '@' and the full 40-character commit SHA "
                "(a branch or tag can move; a commit cannot)"
            )
        raise ValueError(
            f"{_show(text)} is not a git URL of the form git+https://host/org/repo@<commit SHA> "
            "(only an optional '#egg=mlcode-git' fragment may follow; no query, no "
            "'#subdirectory')"
        )
    user = match["user"]
    if user is not None and (match["scheme"] == "https" or not _SSH_USER.fullmatch(user)):
        raise ValueError(
            f"{_show(text)} embeds credentials in the URL; a workflow is committed and logged, "
            "so never put a token or password there (for a private repository, give CI access "
            "another way, e.g. a deploy key used through git+ssh://git@host/...)"
        )
    if ".." in match["path"].split("/"):
        raise ValueError(f"{_show(text)}: the repository path holds '..'")
    rev = match["rev"]
    if not re.fullmatch(_SHA, rev):
        raise ValueError(
            f"{_show(text)} installs {rev!r}, a branch, tag or short SHA that can move or be "
            "ambiguous; use the full 40-character commit SHA"
        )
    for given in (name, match["egg"]):
        if given is not None:
            _ours(given, text)  # either name of ours means the repository's root, GIT_DIST
    clean = url.split("#", 1)[0]
    clean = clean[: -len(rev)] + rev.lower()
    return Source(kind="git", dist=GIT_DIST, extras=_extras(extras, text), url=clean)


def _wheel(text: str) -> Source:
    text = text.removeprefix("./")
    if text.startswith("/") or re.match(r"[A-Za-z]:", text):
        raise ValueError(
            f"{_show(text)} is absolute; give the wheel's path relative to the repository root"
        )
    parts = text.split("/")
    if ".." in parts:
        raise ValueError(f"{_show(text)} leaves the repository ('..'); commit the wheel inside it")
    if not _WHEEL_PATH.fullmatch(text) or "." in parts:
        raise ValueError(
            f"{_show(text)} is not a plain relative path of a wheel (letters, digits, '.', '_', "
            "'-', '~' and '/' separated folders; no extras: CI adds the remote's)"
        )
    name = _WHEEL_NAME.fullmatch(parts[-1])
    if name is None:
        raise ValueError(f"{_show(text)}: {parts[-1]!r} is not a wheel file name")
    return Source(kind="wheel", dist=_ours(name["name"], text), path=text)


def extras_for(source: Source, remote_type: str) -> tuple[str, ...]:
    """The extras CI installs: the source's own, its distribution's, and the remote's plugin."""
    wanted = set(source.extras) | set(OUR_DISTS[source.dist])
    extra = REMOTE_EXTRAS.get(remote_type)
    if extra is not None:
        wanted.add(extra)
    if source.dist == DIST:
        wanted.discard("ml")  # always part of mlcode-git; it offers no such extra
    return tuple(sorted(wanted))


def requirement(source: Source, remote_type: str) -> str:
    """The single pip argument that installs `source` with every extra CI needs."""
    extras = extras_for(source, remote_type)
    bracket = f"[{','.join(extras)}]" if extras else ""
    if source.kind == "index":
        return f"{source.dist}{bracket}=={source.version}"
    if source.kind == "git":
        return f"{source.dist}{bracket} @ {source.url}"
    return f"./{source.path}{bracket}"
