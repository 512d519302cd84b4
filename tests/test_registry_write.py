"""mlcode's registry writer: annotated tags GTO reads as registrations and stage assignments, the
counter GTO would pick, and GTO's refusals as clear errors that leave every tag as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlcode.errors import UserError
from mlcode.registry.read import read_registry
from mlcode.registry.write import assign, register
from tests.registry_repos import T0, commit, git, gto_history, gto_show, init, lightweight, tag


def tags(repo: Path) -> str:
    return git(repo, "for-each-ref", "--format=%(refname) %(objectname) %(objecttype)", "refs/tags")


def test_register_and_assign_are_read_by_gto(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    c1 = commit(repo, "one")
    c2 = commit(repo, "two", T0 + 1)
    assert register(repo, "iris", "v0.1.0", c1, "first") == "iris@v0.1.0"
    assert assign(repo, "iris", "prod", "v0.1.0", "to prod") == "iris#prod#1"
    assert register(repo, "models:wine", "v1.0.0", "HEAD", "wine") == "models=wine@v1.0.0"
    assert register(repo, "iris", "v0.2.0", c2, "second") == "iris@v0.2.0"
    assert assign(repo, "iris", "staging", "v0.2.0", "to staging") == "iris#staging#2"
    assert assign(repo, "iris", "prod", "v0.2.0", "to prod") == "iris#prod#3"
    assert assign(repo, "iris", "prod", "v0.1.0", "roll back") == "iris#prod#4"
    assert git(repo, "cat-file", "-t", "iris#prod#4") == "tag"  # annotated
    assert git(repo, "rev-parse", "iris#prod#4^{commit}") == c1
    show = gto_show(repo)
    assert show["iris"]["version"] == "v0.2.0"
    assert show["iris"]["stage"] == {"prod": "v0.1.0", "staging": "v0.2.0"}
    assert show["models:wine"]["version"] == "v1.0.0"
    assert [e["message"] for e in gto_history(repo, "iris")][:1] == ["roll back"]
    assert read_registry(repo).show() == show


def test_counter_follows_gtos_count_including_lightweight_tags(tmp_path: Path) -> None:
    import gto.api

    repo = init(tmp_path / "repo")
    sha = commit(repo, "one")
    register(repo, "iris", "v0.0.1", sha, "m")
    lightweight(repo, "iris#dev#6", sha)
    tag(repo, "iris@deprecated#2", sha)  # a numbered tag of another kind counts too
    tag(repo, "other#prod#9", sha)  # another model's does not
    ours = assign(repo, "iris", "prod", "v0.0.1", "m")
    git(repo, "tag", "-d", ours)
    theirs = gto.api.assign(str(repo), "iris", "prod", version="v0.0.1").tag
    assert ours == theirs == "iris#prod#7"


@pytest.mark.parametrize(
    ("setup", "call", "match"),
    [
        ("taken", lambda r, c: register(r, "iris", "v0.1.0", c[1], "m"), "already"),
        ("deregistered", lambda r, c: register(r, "iris", "v0.1.0", c[1], "m"), "already"),
        ("taken", lambda r, c: register(r, "iris", "v0.2.0", c[0], "m"), "already holds"),
        ("taken", lambda r, c: register(r, "iris", "0.2.0", c[1], "m"), "not a valid"),
        ("taken", lambda r, c: register(r, "iris", "v0.2.0", "nope", "m"), "not a commit"),
        ("taken", lambda r, c: assign(r, "iris", "prod", "v0.9.0", "m"), "not registered"),
        ("deregistered", lambda r, c: assign(r, "iris", "prod", "v0.1.0", "m"), "not registered"),
        ("taken", lambda r, c: assign(r, "iris", "prod", "v0.1.0", "m"), "already in stage"),
        ("taken", lambda r, c: assign(r, "iris", "pr od", "v0.1.0", "m"), "not a valid stage"),
    ],
)
def test_refusals_change_no_tag(tmp_path: Path, setup: str, call: object, match: str) -> None:
    repo = init(tmp_path / "repo")
    commits = [commit(repo, "one"), commit(repo, "two", T0 + 1)]
    tag(repo, "iris@v0.1.0", commits[0])
    if setup == "deregistered":
        tag(repo, "iris@v0.1.0!", commits[0], T0 + 1)
    else:
        tag(repo, "iris#prod#1", commits[0])
    before = tags(repo)
    with pytest.raises(UserError, match=match):
        call(repo, commits)  # type: ignore[operator]
    assert tags(repo) == before


def test_next_version_skips_every_taken_number(tmp_path: Path) -> None:
    """GTO's own bump starts from the highest active version, so after a deregistration it
    proposes a number whose tag exists; mlcode bumps past every version ever tagged."""
    import gto.api

    from mlcode.errors import UserError as Refused

    repo = init(tmp_path / "repo")
    c1, c2 = commit(repo, "one"), commit(repo, "two", T0 + 1)
    tag(repo, "iris@v0.1.0", c1)
    tag(repo, "iris@v0.2.0", c2)
    tag(repo, "iris@v0.2.0!", c2, T0 + 1)
    lightweight(repo, "iris@v0.3.0", c2)
    registry = read_registry(repo)
    assert registry.taken_versions("iris") == ("v0.1.0", "v0.2.0", "v0.3.0")
    assert registry.next_version("iris") == "v0.4.0"
    assert registry.next_version("iris", "patch") == "v0.3.1"
    assert registry.next_version("new") == "v0.1.0"
    c3 = commit(repo, "three", T0 + 2)
    with pytest.raises(Exception, match="exists"):  # GTO's bump collides
        gto.api.register(str(repo), "iris", c3, bump_minor=True)
    with pytest.raises(Refused, match="already"):
        register(repo, "iris", "v0.3.0", c3, "m")
    assert register(repo, "iris", registry.next_version("iris"), c3, "m") == "iris@v0.4.0"
