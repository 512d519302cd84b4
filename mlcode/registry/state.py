"""GTO's registry state, computed from annotated tags the way GTO 1.10 computes it (pure).

A port of gto/base.py and gto/tag.py's indexing, kept operation for operation: the same passes
(deprecations, then registrations, then stage tags, each sorted by tag time), the same event lists,
the same stable sorts and reversals. GTO's timestamps have one-second resolution, and a promotion
writes its tags within one second, so ties are the common case, not the corner: matching GTO's
answer on a tie needs GTO's exact order of operations, which is why this is a port and not a
re-derivation. What GTO's pydantic models add (validation, JSON) is left out; what it reads from
`artifacts.yaml` at HEAD (annotations of models never tagged) is left out too.

GTO is Iterative's, under the Apache License 2.0; this module follows its logic (gto 1.10.1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from mlcode.errors import UserError
from mlcode.registry.grammar import SemverKey, parse_tag, semver_key

EventName = Literal[
    "deprecation", "registration", "deregistration", "assignment", "unassignment", "commit"
]
_PRIORITY: dict[EventName, int] = {
    "commit": 0,
    "deprecation": 2,
    "registration": 3,
    "deregistration": 4,
    "assignment": 5,
    "unassignment": 6,
}
_ADDITION = frozenset({"commit", "registration", "assignment"})


@dataclass(slots=True)
class TagRecord:
    """One tag as git stores it: what `git for-each-ref` says about it."""

    name: str
    annotated: bool
    target: str  # the object the tag points at (40 hex)
    tagger: str
    email: str
    time: int  # tagger time, seconds since the epoch
    offset: int  # tagger's UTC offset, minutes
    message: str


@dataclass(slots=True)
class CommitInfo:
    """What GTO reads of a version's commit: its committer time, author and message."""

    time: int
    offset: int
    author: str
    email: str
    message: str


@dataclass(slots=True)
class Event:
    """One registry event: a tag, or GTO's `commit` event for a version's commit."""

    event: EventName
    artifact: str
    time: int
    offset: int
    author: str
    email: str
    message: str
    commit: str
    tag: str | None = None
    version: str | None = None
    stage: str | None = None

    @property
    def priority(self) -> int:
        return _PRIORITY[self.event]

    @property
    def addition(self) -> bool:
        return self.event in _ADDITION

    @property
    def ref(self) -> str:
        return self.tag if self.tag is not None else self.commit


T = TypeVar("T")


def _desc(items: Iterable[T], key: Callable[[T], int], ascending: bool = False) -> list[T]:
    # GTO's `sorted(..., key=created_at)[::-1]`: a stable sort, then reversed (ties reversed too).
    ordered = sorted(items, key=key)
    return ordered if ascending else ordered[::-1]


def _time(e: Event) -> int:
    return e.time


def _newest(items: Sequence[Event]) -> Event | None:
    """The first of `_desc(items, _time)` without sorting: the newest, and of those tied, the last
    in `items`' order."""
    best: Event | None = None
    for e in items:
        if best is None or e.time >= best.time:
            best = e
    return best


@dataclass
class VStage:
    """A version's life in one stage (gto.base.VStage)."""

    version: str
    stage: str
    assignments: list[Event] = field(default_factory=list)
    unassignments: list[Event] = field(default_factory=list)

    def add(self, event: Event) -> None:
        target = self.assignments if event.event == "assignment" else self.unassignments
        target.append(event)
        target.sort(key=_time)

    def events(self, ascending: bool = False) -> list[Event]:
        return _desc(self.assignments + self.unassignments, _time, ascending)

    @property
    def is_active(self) -> bool:
        first = _newest(self.assignments + self.unassignments)
        return first is not None and first.event == "assignment"

    @property
    def activated_at(self) -> int:
        first = _newest(self.assignments + self.unassignments)
        # Only active stages are sorted by this; an inactive one never reaches here.
        return first.time if first is not None and first.event == "assignment" else -1

    @property
    def authoring(self) -> Event:
        # The first addition in GTO's newest-first order: the newest assignment.
        newest = _newest(self.assignments) or _newest(self.unassignments)
        assert newest is not None
        return newest


