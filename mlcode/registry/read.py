"""Reading the model registry from git tags: one `git for-each-ref` over refs/tags, then GTO's own
rules (mlcode.registry.state) answer which versions exist, which is latest, which is current in
each stage, and what happened when. Its answers are `gto show` / `gto history`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from mlcode.adapters.proc import run_bytes
from mlcode.registry.grammar import (
    Bump,
    next_version,
    parse_tag,
    semver_key,
    tag_counter,
)
from mlcode.registry.state import Artifact, CommitInfo, Event, TagRecord, Version, build_state

# NUL-separated fields; the free-text message last. git ends each record with a newline.
_FIELDS = (
    "%(refname)",
    "%(objecttype)",
    "%(object)",
    "%(taggername)",
    "%(taggeremail)",
    "%(taggerdate:raw)",
    "%(contents)",
)
FORMAT = "%00".join(_FIELDS) + "%00"


def _when(time: int, offset: int) -> datetime:
    return datetime.fromtimestamp(time, timezone(timedelta(minutes=offset)))


@dataclass(frozen=True)
class ModelVersion:
    """A version of a model: the commit it names and who registered it when."""

    model: str
    version: str  # `v1.2.0`; a commit for a stage tag on a commit with no registered version
    commit: str
    tag: str
    created: datetime
    author: str
    message: str
    author_email: str = ""
    registered: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "commit": self.commit,
            "tag": self.tag,
            "created": self.created.isoformat(),
            "author": self.author,
            "author_email": self.author_email,
            "message": self.message,
            "registered": self.registered,
        }


@dataclass(frozen=True)
class HistoryEvent:
    """One line of the registry's journal, as `gto history` lists it."""

    timestamp: datetime
    model: str
    event: str  # registration, deregistration, assignment, unassignment, deprecation
    priority: int
    version: str | None
    stage: str | None
    commit: str
    author: str
    author_email: str
    message: str
    tag: str

    def to_json(self) -> dict[str, Any]:
        return {
            "timestamp": self.timestamp.isoformat(),
            "model": self.model,
            "event": self.event,
            "version": self.version,
            "stage": self.stage,
            "commit": self.commit,
            "author": self.author,
            "author_email": self.author_email,
            "message": self.message,
            "tag": self.tag,
        }


def _model_version(model: str, version: Version) -> ModelVersion:
    authoring = version.authoring
    return ModelVersion(
        model=model,
        version=version.version,
        commit=version.commit,
        tag=authoring.ref,
        created=_when(authoring.time, authoring.offset),
        author=authoring.author,
        message=authoring.message,
        author_email=authoring.email,
        registered=version.is_registered,
    )


def _history_event(event: Event) -> HistoryEvent:
    return HistoryEvent(
        timestamp=_when(event.time, event.offset),
        model=event.artifact,
        event=event.event,
        priority=event.priority,
        version=event.version,
        stage=event.stage,
        commit=event.commit,
        author=event.author,
        author_email=event.email,
        message=event.message,
        tag=event.ref,
    )


