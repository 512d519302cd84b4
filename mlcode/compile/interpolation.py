"""DVC's `${...}` interpolation rules for the commands ml.yaml passes to DVC as written, in pure
Python, so `mlcode validate` reports a command DVC cannot load before apply asks DVC itself.

It mirrors DVC's parser (`dvc.parsing.interpolate`): an expression is found by the same pattern
(`\\${` escapes it); its inside must be a key followed by `.key` or `[key]` parts; the key must
exist in what DVC loads (params.yaml, which mlcode generates, and the stage's inline `vars`); a
list cannot be put into a command. Stages with `vars` files, `foreach` or `matrix` are checked for
syntax only where their values cannot be known without reading files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from mlcode.errors import Problem
from mlcode.spec.model import MlSpec
from mlcode.spec.yamlsource import Path, Positions, render_path

# The same pattern DVC uses to find expressions.
_EXPR = re.compile(r"(?<!\\)\$\{(?P<inner>.*?)\}")
# DVC's grammar of an expression's inside: word ('.' word | '[' word ']')*.
_WORD = r"[^.\[\]]+"
_GRAMMAR = re.compile(rf"{_WORD}(?:\.{_WORD}|\[{_WORD}\])*")
_UNKNOWN = object()


def _commands(spec: MlSpec) -> Iterator[tuple[Path, str, dict[str, Any] | None]]:
    """(where, command, context) for every command DVC interpolates; context None = unknowable."""
    from mlcode.compile.dvc import params_data

    params = params_data(spec)
    for name, model in spec.models.items():
        for step in ("train", "evaluate"):
            own = getattr(model, step)
            if own is not None:
                yield from _each(("models", name, step, "cmd"), own.cmd, params)
    for name, stage in spec.stages.items():
        if stage.foreach is not None or stage.matrix is not None:
            body = stage.do or {}
            cmd = body.get("cmd") if stage.foreach is not None else stage.cmd
            where: Path = (
                ("stages", name, "do", "cmd") if stage.foreach else ("stages", name, "cmd")
            )
            if isinstance(cmd, str | list):
                yield from _each(where, cmd, None)
            continue
        context: dict[str, Any] | None = dict(params)
        for item in stage.vars:
            if isinstance(item, dict) and context is not None:
                context.update(item)
            else:
                context = None  # a vars file: its keys are only known by reading it
        if stage.cmd is not None:
            yield from _each(("stages", name, "cmd"), stage.cmd, context)


def _each(
    where: Path, cmd: str | list[Any], context: dict[str, Any] | None
) -> Iterator[tuple[Path, str, dict[str, Any] | None]]:
    if isinstance(cmd, str):
        yield where, cmd, context
        return
    for i, part in enumerate(cmd):
        if isinstance(part, str):
            yield (*where, i), part, context


def expression_problem(text: str, context: dict[str, Any] | None) -> str | None:
    """Why DVC cannot interpolate `text` with `context` (None: syntax only), or None."""
    for match in _EXPR.finditer(text):
        inner = match["inner"]
        if not _GRAMMAR.fullmatch(inner):
            return f"DVC cannot parse {match[0]!r}: write ${{key}}, ${{key.sub}} or ${{key[0]}}"
        if context is None:
            continue
        value = _select(context, inner)
        if value is _UNKNOWN:
            return (
                f"DVC cannot resolve {match[0]!r}: no such key in params.yaml or the stage's "
                "`vars` (escape a literal as \\${...})"
            )
        if isinstance(value, list):
            return f"DVC cannot put the list {match[0]!r} into a command (name one item)"
    return None


def _select(context: dict[str, Any], inner: str) -> Any:
    value: Any = context
    for raw in inner.replace("[", ".").replace("]", "").split("."):
        key = raw.strip()
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return _UNKNOWN
    return value


def check(spec: MlSpec, positions: Positions) -> list[Problem]:
    """Every command DVC would refuse to load, located in ml.yaml."""
    problems = []
    for where, cmd, context in _commands(spec):
        reason = expression_problem(cmd, context)
        if reason:
            problems.append(Problem(positions.locate(where), render_path(where), reason))
    return problems