@dataclass
class Version:
    """One version of an artifact (gto.base.Version): a semver, or a commit for a stage tag on a
    commit that has no registered version."""

    version: str
    commit: str
    registrations: list[Event] = field(default_factory=list)
    deregistrations: list[Event] = field(default_factory=list)
    enrichments: list[Event] = field(default_factory=list)
    stages: dict[str, VStage] = field(default_factory=dict)

    def add(self, event: Event) -> None:
        if event.event == "registration":
            self.registrations.append(event)
            self.registrations.sort(key=_time)
        elif event.event == "deregistration":
            self.deregistrations.append(event)
            self.deregistrations.sort(key=_time)
        elif event.event == "commit":
            self.enrichments.append(event)
            self.enrichments.sort(key=_time)
        else:
            assert event.stage is not None
            if event.stage not in self.stages:
                self.stages[event.stage] = VStage(self.version, event.stage)
            self.stages[event.stage].add(event)

    def events(
        self, direct: bool = True, indirect: bool = True, ascending: bool = False
    ) -> list[Event]:
        items: list[Event] = []
        if direct:
            items += self.registrations + self.deregistrations
        if indirect:
            items += self.enrichments + [e for s in self.stages.values() for e in s.events()]
        return _desc(items, _time, ascending)

    @property
    def is_active(self) -> bool:
        first = _newest(self.registrations + self.deregistrations)
        if first is not None:
            return first.event == "registration"
        return bool(self.enrichments) or any(
            s.assignments or s.unassignments for s in self.stages.values()
        )

    @property
    def is_registered(self) -> bool:
        return bool(self.registrations)

    @property
    def discovered(self) -> bool:
        return not (self.registrations or self.deregistrations)

    @property
    def authoring(self) -> Event:
        registration = _newest(self.registrations)
        if registration is not None:
            return registration
        return self.events(direct=False)[0]

    def vstages(self, active_only: bool = True, ascending: bool = False) -> list[VStage]:
        chosen = [s for s in self.stages.values() if not active_only or s.is_active]
        return _desc(chosen, lambda s: s.activated_at, ascending)


def sort_versions(
    versions: Sequence[Version], by: Literal["semver", "timestamp"], ascending: bool = False
) -> list[Version]:
    """gto.base.sort_versions: semantic versions first, then commit-named ones by name."""
    if by == "timestamp":
        return _desc(versions, lambda v: v.authoring.time, ascending)
    semantic: list[tuple[SemverKey, Version]] = []
    others: list[Version] = []
    for v in versions:
        try:
            semantic.append((semver_key(v.version), v))
        except ValueError:
            others.append(v)
    first = [v for _, v in sorted(semantic, key=lambda pair: pair[0])]
    second = sorted(others, key=lambda v: v.version)
    if not ascending:
        first, second = first[::-1], second[::-1]
    return first + second


@dataclass
class Artifact:
    """One model of the registry (gto.base.Artifact)."""

    name: str
    versions: list[Version] = field(default_factory=list)
    deprecations: list[Event] = field(default_factory=list)
    by_commit: dict[str, list[Version]] = field(default_factory=dict, repr=False)

    def add(self, event: Event) -> None:
        if event.event == "deprecation":
            self.deprecations.append(event)
            self.deprecations.sort(key=_time)
            return
        assert event.version is not None
        found = self.find_version(event.version, event.commit, create=True)
        assert found is not None
        found.add(event)

    def find_version(
        self, name: str | None = None, commit: str | None = None, create: bool = False
    ) -> Version | None:
        pool = self.by_commit.get(commit, []) if commit else self.versions
        found = [
            v
            for v in pool
            if (v.version == name if name else True)
            and (v.commit == commit if commit else True)
            and not v.discovered
        ]
        if create and not found:
            made = Version(name or commit or "", commit or "")
            self.versions.append(made)
            self.by_commit.setdefault(made.commit, []).append(made)
            found = [made]
        if len(found) > 1:
            listed = ", ".join(v.version for v in found)
            raise UserError(
                f"The registry in git tags is ambiguous: model {self.name!r} has several versions "
                f"({listed}) on one commit, which GTO refuses to read too. Deregister all but one "
                "(`gto deregister`) or delete the extra version tag."
            )
        return found[0] if found else None

    def events(
        self, direct: bool = True, indirect: bool = True, ascending: bool = False
    ) -> list[Event]:
        items: list[Event] = list(self.deprecations) if direct else []
        if indirect:
            items += [e for v in self.versions for e in v.events()]
        return _desc(items, _time, ascending)

    @property
    def is_active(self) -> bool:
        newest = _newest(self.deprecations + [e for v in self.versions for e in v.events()])
        return newest is not None and newest.event != "deprecation"

    @property
    def is_registered(self) -> bool:
        return not all(e.event == "commit" for e in self.events())

    def get_versions(
        self,
        active_only: bool = True,
        include_non_explicit: bool = False,
        include_discovered: bool = False,
        by: Literal["semver", "timestamp"] = "semver",
        ascending: bool = False,
    ) -> list[Version]:
        chosen = [
            v
            for v in self.versions
            if not active_only
            or (
                v.is_active
                and (
                    (v.is_registered and not v.discovered)
                    or (include_discovered and v.discovered)
                    or (include_non_explicit and not v.is_registered)
                )
            )
        ]
        return sort_versions(chosen, by, ascending)

    def latest(self) -> Version | None:
        """The highest active registered version (`gto show`'s "version")."""
        versions = self.get_versions()
        return versions[0] if versions else None

    def current(
        self, by: Literal["semver", "timestamp"] = "timestamp", registered_only: bool = False
    ) -> dict[str, tuple[VStage, Version]]:
        """Each stage's version, as `gto show` chooses it (its defaults: one version per stage,
        every assignment of a version, assignments ordered by time)."""
        versions = self.get_versions(include_non_explicit=not registered_only, by=by)
        assignments = [(a, v) for v in versions for a in v.vstages(ascending=True)]
        if by == "timestamp":
            assignments = _desc(assignments, lambda pair: pair[0].authoring.time)
        stages: dict[str, tuple[VStage, Version]] = {}
        for a, v in assignments:
            stages.setdefault(a.stage, (a, v))
        return stages

    def used_stages(self) -> set[str]:
        """The stages this artifact has a version in (gto's `unique_stages`)."""
        return set(self.current(by="semver"))