@dataclass(frozen=True)
class Registry:
    """The registry at the moment it was read. Models are GTO artifact names (`dir:name` for one in
    a subfolder)."""

    artifacts: Mapping[str, Artifact]
    counters: Mapping[str, int]
    # model → every version named by a version tag (`@v…` or `@v…!`), lightweight ones included
    version_tags: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def _artifact(self, model: str) -> Artifact | None:
        return self.artifacts.get(model)

    def models(self) -> tuple[str, ...]:
        """Models with at least one tag that are not deprecated (what `gto show` lists), sorted."""
        return tuple(sorted(name for name, a in self.artifacts.items() if a.is_active))

    def deprecated(self, model: str) -> bool:
        """True when the model's latest event deprecates it (`gto show` then hides it)."""
        artifact = self._artifact(model)
        return artifact is not None and not artifact.is_active

    def versions(self, model: str) -> tuple[ModelVersion, ...]:
        """Registered, not deregistered versions, lowest to highest semantic version."""
        artifact = self._artifact(model)
        if artifact is None:
            return ()
        return tuple(
            _model_version(model, v) for v in artifact.get_versions(by="semver", ascending=True)
        )

    def taken_versions(self, model: str) -> tuple[str, ...]:
        """Every version named by a tag, deregistered ones (and lightweight tags) included: a new
        version must not reuse one, its tag exists. Lowest to highest."""
        return tuple(sorted(self.version_tags.get(model, ()), key=semver_key))

    def next_version(self, model: str, bump: Bump = "minor") -> str:
        """The version a new registration of `model` gets: `bump` of the highest version ever
        tagged (GTO bumps the highest *active* one, which after a deregistration proposes a
        number whose tag exists). The first is `next_version(None, bump)`: v0.1.0 for minor."""
        taken = self.taken_versions(model)
        return next_version(taken[-1] if taken else None, bump)

    def latest(self, model: str) -> ModelVersion | None:
        """The highest registered, not deregistered version (`gto show`'s "version")."""
        artifact = self._artifact(model)
        found = artifact.latest() if artifact else None
        return _model_version(model, found) if found else None

    def stages(self, model: str) -> dict[str, ModelVersion]:
        """Each stage's current version, as `gto show` chooses it: among versions not
        deregistered whose last tag in that stage assigns it, the one assigned last."""
        artifact = self._artifact(model)
        if artifact is None:
            return {}
        current = artifact.current()
        return {stage: _model_version(model, current[stage][1]) for stage in sorted(current)}

    def current(self, model: str, stage: str) -> ModelVersion | None:
        """The version current in `stage` (`gto show`'s answer), or None."""
        return self.stages(model).get(stage)

    def newest_stage_time(self, model: str) -> int | None:
        """Seconds since the epoch of the model's newest stage tag (assignment or unassignment),
        or None."""
        artifact = self._artifact(model)
        stage_events = ("assignment", "unassignment")
        times = [e.time for e in artifact.events() if e.event in stage_events] if artifact else []
        return max(times) if times else None

    def next_counter(self, model: str) -> int:
        """The number of the model's next stage tag: one more than the highest number among the
        model's tags, lightweight ones included, as `gto assign` counts."""
        return self.counters.get(model, 0) + 1

    def history(self, model: str | None = None) -> tuple[HistoryEvent, ...]:
        """The journal, newest first, exactly as `gto history` orders it."""
        events = [
            e
            for artifact in self.artifacts.values()
            for e in artifact.events()
            if e.event != "commit"
        ]
        events.sort(key=lambda e: (e.time, e.priority))
        events.reverse()
        return tuple(_history_event(e) for e in events if model is None or e.artifact == model)

    def used_stages(self) -> list[str]:
        """Every stage some version of some model is in (gto's "used" stages), sorted."""
        return sorted({s for a in self.artifacts.values() for s in a.used_stages()})

    def show_model(self, model: str) -> list[dict[str, Any]]:
        """What `gto show MODEL --json` lists, highest version first, in mlcode's field names:
        each active version (and stage-tagged commit without one) and the stages it is current
        in. Empty for a deprecated or unknown model."""
        artifact = self._artifact(model)
        if artifact is None or not artifact.is_active:
            return []
        current = artifact.current()
        rows: list[dict[str, Any]] = []
        for v in artifact.get_versions(include_non_explicit=True, include_discovered=True):
            row = _model_version(model, v).to_json()
            del row["model"]
            row["stages"] = sorted(s for s, (_, h) in current.items() if h.version == v.version)
            rows.append(row)
        return rows

    def show(self) -> dict[str, Any]:
        """What `gto show --json` prints."""
        stages = self.used_stages()
        out: dict[str, Any] = {}
        for name, artifact in self.artifacts.items():
            if not artifact.is_active:
                continue
            latest = artifact.latest()
            current = artifact.current()
            out[name] = {
                "version": latest.version if latest else None,
                "stage": {s: current[s][1].version if s in current else None for s in stages},
                "registered": artifact.is_registered,
                "active": artifact.is_active,
            }
        return out


