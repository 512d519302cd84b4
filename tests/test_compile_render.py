"""The safe template renderer: filters escape, misuse fails loudly, templates follow the rules."""

from __future__ import annotations

import re
import shlex
import subprocess

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from mlcode.compile import actions
from mlcode.compile.render import (
    RenderError,
    Trusted,
    comment,
    render_string,
    sh,
    yaml_string,
    yq,
)
from mlcode.resources import data_dir


def _load_value(text: str) -> object:
    return yaml.safe_load(f"key: {text}\n")["key"]


@given(st.text())
def test_yq_round_trips_any_text(value: str) -> None:
    assert _load_value(yq(value, "gitlab" if "$" not in value else "github")) == (
        value.replace("${{", "${{ '${{' }}")
    )


@given(st.text())
def test_yaml_string_round_trips_any_text(value: str) -> None:
    assert _load_value(yaml_string(value)) == value


@pytest.mark.parametrize(
    "value",
    [
        "true",
        "no",
        "on",
        "Off",
        "null",
        "~",
        "3.11",
        "0o17",
        "1_000",
        "-x",
        "a: b",
        "a #b",
        "[x]",
        "{x}",
        "*alias",
        "&anchor",
        "!tag",
        "|",
        ">",
        "'q'",
        '"q"',
        "%x",
        "@x",
        "`x`",
        "line\nbreak",
        "tab\there",
        "\u2028",
        "\x85",
        "\ufeff",
        "😀",
        "",
        " lead",
        "trail ",
    ],
)
def test_yq_keeps_values_as_strings(value: str) -> None:
    text = yq(value, "gitlab")
    assert _load_value(text) == value
    assert yaml.safe_load(f"- {text}\n- next\n") == [value, "next"]
    assert yaml.safe_load(f"[{text}, next]") == [value, "next"]


def test_yq_plain_only_for_unambiguous_words() -> None:
    assert yq("ubuntu-latest") == "ubuntu-latest"
    assert yq("actions/checkout@" + "a" * 40) == "actions/checkout@" + "a" * 40
    assert yq("3.11") == '"3.11"'
    assert yq("yes") == '"yes"'
    assert yq(True) == "true"
    assert yq(7) == "7"
    assert yq(None) == "null"
    assert yq(["a", "b c"]) == '[a, "b c"]'


def test_yq_neutralizes_github_expressions() -> None:
    text = yq("${{ github.event.issue.title }}", "github")
    assert _load_value(text) == "${{ '${{' }} github.event.issue.title }}"
    assert "${{ github" not in _load_value(text)  # type: ignore[operator]


def test_yq_trusted_expression_is_kept() -> None:
    assert _load_value(yq(Trusted("${{ secrets.X }}"), "github")) == "${{ secrets.X }}"


def test_yq_refuses_dollar_for_gitlab() -> None:
    with pytest.raises(RenderError, match="GitLab would expand"):
        yq("$CI_JOB_TOKEN", "gitlab")
    assert _load_value(yq(Trusted("$A"), "gitlab")) == "$A"


def test_yq_refuses_unknown_types() -> None:
    with pytest.raises(RenderError):
        yq(object())


@pytest.mark.parametrize("value", ["$(rm -rf /)", "`id`", "a'b", 'a"b', "a b", "x;y", "-rf", ""])
def test_sh_quotes_one_word(value: str) -> None:
    assert shlex.split(sh(value)) == [value]
    out = subprocess.run(
        ["sh", "-c", f"printf %s {sh(value)}"], capture_output=True, text=True, check=True
    )
    assert out.stdout == value


def test_comment_refuses_newlines_and_odd_text() -> None:
    assert comment("v4.2.2") == "v4.2.2"
    for bad in ("v4\nrun: x", "v4 # x", "a" * 300):
        with pytest.raises(RenderError):
            comment(bad)


def test_render_requires_the_filter() -> None:
    with pytest.raises(RenderError, match="without the `yq` filter"):
        render_string("key: [[ value ]]\n", {"value": "x"}, "github")
    with pytest.raises(RenderError, match="without the `yq` filter"):
        render_string("key: [[ value | sh ]]\n", {"value": "x"}, "github")
    assert render_string("key: [[ value | sh | yq ]]\n", {"value": "a b"}, "github") == (
        "key: \"'a b'\"\n"
    )


def test_render_strict_undefined() -> None:
    with pytest.raises(RenderError, match="undefined"):
        render_string("key: [[ missing | yq ]]\n", {}, "github")


def test_render_has_no_bypass_filters() -> None:
    for name in ("safe", "e", "string", "tojson"):
        with pytest.raises(RenderError):
            render_string(f"key: [[ value | {name} ]]\n", {"value": "x"}, "github")


def test_render_is_sandboxed() -> None:
    with pytest.raises(RenderError):
        render_string("key: [[ value.__class__.__mro__ | yq ]]\n", {"value": "x"}, "github")


def test_github_expressions_in_template_text_are_plain_text() -> None:
    assert render_string("key: ${{ github.token }}\n", {}, "github") == "key: ${{ github.token }}\n"


_OUTPUT = re.compile(r"\[\[.*?\]\]")
# A value goes where a whole YAML key or value goes: after `key: `, after `- `, or as a key.
_VALUE = r"\[\[(?:(?!\]\]).)*\]\]"
# ... or, filtered by `comment`, as the whole text of a comment line.
_WHOLE = re.compile(
    rf"^\s*(?:(?:[\w.-]+: |- (?:[\w.-]+: )?|){_VALUE}(?:: {_VALUE})?(?: # .*)?|# {_VALUE})$"
)


def test_templates_only_print_filtered_whole_values() -> None:
    templates = sorted(data_dir("templates").rglob("*.j2"))
    assert templates
    for path in templates:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in _OUTPUT.finditer(line):
                inner = match.group(0)
                where = f"{path.name}:{number}"
                assert re.search(r"\|\s*(yq|comment)\s*\]\]$", inner), where
                assert "|comment" not in inner.replace(" ", "") or "# " in line, where
            if _OUTPUT.search(line):
                assert _WHOLE.match(line), f"{path.name}:{number}: {line}"


def test_action_pins_are_full_shas() -> None:
    assert set(actions.ACTIONS) == {"actions/checkout", "actions/setup-python", "actions/cache"}
    for name, (sha, tag) in actions.ACTIONS.items():
        assert re.fullmatch(r"[0-9a-f]{40}", sha), name
        assert re.fullmatch(r"v\d+(\.\d+)*", tag), name
    assert actions.pin("actions/checkout").ref == (
        "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"
    )