def _event_of(record: TagRecord) -> tuple[str, EventName, str | None, str | None] | None:
    parsed = parse_tag(record.name)
    if parsed is None:
        return None
    names: dict[str, EventName] = {
        "register": "registration",
        "deregister": "deregistration",
        "assign": "assignment",
        "unassign": "unassignment",
        "deprecate": "deprecation",
    }
    return parsed.model, names[parsed.kind], parsed.version, parsed.stage


def _make(
    record: TagRecord, artifact: str, name: EventName, version: str | None, stage: str | None
) -> Event:
    return Event(
        name,
        artifact,
        record.time,
        record.offset,
        record.tagger,
        record.email,
        record.message.strip(),
        record.target,
        record.name,
        version,
        stage,
    )


def build_state(
    records: Sequence[TagRecord], commits: Callable[[list[str]], Mapping[str, CommitInfo]]
) -> dict[str, Artifact]:
    """Every artifact of the registry from the repository's tags, indexed as GTO indexes them.

    `records` must be in git's order of tag names (GTO lists them sorted by name before sorting
    them by time). Lightweight tags and tags not of GTO's shape are ignored. `commits` looks up
    the commits whose details can change an answer (see `_commits_that_matter`)."""
    by_name = sorted((r for r in records if r.annotated), key=lambda r: r.name)
    parsed = [(r, e) for r in by_name if (e := _event_of(r)) is not None]
    state: dict[str, Artifact] = {}
    passes: tuple[frozenset[EventName], ...] = (
        frozenset({"deprecation"}),
        frozenset({"registration", "deregistration"}),
        frozenset({"assignment", "unassignment"}),
    )
    for kinds in passes:
        chosen = sorted((p for p in parsed if p[1][1] in kinds), key=lambda p: p[0].time)
        for record, (model, name, named, stage) in chosen:
            version = named
            artifact = state.setdefault(model, Artifact(model))
            if name in ("assignment", "unassignment"):
                found = artifact.find_version(commit=record.target, create=True)
                assert found is not None
                version = found.version
            artifact.add(_make(record, model, name, version, stage))
    # GTO's enrichment pass: each version gets a `commit` event at its commit's time.
    wanted = _commits_that_matter(state)
    infos = commits(sorted(wanted)) if wanted else {}
    for artifact in state.values():
        for v in artifact.versions:
            info = infos.get(v.commit)
            if info is None:
                continue
            v.add(
                Event(
                    event="commit",
                    artifact=artifact.name,
                    time=info.time,
                    offset=info.offset,
                    author=info.author,
                    email=info.email,
                    message=info.message,
                    commit=v.commit,
                    version=v.version,
                )
            )
    return state


def _commits_that_matter(state: Mapping[str, Artifact]) -> set[str]:
    """The commits whose `commit` event can change an answer: those of a deprecated-at-some-point
    model's versions (a commit newer than, or as new as, the deprecation makes GTO call the model
    active again), and those of versions without a registration (their date and author are the
    commit's). Elsewhere the event only joins lists that no answer reads it from (history leaves
    it out), so reading every commit would cost time for nothing."""
    wanted: set[str] = set()
    for artifact in state.values():
        for v in artifact.versions:
            if artifact.deprecations or not v.registrations:
                wanted.add(v.commit)
    return wanted
