"""Parse YAML into plain Python values while remembering where every key and value came from.

PyYAML's composer gives a node tree with marks; we convert it ourselves so that we can refuse
duplicate keys, merge keys, custom tags and alias bombs, and keep a map from each data path
(`("models", "churn", "split", "seed")`) to its line and column.

Pure: bytes or text in, values with positions out. Reading a file is `mlcode.spec.load.load_file`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from mlcode.errors import Location, Problem, SpecError

MAX_BYTES = 1_000_000
MAX_NODES = 200_000
MAX_FLOW_DEPTH = 100
_TIMESTAMP = "tag:yaml.org,2002:timestamp"

Path = tuple[str | int, ...]

_STANDARD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


@dataclass
class Positions:
    """Where each data path sits in the source: the value's mark and, for mapping entries, the key's."""

    file: str
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: Path, *, prefer_key: bool = False) -> Location:
        """The closest known location of `path` (walking up to its parents when unknown)."""
        probe = tuple(path)
        while True:
            table = (self.keys, self.values) if prefer_key else (self.values, self.keys)
            for t in table:
                if probe in t:
                    line, col = t[probe]
                    return Location(self.file, line, col)
            if not probe:
                return Location(self.file, 1, 1)
            probe = probe[:-1]


@dataclass
class Source:
    """A parsed YAML document: its data and the positions of everything in it."""

    data: Any
    positions: Positions


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Converter:
    def __init__(self, file: str) -> None:
        self.positions = Positions(file)
        self.problems: list[Problem] = []
        self.count = 0
        self._scalar = yaml.SafeLoader("")
        self._open: set[int] = set()  # ids of the collections being converted (alias cycles)

    def _problem(self, node: yaml.Node, path: Path, message: str) -> None:
        line, col = _mark(node)
        self.problems.append(
            Problem(Location(self.positions.file, line, col), render_path(path), message)
        )

    def convert(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig(_mark(node))
        self.positions.values.setdefault(path, _mark(node))
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            if id(node) in self._open:
                self._problem(node, path, "an alias refers to a value that contains it (a cycle)")
                return None
            self._open.add(id(node))
            try:
                if isinstance(node, yaml.MappingNode):
                    return self._mapping(node, path)
                if node.tag not in _STANDARD_TAGS:
                    self._problem(node, path, _tag_message(node.tag))
                return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
            finally:
                self._open.discard(id(node))
        assert isinstance(node, yaml.ScalarNode)
        if node.tag == _TIMESTAMP and node.style is None:
            return node.value  # a plain date-like value (`2024-01-01`) is text here, not a date
        if node.tag not in _STANDARD_TAGS:
            self._problem(node, path, _tag_message(node.tag))
            return node.value
        return self._construct(node, path)

    def _construct(self, node: yaml.ScalarNode, path: Path) -> Any:
        """The Python value of a standard-tagged scalar (`!!int abc` is a problem, not a crash)."""
        try:
            return self._scalar.construct_object(node, deep=True)
        except (ValueError, KeyError, ArithmeticError, yaml.YAMLError):
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self._problem(node, path, f"{node.value!r} cannot be read as {tag}")
            return node.value

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        if node.tag not in _STANDARD_TAGS:
            self._problem(node, path, _tag_message(node.tag))
        out: dict[str, Any] = {}
        seen: dict[str, tuple[int, int]] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self._problem(
                    key_node,
                    path,
                    "YAML merge keys ('<<') are not supported in this file; write the keys out",
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(key_node, path, "a mapping key must be a plain string")
                continue
            if key_node.tag == _TIMESTAMP:
                raw_key: Any = key_node.value
            elif key_node.tag not in _STANDARD_TAGS:
                self._problem(key_node, path, _tag_message(key_node.tag))
                continue
            else:
                raw_key = self._construct(key_node, path)
            key = raw_key if isinstance(raw_key, str) else key_node.value
            if not isinstance(raw_key, str) and raw_key is not None:
                key = str(key_node.value)
            child = (*path, key)
            if key in seen:
                line, col = seen[key]
                self._problem(
                    key_node,
                    child,
                    f"duplicate key {key!r} (first defined at line {line}, column {col}); "
                    "YAML would silently keep only the last one",
                )
                continue
            seen[key] = _mark(key_node)
            self.positions.keys[child] = _mark(key_node)
            out[key] = self.convert(value_node, child)
        return out


def _tag_message(tag: str) -> str:
    shown = tag.replace("tag:yaml.org,2002:", "!!")
    return (
        f"YAML tag {shown!r} is not allowed (only plain strings, numbers, booleans, null, lists "
        "and mappings)"
    )


class _TooBig(Exception):
    def __init__(self, mark: tuple[int, int]) -> None:
        super().__init__(mark)
        self.mark = mark


def render_path(path: Path) -> str:
    """`("models", "churn", "gates", "metrics", 1, "min")` → `models.churn.gates.metrics[1].min`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif text:
            text += f".{part}"
        else:
            text = str(part)
    return text


def _fail(file: str, message: str, line: int = 0, column: int = 0) -> SpecError:
    return SpecError([Problem(Location(file, line, column), "", message)])


