"""mlcode's registry reader against GTO itself: the same repositories (tags written at chosen
instants with git, or by GTO), the same answers as `gto show` and `gto history` — which version is
latest, which is current in each stage, the versions of a model, the journal — including ties
within one second, reassignments, deregistered and unassigned versions, deprecated models,
subfolder (`dir:name`) models, lightweight tags and tags of other shapes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlcode.errors import UserError
from mlcode.registry.read import read_registry
from tests.registry_repos import (
    T0,
    commit,
    gto_history,
    gto_show,
    gto_versions,
    init,
    lightweight,
    tag,
)


def assert_same_as_gto(repo: Path) -> None:
    registry = read_registry(repo)
    assert registry.show() == gto_show(repo)
    assert [e.to_json() for e in registry.history()] == gto_history(repo)
    for model in {*registry.artifacts, *gto_show(repo)}:
        assert registry.show_model(model) == gto_versions(repo, model), model
        assert [e.to_json() for e in registry.history(model)] == gto_history(repo, model)


def basic(repo: Path, t: Callable[[int], int]) -> None:
    c1 = commit(repo, "one", t(0))
    tag(repo, "iris@v0.0.1", c1, t(0))
    tag(repo, "iris#prod#1", c1, t(0))
    c2 = commit(repo, "two", t(1))
    tag(repo, "iris@v0.1.0", c2, t(1))
    tag(repo, "iris#staging#2", c2, t(1))


def reassign(repo: Path, t: Callable[[int], int]) -> None:
    c1 = commit(repo, "one", t(0))
    c2 = commit(repo, "two", t(0))
    tag(repo, "iris@v1.0.0", c1, t(0))
    tag(repo, "iris@v1.1.0", c2, t(1))
    tag(repo, "iris#prod#1", c1, t(1))
    tag(repo, "iris#prod#2", c2, t(2))
    tag(repo, "iris#prod#3", c1, t(3))  # roll back
    tag(repo, "iris#dev#4", c2, t(3))


def deregistered(repo: Path, t: Callable[[int], int]) -> None:
    c1 = commit(repo, "one", t(0))
    c2 = commit(repo, "two", t(0))
    tag(repo, "iris@v1.0.0", c1, t(0))
    tag(repo, "iris#prod#1", c1, t(0))
    tag(repo, "iris@v2.0.0", c2, t(1))
    tag(repo, "iris#prod#2", c2, t(1))
    tag(repo, "iris@v2.0.0!", c2, t(2))


def unassigned(repo: Path, t: Callable[[int], int]) -> None:
    c1 = commit(repo, "one", t(0))
    c2 = commit(repo, "two", t(0))
    tag(repo, "iris@v1.0.0", c1, t(0))
    tag(repo, "iris#prod#1", c1, t(0))
    tag(repo, "iris@v1.0.1", c2, t(1))
    tag(repo, "iris#prod#2", c2, t(1))
    tag(repo, "iris#prod!#3", c2, t(2))
    tag(repo, "iris#staging#4", c2, t(2))
    tag(repo, "iris#staging!#5", c2, t(2))


def deprecated(repo: Path, t: Callable[[int], int]) -> None:
    c1 = commit(repo, "one", t(0))
    tag(repo, "old@v0.0.1", c1, t(0))
    tag(repo, "old#archive#1", c1, t(0))
    tag(repo, "old@deprecated", c1, t(1))
    tag(repo, "iris@v0.0.1", c1, t(1))
    tag(repo, "iris#prod#1", c1, t(1))


def subfolder_and_noise(repo: Path, t: Callable[[int], int]) -> None:
    c1 = commit(repo, "one", t(0))
    c2 = commit(repo, "two", t(1))
    tag(repo, "models=iris@v0.0.1", c1, t(0))
    tag(repo, "models/sub=wine@v3.0.0", c1, t(0))
    tag(repo, "models=iris#prod#1", c1, t(1))
    tag(repo, "models=iris@v0.1.0", c2, t(1))
    lightweight(repo, "models=iris#prod#7", c2)  # ignored, as GTO ignores it
    lightweight(repo, "models=iris@v9.0.0", c2)
    for other in ("v1.0", "release-2", "iris@1.0.0", "iris@v01.0.0", "iris@latest", "x#y#z"):
        tag(repo, other, c2, t(1))


def prereleases(repo: Path, t: Callable[[int], int]) -> None:
    names = ["v1.0.0-rc.1", "v1.0.0", "v1.0.0-alpha", "v1.0.0-rc.10", "v0.9.0+build.5", "v1.0.0-1"]
    for i, version in enumerate(names):
        sha = commit(repo, version, t(i))
        tag(repo, f"iris@{version}", sha, t(0))
    tag(repo, "iris#prod#1", sha, t(0))


def commit_without_version(repo: Path, t: Callable[[int], int]) -> None:
    c1 = commit(repo, "one", t(0))
    c2 = commit(repo, "two", t(1))
    tag(repo, "iris@v0.0.1", c1, t(0))
    tag(repo, "iris#prod#1", c1, t(0))
    tag(repo, "iris#dev#2", c2, t(1))  # GTO shows the commit itself as the version
    tag(repo, "iris#prod", c2, t(2))  # GTO's counter-less stage tag


SCENARIOS = [
    basic,
    reassign,
    deregistered,
    unassigned,
    deprecated,
    subfolder_and_noise,
    prereleases,
    commit_without_version,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
@pytest.mark.parametrize("spacing", [0, 1, 60], ids=["same-second", "1s-apart", "1min-apart"])
def test_scenario_reads_as_gto_reads_it(
    tmp_path: Path, scenario: Callable[[Path, Callable[[int], int]], None], spacing: int
) -> None:
    repo = init(tmp_path / "repo")
    scenario(repo, lambda i: T0 + i * spacing)
    assert_same_as_gto(repo)


def test_a_lightweight_tag_is_ignored_but_its_counter_counts(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    sha = commit(repo, "one")
    tag(repo, "iris@v0.0.1", sha)
    lightweight(repo, "iris#prod#7", sha)
    registry = read_registry(repo)
    assert registry.stages("iris") == {}
    assert registry.next_counter("iris") == 8


def test_gto_written_registry_reads_the_same(tmp_path: Path) -> None:
    """Tags written by GTO's own register/assign/unassign/deregister/deprecate, within a second or
    two of each other, as a promotion writes them."""
    import gto.api

    repo = init(tmp_path / "repo")
    c1 = commit(repo, "one")
    r = str(repo)
    gto.api.register(r, "iris", "HEAD")
    gto.api.assign(r, "iris", "prod", version="v0.0.1")
    c2 = commit(repo, "two", T0 + 5)
    gto.api.register(r, "iris", c2, bump_minor=True)
    gto.api.assign(r, "iris", "staging", version="v0.1.0")
    gto.api.assign(r, "iris", "prod", version="v0.1.0")
    gto.api.register(r, "models:wine", c1)
    gto.api.assign(r, "models:wine", "prod", version="v0.0.1")
    gto.api.unassign(r, "iris", version="v0.1.0", stage="staging")
    commit(repo, "three", T0 + 9)
    gto.api.register(r, "old", "HEAD")
    gto.api.deregister(r, "iris", version="v0.0.1")
    gto.api.deprecate(r, "old")
    registry = read_registry(repo)
    assert registry.current("iris", "prod") is not None
    assert registry.next_counter("iris") == 5
    assert_same_as_gto(repo)


def test_two_versions_on_one_commit_with_a_stage_is_refused_like_gto(tmp_path: Path) -> None:
    import gto.api

    repo = init(tmp_path / "repo")
    sha = commit(repo, "one")
    tag(repo, "iris@v1.0.0", sha)
    tag(repo, "iris@v2.0.0", sha)
    tag(repo, "iris#prod#1", sha)
    with pytest.raises(Exception, match=r"ManyVersions|versions"):
        gto.api.show(str(repo), table=False)
    with pytest.raises(UserError, match="several versions"):
        read_registry(repo)


# Random registries: operations on two models (one in a subfolder) at instants drawn from a
# few seconds, so most events tie, compared with GTO's reading of the same tags.
MODELS = ("iris", "dir=wine")
VERSIONS = ("v0.1.0", "v0.2.0", "v1.0.0", "v1.0.0-rc.1")
STAGES = ("prod", "staging")

operation = st.tuples(
    st.sampled_from(["register", "deregister", "assign", "unassign", "deprecate"]),
    st.sampled_from(MODELS),
    st.integers(0, 2),  # commit
    st.sampled_from(VERSIONS),
    st.sampled_from(STAGES),
    st.integers(0, 3),  # seconds after T0
)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=st.lists(operation, min_size=1, max_size=12))
def test_random_registries_read_as_gto_reads_them(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, str, int, str, str, int]]
) -> None:
    repo = init(tmp_path_factory.mktemp("random") / "repo")
    commits = [commit(repo, f"c{i}", T0) for i in range(3)]
    counters = dict.fromkeys(MODELS, 0)
    made: set[str] = set()
    for kind, model, c, version, stage, dt in ops:
        if kind in ("assign", "unassign"):
            counters[model] += 1
            name = f"{model}#{stage}{'!' if kind == 'unassign' else ''}#{counters[model]}"
        elif kind == "deprecate":
            name = f"{model}@deprecated"
        else:
            name = f"{model}@{version}{'!' if kind == 'deregister' else ''}"
        if name in made:
            continue
        made.add(name)
        tag(repo, name, commits[c], T0 + dt)
    try:
        gto_show(repo)
    except Exception as exc:  # GTO refuses this registry: mlcode must refuse it too
        if type(exc).__name__ != "ManyVersions":
            raise
        with pytest.raises(UserError):
            read_registry(repo).show()
        return
    assert_same_as_gto(repo)


def test_api_answers_agree_with_gto(tmp_path: Path) -> None:
    """The typed API (what promote and the gates call) says what `gto show` says."""
    repo = init(tmp_path / "repo")
    reassign(repo, lambda i: T0 + i)
    registry = read_registry(repo)
    show = gto_show(repo)["iris"]
    assert [v.version for v in registry.versions("iris")] == ["v1.0.0", "v1.1.0"]
    latest = registry.latest("iris")
    assert latest is not None
    assert latest.version == show["version"] == "v1.1.0"
    assert latest.tag == "iris@v1.1.0"
    assert len(latest.commit) == 40
    assert latest.created.timestamp() == T0 + 1
    assert {s: v.version for s, v in registry.stages("iris").items()} == {
        s: v for s, v in show["stage"].items() if v
    }
    current = registry.current("iris", "prod")
    assert current is not None
    assert current.version == "v1.0.0"  # rolled back by iris#prod#3
    assert registry.current("iris", "nope") is None
    assert registry.next_counter("iris") == 5
    assert registry.next_counter("unknown") == 1
    assert registry.history("iris")[0].tag in {"iris#prod#3", "iris#dev#4"}
    assert registry.models() == ("iris",)
    assert registry.latest("unknown") is None
    assert registry.versions("unknown") == ()
