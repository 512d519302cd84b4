"""Edit values of a YAML text in place, keeping every other byte (comments, order, layout).

PyYAML's composer gives each node its exact start and end in the text: a changed value is
rewritten over its own span, a new key is added at the end of its mapping (`, key: value` in a
flow mapping, a new line at the mapping's indentation in a block mapping). Values are written in
flow style on one line. The result is parsed again and must hold exactly the old data with the
edits applied, or nothing is returned.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import yaml

from mlcode.errors import UserError
from mlcode.spec.values import same
from mlcode.spec.yamlsource import render_path

Path = tuple[str | int, ...]


def render(value: Any) -> str:
    """`value` as one line of flow-style YAML that PyYAML's safe loader reads back as `value`."""
    text = yaml.dump(
        [value],
        Dumper=yaml.SafeDumper,
        default_flow_style=True,
        width=1_000_000_000,
        allow_unicode=True,
        sort_keys=False,
    )
    if not (text.startswith("[") and text.endswith("]\n")) or "\n" in text[:-1]:
        raise UserError(f"cannot write {value!r} on one line of ml.yaml; edit ml.yaml by hand")
    return text[1:-2]


def _end(node: yaml.Node, text: str) -> int:
    """Where the node's own text ends (a block collection: where its last value ends, before
    any comment or blank line that follows)."""
    block = isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style
    if block and node.value:
        last = node.value[-1]
        return _end(last[1] if isinstance(node, yaml.MappingNode) else last, text)
    end: int = node.end_mark.index
    if isinstance(node, yaml.ScalarNode) and node.style in ("|", ">"):
        end = node.start_mark.index + len(text[node.start_mark.index : end].rstrip())
    return end


def _nest(path: Path, value: Any) -> Any:
    for part in reversed(path):
        value = {part: value}
    return value


def set_value(text: str, path: Path, value: Any) -> str:
    """`text` with the value at `path` set to `value` (missing mappings on the way are added)."""
    node: yaml.Node | None = yaml.compose(text, Loader=yaml.SafeLoader)
    for i, part in enumerate(path):
        if isinstance(node, yaml.MappingNode):
            child = next(
                (v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part),
                None,
            )
            if child is None:
                return _insert(text, node, str(part), _nest(path[i + 1 :], value))
            node = child
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
        else:
            raise UserError(
                f"cannot set {render_path(path)} in ml.yaml: {render_path(path[:i]) or 'the file'} "
                "is not a mapping there; edit ml.yaml by hand"
            )
    if node is None:
        raise UserError("ml.yaml is empty; nothing to edit")
    start: int = node.start_mark.index
    if isinstance(node, yaml.ScalarNode) and node.value == "" and node.style is None:
        return text[:start] + " " + render(value) + text[start:]  # `key:` with no value
    return text[:start] + render(value) + text[_end(node, text) :]


def _insert(text: str, mapping: yaml.MappingNode, key: str, value: Any) -> str:
    entry = f"{render(key)}: {render(value)}"
    if mapping.flow_style:
        if not mapping.value:
            close: int = mapping.end_mark.index - 1
            return text[:close] + entry + text[close:]
        at = _end(mapping.value[-1][1], text)
        return text[:at] + ", " + entry + text[at:]
    column: int = mapping.value[0][0].start_mark.column
    indent = " " * column
    line_end = text.find("\n", _end(mapping.value[-1][1], text))
    if line_end < 0:
        return text + "\n" + indent + entry + "\n"
    return text[: line_end + 1] + indent + entry + "\n" + text[line_end + 1 :]


def _unshared(data: Any) -> Any:
    """A copy in which no two places share an object (an alias becomes its own copy)."""
    if isinstance(data, dict):
        return {k: _unshared(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_unshared(v) for v in data]
    return data


def _assign(data: Any, path: Path, value: Any) -> None:
    for part in path[:-1]:
        data = data.setdefault(part, {}) if isinstance(data, dict) else data[part]
    data[path[-1]] = value


def apply_edits(text: str, edits: Iterable[tuple[Path, Any]]) -> str:
    """`text` with every (path, value) set, checked to read back as exactly that data."""
    expected = _unshared(yaml.safe_load(text))
    out = text
    for path, value in edits:
        out = set_value(out, path, value)
        _assign(expected, path, copy.deepcopy(value))
    try:
        got = yaml.safe_load(out)
    except yaml.YAMLError:
        got = None
    if not same(got, expected, ordered=False):
        raise UserError(
            "cannot edit ml.yaml in place so that it keeps its layout (anchors, aliases or an "
            "unusual layout near the changed keys); make the change in ml.yaml by hand"
        )
    return out
