"""GTO's tag grammar: every kind of tag parses to its event, names mlcode builds parse back to what
built them, other tags are not GTO's, versions order and bump as GTO's semver does."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlcode.errors import UserError
from mlcode.registry.grammar import (
    TagEvent,
    deprecate_tag,
    deregister_tag,
    next_version,
    parse_tag,
    semver_key,
    stage_tag,
    tag_counter,
    unassign_tag,
    version_tag,
)

TABLE = [
    ("iris@v1.2.0", TagEvent("register", "iris", "v1.2.0", None, None, "iris@v1.2.0")),
    ("iris@v1.2.0!", TagEvent("deregister", "iris", "v1.2.0", None, None, "iris@v1.2.0!")),
    ("iris#prod#3", TagEvent("assign", "iris", None, "prod", 3, "iris#prod#3")),
    ("iris#prod!#4", TagEvent("unassign", "iris", None, "prod", 4, "iris#prod!#4")),
    ("iris#prod", TagEvent("assign", "iris", None, "prod", None, "iris#prod")),
    ("iris@deprecated", TagEvent("deprecate", "iris", None, None, None, "iris@deprecated")),
    ("iris@deprecated#5", TagEvent("deprecate", "iris", None, None, 5, "iris@deprecated#5")),
    (
        "models/a=my-model@v2.0.0-rc.1+b.7",
        TagEvent(
            "register",
            "models/a:my-model",
            "v2.0.0-rc.1+b.7",
            None,
            None,
            "models/a=my-model@v2.0.0-rc.1+b.7",
        ),
    ),
    ("a_b#qa/eu#10", TagEvent("assign", "a_b", None, "qa/eu", 10, "a_b#qa/eu#10")),
]


@pytest.mark.parametrize(("name", "event"), TABLE, ids=[t[0] for t in TABLE])
def test_each_kind_of_tag_parses(name: str, event: TagEvent) -> None:
    assert parse_tag(name) == event


@pytest.mark.parametrize(
    "name",
    [
        "v1.0.0",
        "release-2",
        "iris@1.0.0",
        "iris@v01.0.0",
        "iris@v1.0",
        "iris@latest",
        "iris#prod#x",
        "-iris@v1.0.0",
        "iris-@v1.0.0",
        "iris@created",
        "iris@created#3",
        "iris@v1.0.0!!",
        "iris##3",
        "a=b=c@v1.0.0",
        "",
    ],
)
def test_tags_of_other_shapes_are_not_gtos(name: str) -> None:
    assert parse_tag(name) is None


def test_counter_of_a_created_tag_counts_though_it_is_no_event() -> None:
    assert tag_counter("iris@created#3") == ("iris", 3)
    assert tag_counter("d=iris#prod!#9") == ("d:iris", 9)
    assert tag_counter("iris@v1.0.0") is None


def test_builders() -> None:
    assert version_tag("iris", "v1.2.0") == "iris@v1.2.0"
    assert deregister_tag("iris", "v1.2.0") == "iris@v1.2.0!"
    assert stage_tag("iris", "prod", 3) == "iris#prod#3"
    assert unassign_tag("models:iris", "prod", 4) == "models=iris#prod!#4"
    assert deprecate_tag("iris") == "iris@deprecated"


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: version_tag("iris", "1.2.0"), "not a valid registry version"),
        (lambda: version_tag("-iris", "v1.2.0"), "not a valid model name"),
        (lambda: version_tag("iris x", "v1.2.0"), "not a valid model name"),
        (lambda: stage_tag("iris", "pro d", 1), "not a valid stage name"),
    ],
)
def test_bad_names_are_refused_clearly(call: object, match: str) -> None:
    with pytest.raises(UserError, match=match):
        call()  # type: ignore[operator]


name = st.from_regex(r"\A[a-zA-Z0-9]([a-zA-Z0-9_/-]{0,10}[a-zA-Z0-9])?\Z")
model = st.one_of(
    name, st.builds(lambda d, n: f"{d}:{n}", st.from_regex(r"\A[a-z0-9_./-]{1,8}\Z"), name)
)
number = st.integers(0, 10**6).map(str)
prerelease = st.lists(
    st.one_of(number, st.from_regex(r"\A[0-9]*[a-zA-Z-][0-9a-zA-Z-]{0,4}\Z")),
    min_size=1,
    max_size=3,
).map(".".join)
version = st.builds(
    lambda a, b, c, pre: f"v{a}.{b}.{c}" + (f"-{pre}" if pre else ""),
    number,
    number,
    number,
    st.one_of(st.none(), prerelease),
)


@given(model=model, version=version, stage=name, counter=st.integers(1, 10**6))
def test_round_trip(model: str, version: str, stage: str, counter: int) -> None:
    assert parse_tag(version_tag(model, version)) == TagEvent(
        "register", model, version, None, None, version_tag(model, version)
    )
    assert parse_tag(deregister_tag(model, version)) == TagEvent(
        "deregister", model, version, None, None, deregister_tag(model, version)
    )
    tag = stage_tag(model, stage, counter)
    assert parse_tag(tag) == TagEvent("assign", model, None, stage, counter, tag)
    tag = unassign_tag(model, stage, counter)
    assert parse_tag(tag) == TagEvent("unassign", model, None, stage, counter, tag)
    assert parse_tag(deprecate_tag(model)) == TagEvent(
        "deprecate", model, None, None, None, deprecate_tag(model)
    )


@given(a=version, b=version)
def test_semver_order_is_the_semver_packages(a: str, b: str) -> None:
    import semver  # what GTO sorts with

    expected = semver.Version.parse(a[1:]).compare(b[1:])
    ka, kb = semver_key(a), semver_key(b)
    assert (ka > kb) - (ka < kb) == expected


@pytest.mark.parametrize(
    ("current", "bump", "expected"),
    [
        (None, "patch", "v0.0.1"),  # `gto register`'s first version (its default bump: patch)
        (None, "minor", "v0.1.0"),
        (None, "major", "v1.0.0"),
        ("v1.2.3", "patch", "v1.2.4"),
        ("v1.2.3", "minor", "v1.3.0"),
        ("v1.2.3", "major", "v2.0.0"),
        ("v1.2.3-rc.1+b", "minor", "v1.3.0"),
    ],
)
def test_next_version(current: str | None, bump: str, expected: str) -> None:
    assert next_version(current, bump) == expected  # type: ignore[arg-type]


@given(current=version, bump=st.sampled_from(["major", "minor", "patch"]))
def test_next_version_is_gtos_bump(current: str, bump: str) -> None:
    from gto.versions import SemVer

    gto_next = getattr(SemVer(current), f"bump_{bump}")().version
    assert next_version(current, bump) == gto_next  # type: ignore[arg-type]
    assert semver_key(gto_next) > semver_key(current)


def test_for_each_ref_output_parses_messages_with_any_text() -> None:
    """Records are NUL-separated; a message may hold newlines, tabs and '%' and a tag may lack a
    tagger line (old tags): nothing shifts."""
    from mlcode.registry.read import parse_records

    sha = "a" * 40
    rows = [
        [
            "refs/tags/iris@v1.0.0",
            "tag",
            sha,
            "Ada",
            "<ada@x>",
            "1790000000 +0130",
            "two\nlines\t%\n",
        ],
        ["refs/tags/iris#prod#1", "tag", sha, "", "", "", "no tagger\n"],
        ["refs/tags/light", "commit", "", "", "", "", "commit message\n"],
    ]
    raw = "".join("\0".join(row) + "\0\n" for row in rows).encode()
    records = parse_records(raw)
    assert [r.name for r in records] == ["iris@v1.0.0", "iris#prod#1", "light"]
    assert records[0].message == "two\nlines\t%\n"
    assert (records[0].time, records[0].offset, records[0].email) == (1790000000, 90, "ada@x")
    assert (records[1].annotated, records[1].time) == (True, 0)
    assert records[2].annotated is False
