"""The positions-keeping YAML reader: values, marks, and every refusal located."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlcode.errors import SpecError
from mlcode.spec.load import load_file
from mlcode.spec.yamlsource import MAX_BYTES, MAX_FLOW_DEPTH, Positions, decode, parse, render_path


def _one(text: str) -> tuple[int, int, str, str]:
    with pytest.raises(SpecError) as info:
        parse(text, "f.yaml")
    [p] = info.value.problems
    return (p.location.line, p.location.column, p.field, p.message)


def test_values_and_positions() -> None:
    src = parse("a: 1\nb:\n  c: [x, {d: 2.5}]\n  e: null\n", "f.yaml")
    assert src.data == {"a": 1, "b": {"c": ["x", {"d": 2.5}], "e": None}}
    pos = src.positions
    assert pos.keys[("b", "c")] == (3, 3)
    assert pos.values[("b", "c")] == (3, 6)
    assert pos.values[("b", "c", 1, "d")] == (3, 14)
    assert pos.locate(("b", "c", 1, "d")).line == 3
    # unknown paths walk up to the closest known parent
    assert pos.locate(("b", "c", 1, "zzz")) == pos.locate(("b", "c", 1))
    assert pos.locate(("b", "missing"), prefer_key=True).column == 1


def test_locate_of_empty_positions_is_line_one() -> None:
    loc = Positions("f.yaml").locate(("x", "y"))
    assert (loc.line, loc.column) == (1, 1)


def test_render_path() -> None:
    assert render_path(("models", "churn", "gates", "metrics", 1, "min")) == (
        "models.churn.gates.metrics[1].min"
    )
    assert render_path(()) == ""
    assert render_path((0, "a")) == "[0].a"


def test_dates_stay_text_and_bom_is_ignored() -> None:
    assert parse("\ufeffa: 2024-01-02\n", "f").data == {"a": "2024-01-02"}


def test_quoted_date_is_text_too() -> None:
    assert parse("a: '2024-01-02'\n", "f").data == {"a": "2024-01-02"}


def test_non_string_scalar_keys_become_their_text() -> None:
    assert parse("1: a\n1.5: b\ntrue: c\n~: d\n", "f").data == {
        "1": "a",
        "1.5": "b",
        "true": "c",
        "~": "d",
    }


def test_duplicate_key_names_both_places() -> None:
    line, col, field, msg = _one("a:\n  b: 1\n  c: 2\n  b: 3\n")
    assert (line, col, field) == (4, 3, "a.b")
    assert "first defined at line 2, column 3" in msg


def test_duplicate_keys_through_different_spellings() -> None:
    line, _, field, _ = _one("1: a\n'1': b\n")
    assert (line, field) == (2, "1")


def test_every_problem_of_a_file_at_once() -> None:
    with pytest.raises(SpecError) as info:
        parse("a: 1\na: 2\nb: !x y\nc: {<<: {d: 1}}\n", "f")
    assert [(p.location.line, p.field) for p in info.value.problems] == [
        (2, "a"),
        (3, "b"),
        (4, "c"),
    ]


@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [
        ("", (1, 1), "file is empty"),
        ("   \n\n", (1, 1), "file is empty"),
        ("# only\n", (1, 1), "file is empty"),
        ("---\n...\n", (1, 1), "file is empty"),
        ("- 1\n", (1, 1), "the document is a list"),
        ("\n\n42\n", (3, 1), "the document is a single value"),
        ("a: 1\n---\nb: 2\n", (3, 1), "several YAML documents"),
        ("a:\n\tb: 1\n", (2, 1), "tab character is used for indentation"),
        ("a: [1\n", (2, 1), "started at line 1, column 4"),
        ("a: b: c\n", (1, 5), "mapping values are not allowed here"),
        ("a: \x07\n", (1, 4), "U+0007"),
        ("a: !!int x\n", (1, 4), "'x' cannot be read as !!int"),
        ("a: !!binary aGk=\n", (1, 4), "YAML tag '!!binary' is not allowed"),
        ("? [1]\n: 2\n", (1, 3), "a mapping key must be a plain string"),
        ("!k a: 1\n", (1, 1), "YAML tag '!k' is not allowed"),
        ("a: &x [*x]\n", (1, 4), "an alias refers to a value that contains it"),
        ("a: &x {b: *x}\n", (1, 4), "an alias refers to a value that contains it"),
    ],
)
def test_refusals_are_located(text: str, where: tuple[int, int], fragment: str) -> None:
    line, col, _, msg = _one(text)
    assert (line, col) == where, msg
    assert fragment in msg


def test_alias_bomb_is_refused_quickly_and_located() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    line, col, _, msg = _one("\n".join(lines) + "\n")
    assert "alias bomb" in msg
    assert line >= 1
    assert col >= 1


def test_deep_flow_nesting_refused_before_parsing() -> None:
    depth = MAX_FLOW_DEPTH + 50
    line, col, _, msg = _one("a: 1\nb: " + "[" * depth + "]" * depth + "\n")
    assert (line, col) == (2, 4 + MAX_FLOW_DEPTH)
    assert "nesting is too deep" in msg


def test_brackets_in_quotes_and_comments_do_not_count() -> None:
    text = "a: '" + "[" * 300 + "'\nb: \"" + "{" * 300 + '"\n# ' + "[" * 300 + "\n"
    assert parse(text, "f").data["a"] == "[" * 300


def test_moderate_flow_nesting_is_fine() -> None:
    depth = MAX_FLOW_DEPTH - 1
    assert parse("a: " + "[" * depth + "]" * depth + "\n", "f").data


def test_deep_block_nesting_is_located() -> None:
    text = "".join(" " * i + f"k{i}:\n" for i in range(700))
    line, col, _, msg = _one(text)
    assert "nesting is too deep" in msg
    assert line > 100
    assert col > 100


def test_decode_refusals() -> None:
    for raw, where, fragment in [
        (b"a: 1\nb: x\x00y\n", (2, 5), "looks binary"),
        (b"a: 1\nb: caf\xe9\n", (2, 7), "not valid UTF-8"),
    ]:
        with pytest.raises(SpecError) as info:
            decode(raw, "f")
        [p] = info.value.problems
        assert (p.location.line, p.location.column) == where
        assert fragment in p.message
    with pytest.raises(SpecError, match="refused"):
        decode(b"#" * (MAX_BYTES + 1), "f")
    assert decode(b"\xef\xbb\xbfa: 1\n", "f") == "a: 1\n"


def test_load_file_refusals(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="file not found"):
        load_file(str(tmp_path / "nope.yaml"))
    with pytest.raises(SpecError, match="is a directory"):
        load_file(str(tmp_path))
    (tmp_path / "x.yaml").write_text("a: 1\n")
    assert load_file(str(tmp_path / "x.yaml"), "shown.yaml").positions.file == "shown.yaml"


def test_load_file_uses_display_name(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("a: [\n")
    with pytest.raises(SpecError) as info:
        load_file(str(tmp_path / "x.yaml"), "shown.yaml")
    assert info.value.problems[0].location.file == "shown.yaml"
    assert str(info.value).startswith("shown.yaml: 1 problem")