def decode(raw: bytes, file: str) -> str:
    """Bytes of a config file → text, refusing huge, binary and non-UTF-8 content."""
    if len(raw) > MAX_BYTES:
        raise _fail(
            file,
            f"file is {len(raw):,} bytes; a configuration file over {MAX_BYTES:,} bytes is refused "
            "(is this really the right file?)",
        )
    if b"\x00" in raw:
        line, col = _byte_position(raw, raw.index(b"\x00"))
        raise _fail(
            file, "file looks binary (it contains NUL bytes); expected YAML text", line, col
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, col = _byte_position(raw, exc.start)
        raise _fail(
            file, f"file is not valid UTF-8 (byte {exc.start}); save it as UTF-8", line, col
        ) from None
    return text


def _byte_position(raw: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (counted in bytes) of byte `offset`."""
    line_start = raw.rfind(b"\n", 0, offset) + 1
    return raw.count(b"\n", 0, offset) + 1, offset - line_start + 1


def parse(text: str, file: str) -> Source:
    """Parse one YAML document with positions, or raise SpecError with located problems."""
    if not text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()
    ):
        raise _fail(file, "file is empty; expected a YAML mapping", 1, 1)
    deep = _flow_too_deep(text)
    if deep is not None:
        raise _fail(
            file,
            f"YAML nesting is too deep (more than {MAX_FLOW_DEPTH} levels of [ ] and {{ }}); "
            "flatten the structure",
            *deep,
        )
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, text, file) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise _fail(
            file,
            f"the character U+{code:04X} (a control or special character) is not allowed in "
            "YAML; remove it",
            line,
            col,
        ) from None
    except yaml.YAMLError as exc:  # pragma: no cover - PyYAML marks every other error
        raise _fail(file, f"YAML error: {exc}", 1, 1) from None
    except RecursionError:
        raise _too_deep(text, file) from None
    nodes = [n for n in nodes if n is not None and not _is_empty(n)]
    if not nodes:
        raise _fail(file, "file is empty; expected a YAML mapping", 1, 1)
    if len(nodes) > 1:
        line, col = _mark(nodes[1])
        raise _fail(
            file, "file holds several YAML documents ('---'); expected exactly one", line, col
        )
    root = nodes[0]
    if not isinstance(root, yaml.MappingNode):
        line, col = _mark(root)
        kind = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
        raise _fail(
            file, f"the document is {kind}; expected a mapping of keys to values", line, col
        )
    conv = _Converter(file)
    try:
        data = conv.convert(root, ())
    except _TooBig as exc:
        raise _fail(
            file,
            f"document expands to more than {MAX_NODES:,} values (an alias bomb?); "
            "write the values out instead of repeating aliases",
            *exc.mark,
        ) from None
    except RecursionError:
        raise _too_deep(text, file) from None
    if conv.problems:
        raise SpecError(conv.problems)
    return Source(data, conv.positions)


def _flow_too_deep(text: str) -> tuple[int, int] | None:
    """Where `[`/`{` nesting first exceeds MAX_FLOW_DEPTH, found in one linear pass.

    PyYAML's scanner takes quadratic time in the flow nesting depth (a few kilobytes of brackets
    take seconds), so deep flow nesting is refused before parsing. Quoted scalars and comments are
    skipped; brackets inside plain scalars count, which only matters for absurd files.
    """
    if text.count("[") + text.count("{") <= MAX_FLOW_DEPTH:
        return None
    depth = 0
    line, line_start = 1, 0
    quote = ""
    prev = "\n"  # the previous character that is not a space, on this line
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line, line_start, prev = line + 1, i + 1, "\n"
            i += 1
            continue
        if quote:
            if quote == '"' and c == "\\":
                i += 2
                continue
            if c == quote:
                if quote == "'" and text.startswith("''", i):
                    i += 2
                    continue
                quote, prev = "", c
            i += 1
            continue
        if c == "#" and (i == line_start or text[i - 1] in " \t"):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if c in "\"'" and prev in "\n:,[{-?":
            quote = c
        elif c in "[{":
            depth += 1
            if depth > MAX_FLOW_DEPTH:
                return line, i - line_start + 1
        elif c in "]}":
            depth = max(depth - 1, 0)
        if c not in " \t":
            prev = c
        i += 1
    return None


def _too_deep(text: str, file: str) -> SpecError:
    """Locate the deepest point of the nesting (the event parser itself is not recursive)."""
    depth = deepest = 0
    line, col = 1, 1
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > deepest:
                    deepest = depth
                    mark = event.start_mark
                    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:  # pragma: no cover - the text parsed before
        pass
    return _fail(
        file, f"YAML nesting is too deep ({deepest} levels); flatten the structure", line, col
    )


def _is_empty(node: yaml.Node) -> bool:
    """A document with nothing in it (`---` alone composes to an empty null scalar)."""
    return isinstance(node, yaml.ScalarNode) and node.value == "" and node.style is None


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, file: str) -> SpecError:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 0
    col = mark.column + 1 if mark else 0
    problem = exc.problem or "syntax error"
    lines = text.splitlines()
    bad_line = lines[line - 1] if 0 < line <= len(lines) else ""
    if "\t" in bad_line[: len(bad_line) - len(bad_line.lstrip())]:
        message = "a tab character is used for indentation; YAML allows only spaces"
    elif "found character '\\t'" in problem:
        message = "a tab character where YAML expects a space; use spaces"
    else:
        message = f"YAML syntax error: {problem}"
        if exc.context:
            message += f" ({exc.context}"
            start = exc.context_mark
            if start is not None and exc.problem_mark is not None and start != exc.problem_mark:
                message += f" started at line {start.line + 1}, column {start.column + 1}"
            message += ")"
    return _fail(file, message, line, col)
