"""The in-place YAML editor: only the changed values move, comments and layout stay."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mlcode.errors import UserError
from mlcode.spec.values import same
from mlcode.spec.yamledit import apply_edits, render, set_value

TEXT = """\
# top comment
models:
  m:   # the model
    params: {a: 1, b: 'x'}   # flow
    split:
      seed: 42      # the seed
      test_size: 0.2
    metrics:
      - accuracy    # first
      - f1

    empty: {}
    bare:
    note: |
      keep
      this
  # trailing comment of models
other: [1, 2]
"""


def edit(path: tuple[str | int, ...], value: Any, text: str = TEXT) -> str:
    return apply_edits(text, [(path, value)])


def test_scalar_in_a_flow_mapping_keeps_the_rest_of_the_line() -> None:
    out = edit(("models", "m", "params", "a"), 50)
    assert out == TEXT.replace("{a: 1, b: 'x'}", "{a: 50, b: 'x'}")


def test_scalar_in_a_block_mapping_keeps_its_comment() -> None:
    out = edit(("models", "m", "split", "seed"), 7)
    assert out == TEXT.replace("seed: 42      # the seed", "seed: 7      # the seed")


def test_new_key_in_a_flow_mapping() -> None:
    out = edit(("models", "m", "params", "c"), 0.5)
    assert out == TEXT.replace("{a: 1, b: 'x'}", "{a: 1, b: 'x', c: 0.5}")
    assert edit(("models", "m", "empty", "k"), True) == TEXT.replace("{}", "{k: true}")


def test_new_key_in_a_block_mapping_matches_its_indentation() -> None:
    out = edit(("models", "m", "split", "stratify"), False)
    assert out == TEXT.replace(
        "      test_size: 0.2\n", "      test_size: 0.2\n      stratify: false\n"
    )


def test_new_key_after_a_block_list_and_a_block_scalar() -> None:
    out = edit(("models", "m", "gates"), {"x": 1})
    assert out == TEXT.replace("      this\n", "      this\n    gates: {x: 1}\n")
    text = "a:\n  - 1\n  - 2  # two\n# end\n"
    assert apply_edits(text, [(("b",), "y")]) == "a:\n  - 1\n  - 2  # two\nb: y\n# end\n"


def test_missing_mappings_on_the_way_are_added() -> None:
    out = edit(("models", "n", "params", "a"), 1)
    assert yaml.safe_load(out)["models"]["n"] == {"params": {"a": 1}}
    assert out.startswith(TEXT.split("  # trailing", maxsplit=1)[0])


def test_whole_lists_and_empty_values() -> None:
    out = edit(("models", "m", "metrics"), ["f1"])
    assert yaml.safe_load(out)["models"]["m"]["metrics"] == ["f1"]
    assert "# trailing comment of models" in out
    assert edit(("other",), [3]) == TEXT.replace("[1, 2]", "[3]")
    assert edit(("models", "m", "bare"), 3) == TEXT.replace("    bare:\n", "    bare: 3\n")


def test_a_value_under_a_scalar_is_refused() -> None:
    with pytest.raises(UserError, match=r"models\.m\.split\.seed is not a mapping"):
        set_value(TEXT, ("models", "m", "split", "seed", "x"), 1)


def test_an_alias_is_refused_rather_than_edited_through() -> None:
    text = "base: &b {a: 1}\nm:\n  params: *b\n"
    with pytest.raises(UserError, match=r"make the change in ml\.yaml by hand"):
        apply_edits(text, [(("m", "params", "a"), 2)])


def test_render_quotes_what_would_read_as_another_type() -> None:
    for value in ["yes", "1e3", "null", "", "a: b", "#x", "2024-01-01", True, None, 1e-05]:
        assert same(yaml.safe_load(render(value)), value, ordered=False)


scalars = st.one_of(
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]), max_size=30),
)
paths = st.sampled_from(
    [
        ("models", "m", "params", "a"),
        ("models", "m", "params", "new"),
        ("models", "m", "split", "seed"),
        ("models", "m", "split", "new"),
        ("models", "m", "empty", "new"),
        ("models", "m", "new"),
        ("models", "m", "note"),
        ("new",),
    ]
)


@settings(max_examples=150, deadline=None)
@given(edits=st.lists(st.tuples(paths, scalars), min_size=1, max_size=4))
def test_edits_read_back_and_keep_every_comment(edits: list[tuple[tuple[str, ...], Any]]) -> None:
    out = apply_edits(TEXT, edits)
    comments = [line.split("#", 1)[1] for line in TEXT.splitlines() if "#" in line]
    for comment in comments:
        assert comment in out
    data = yaml.safe_load(out)
    for path, value in dict(edits).items():
        node = data
        for part in path:
            node = node[part]
        assert same(node, value, ordered=False)
