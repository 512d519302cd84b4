"""Turn pydantic's validation errors into located, readable problems.

Each problem names file:line:column, the field path as a user writes it
(`models.churn.gates.metrics[1].min`), what was expected and what was found; unknown keys get a
"did you mean" from the fields the model really has at that place.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from mlcode.errors import Problem
from mlcode.spec.yamlsource import Path, Positions, render_path

_MISSING = object()


def _clean_path(loc: tuple[Any, ...], data: Any, kind: str) -> tuple[Path, bool]:
    """Keep only the parts of a pydantic loc that are real data paths; say if it points at a key.

    Only a missing field or an unknown key may name a part that is not in the data; any other
    unmatched part is a union member's tag (`str`, `list[str]`, `function-after[...]`).
    """
    out: list[str | int] = []
    node: Any = data
    is_key = False
    parts = list(loc)
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "[key]":
            is_key = True
            continue
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        ):
            out.append(part)
            node = node[part]
        elif last and isinstance(node, dict) and kind in ("missing", "extra_forbidden"):
            out.append(part)  # a missing field or an unknown key
            node = _MISSING
        # else: a union member tag such as 'str' or 'function-after[...]': not a data path
    return tuple(out), is_key


def _unwrap(annotation: Any) -> list[Any]:
    """The concrete types an annotation may hold (Optional/Union/Annotated unwrapped)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for arg in typing.get_args(annotation):
            out.extend(_unwrap(arg))
        return out
    return [annotation]


def allowed_keys(root: type[BaseModel], path: Path) -> list[str]:
    """Field names of the model found at `path` below `root` (empty when it is not a model)."""
    candidates: list[Any] = [root]
    for part in path:
        nxt: list[Any] = []
        for cand in candidates:
            origin = typing.get_origin(cand)
            if isinstance(cand, type) and issubclass(cand, BaseModel):
                field = cand.model_fields.get(str(part))
                if field is not None:
                    nxt.extend(_unwrap(field.annotation))
            elif origin is dict:
                nxt.extend(_unwrap(typing.get_args(cand)[1]))
            elif origin is list:
                nxt.extend(_unwrap(typing.get_args(cand)[0]))
        candidates = nxt
    keys: list[str] = []
    for cand in candidates:
        if isinstance(cand, type) and issubclass(cand, BaseModel):
            keys.extend(cand.model_fields)
    return keys


def _found(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    kind = type(value).__name__
    names = {
        "str": "a string",
        "int": "a number",
        "float": "a number",
        "bool": "a boolean",
        "list": "a list",
        "dict": "a mapping",
        "NoneType": "nothing (null)",
    }
    if isinstance(value, dict | list):
        return names[kind]
    if value is None:
        return names["NoneType"]
    return f"{names.get(kind, kind)} {text}"


def _message(err: Any) -> tuple[str, str | None]:
    """(what is expected or wrong, what was found) of one pydantic error."""
    kind = err["type"]
    msg: str = err["msg"]
    if kind == "missing":
        return "required field is missing", None
    if msg.startswith("Value error, "):
        return msg[len("Value error, ") :], None
    if msg.startswith("Input should be "):
        msg = "expected " + msg[len("Input should be ") :]
    elif msg.startswith("Input "):
        msg = "expected input " + msg[len("Input ") :]
    elif kind == "string_pattern_mismatch":
        msg = f"expected text matching the pattern {err['ctx']['pattern']}"
    elif kind == "string_too_short":
        msg = "expected a non-empty string"
    elif kind == "string_too_long":
        msg = f"expected at most {err['ctx']['max_length']} characters"
    for wordy, plain in _PLAIN.items():
        msg = msg.replace(wordy, plain)
    return msg, _found(err.get("input"))


_PLAIN = {
    "a valid dictionary": "a mapping",
    "a valid list": "a list",
    "a valid string": "a string",
    "a valid integer": "a whole number",
    "a valid number": "a number",
    "a valid boolean": "a boolean (true or false)",
    ", unable to interpret input": "",
    ", unable to parse string as a number": "",
    ", got a number with a fractional part": " (found a fraction)",
}


def problems_from(
    exc: ValidationError, data: Any, positions: Positions, root: type[BaseModel]
) -> list[Problem]:
    """Every error of `exc` as a located Problem, merged per field, in file order."""
    merged: dict[tuple[Path, bool], list[str]] = {}
    found_at: dict[tuple[Path, bool], str] = {}
    for err in exc.errors(include_url=False):
        path, is_key = _clean_path(err["loc"], data, err["type"])
        if err["type"] == "extra_forbidden":
            key = str(path[-1]) if path else ""
            options = [k for k in allowed_keys(root, path[:-1]) if k != key]
            close = difflib.get_close_matches(key, options, n=1, cutoff=0.6)
            text = f"unknown key {key!r}"
            text += f"; did you mean {close[0]!r}?" if close else ""
            if options:
                text += f" (allowed here: {', '.join(options)})"
            merged.setdefault((path, True), []).append(text)
            continue
        text, found = _message(err)
        if err["type"] == "missing":
            is_key = True  # point at the key of the mapping that lacks the field
        bucket = merged.setdefault((path, is_key), [])
        if found is not None:
            found_at[(path, is_key)] = found
            if (
                text.startswith("expected ")
                and bucket
                and bucket[-1].startswith(("expected ", "or "))
            ):
                text = "or " + text[len("expected ") :]
        if text not in bucket:
            bucket.append(text)
    problems = []
    for (path, is_key), texts in merged.items():
        message = texts[0]
        for t in texts[1:]:
            message += (" " if t.startswith("or ") else "; ") + t
        if (path, is_key) in found_at:
            message += f"; found {found_at[(path, is_key)]}"
        location = positions.locate(path, prefer_key=is_key)
        problems.append(Problem(location, render_path(path), message))
    problems.sort(key=lambda p: (p.location.line, p.location.column, p.field))
    return problems