def parse_records(raw: bytes) -> list[TagRecord]:
    """The tags in `git for-each-ref --format=FORMAT refs/tags` output."""
    text = raw.decode("utf-8", "replace")
    fields = text.split("\0")
    width = len(_FIELDS)
    records: list[TagRecord] = []
    for start in range(0, len(fields) - width + 1, width):
        chunk = fields[start : start + width]
        ref = chunk[0].removeprefix("\n").removeprefix("refs/tags/")
        kind, target, tagger, email, date, message = chunk[1:]
        annotated = kind == "tag"
        time, offset = _raw_date(date) if annotated and date.strip() else (0, 0)
        records.append(
            TagRecord(
                name=ref,
                annotated=annotated,
                target=target,
                tagger=tagger,
                email=email.removeprefix("<").removesuffix(">"),
                time=time,
                offset=offset,
                message=message,
            )
        )
    return records


def _raw_date(raw: str) -> tuple[int, int]:
    # git's raw date: "1700000000 +0130"
    seconds, _, zone = raw.strip().partition(" ")
    sign = -1 if zone.startswith("-") else 1
    digits = zone.lstrip("+-") or "0000"
    minutes = int(digits[:-2] or "0") * 60 + int(digits[-2:])
    return int(seconds), sign * minutes


def registry_of(
    records: list[TagRecord],
    commits: Callable[[list[str]], Mapping[str, CommitInfo]] = lambda shas: {},
) -> Registry:
    """The registry these tags make (pure, given `commits`, which looks commits up)."""
    counters: dict[str, int] = {}
    versions: dict[str, set[str]] = {}
    for record in records:
        name = record.name
        if "@v" in name:
            parsed = parse_tag(name)
            if parsed is not None and parsed.version is not None:
                versions.setdefault(parsed.model, set()).add(parsed.version)
        if not name.rpartition("#")[2].isdigit():
            continue  # no counter: skip the regular expression
        counted = tag_counter(name)
        if counted is not None:
            model, counter = counted
            counters[model] = max(counters.get(model, 0), counter)
    return Registry(
        artifacts=build_state(records, commits),
        counters=counters,
        version_tags={m: frozenset(v) for m, v in versions.items()},
    )


_COMMIT_FORMAT = "--format=%H%x00%cd%x00%an%x00%ae%x00%B%x00"


def parse_commits(raw: bytes) -> dict[str, CommitInfo]:
    """The commits in `git log --no-walk --date=raw --format=_COMMIT_FORMAT` output."""
    fields = raw.decode("utf-8", "replace").split("\0")
    found: dict[str, CommitInfo] = {}
    for start in range(0, len(fields) - 4, 5):
        sha, date, author, email, message = fields[start : start + 5]
        time, offset = _raw_date(date)
        found[sha.strip()] = CommitInfo(time, offset, author, email, message)
    return found


def read_commits(root: Path, shas: list[str]) -> dict[str, CommitInfo]:
    """Committer time, author and message of each commit in `shas`, from one `git log` call."""
    raw = run_bytes(
        ["git", "log", "--no-walk=unsorted", "--stdin", "--date=raw", _COMMIT_FORMAT],
        root,
        what="reading the registry's commits (git log)",
        input_bytes="".join(f"{sha}\n" for sha in shas).encode(),
    )
    return parse_commits(raw)


def read_registry(root: Path) -> Registry:
    """The registry in the git repository at `root`: one `git for-each-ref` call over the tags,
    and a `git log` call only for the commits whose details can change an answer (commits of a
    deprecated model, commits tagged with a stage but no version)."""
    raw = run_bytes(
        ["git", "for-each-ref", f"--format={FORMAT}", "refs/tags"],
        root,
        what="reading the registry's tags (git for-each-ref)",
    )
    return registry_of(parse_records(raw), lambda shas: read_commits(root, shas))


__all__ = [
    "HistoryEvent",
    "ModelVersion",
    "Registry",
    "parse_records",
    "read_registry",
    "registry_of",
]
