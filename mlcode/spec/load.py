"""Load ml.yaml and its stack: read (bounded) → parse with positions → schema → semantic checks →
resolved stack. The file reading of `mlcode.spec` happens here; the rest of the package is pure.

`load_project` is the one entry point commands use; it raises SpecError carrying every located
problem of the file at once.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from mlcode.errors import Location, Problem, SpecError
from mlcode.resources import is_stack_path, stack_presets
from mlcode.spec import semantic
from mlcode.spec.locate import problems_from
from mlcode.spec.model import MlSpec, rel_path
from mlcode.spec.stack import Stack
from mlcode.spec.yamlsource import MAX_BYTES, Positions, Source, decode, parse

SPEC_FILE = "ml.yaml"


def _file_error(file: str, message: str) -> SpecError:
    return SpecError([Problem(Location(file), "", message)])


def load_file(path: str, display: str | None = None) -> Source:
    """Read and parse a YAML file; every failure is a SpecError naming the file.

    The read is bounded before it starts: only a regular file is opened for reading (a FIFO
    cannot hang, a device cannot stream forever), and never more than MAX_BYTES + 1 bytes.
    """
    from mlcode.adapters.fs import ReadRefused, read_bounded

    name = display or path
    try:
        raw = read_bounded(path, MAX_BYTES)
    except FileNotFoundError:
        raise _file_error(name, "file not found") from None
    except ReadRefused as exc:
        if exc.size is not None:
            raise _file_error(
                name,
                f"file {exc.reason}; a configuration file over {MAX_BYTES:,} bytes is refused "
                "(is this really the right file?)",
            ) from None
        raise _file_error(name, f"{exc.reason} (mlcode reads only regular files here)") from None
    except OSError as exc:
        raise _file_error(name, f"cannot read file: {exc.strerror}") from None
    return parse(decode(raw, name), name)


@dataclass(frozen=True)
class Project:
    """A validated ml.yaml with its resolved stack."""

    root: Path
    spec: MlSpec
    stack: Stack
    positions: Positions


def parse_spec(source: Source) -> MlSpec:
    """Schema-validate a parsed ml.yaml, raising every located problem at once."""
    try:
        return MlSpec.model_validate(source.data)
    except ValidationError as exc:
        raise SpecError(problems_from(exc, source.data, source.positions, MlSpec)) from None


def parse_stack(source: Source) -> Stack:
    """Schema-validate a parsed stack file."""
    try:
        return Stack.model_validate(source.data)
    except ValidationError as exc:
        raise SpecError(problems_from(exc, source.data, source.positions, Stack)) from None


def resolve_stack(spec: MlSpec, root: Path, positions: Positions) -> Stack:
    """The Stack named by `spec.stack`: a preset, or the team's own file relative to the repo."""
    where = positions.locate(("stack",))
    if is_stack_path(spec.stack):
        try:
            rel_path(spec.stack)
        except ValueError as exc:
            raise SpecError([Problem(where, "stack", f"stack file: {exc}")]) from None
        path = (root / spec.stack).resolve()
        if not path.exists():
            raise SpecError([Problem(where, "stack", f"stack file {spec.stack!r} not found")])
        return parse_stack(load_file(str(path), spec.stack))
    presets = stack_presets()
    if spec.stack not in presets:
        import difflib

        close = difflib.get_close_matches(spec.stack, list(presets), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise SpecError(
            [
                Problem(
                    where,
                    "stack",
                    f"unknown stack {spec.stack!r}{hint} (presets: {', '.join(presets)}; "
                    "or give a path to your own stack file)",
                )
            ]
        )
    return parse_stack(load_file(str(presets[spec.stack]), f"stacks/{spec.stack}.yaml"))


def load_project(root: Path, *, deep: bool = False) -> Project:
    """Load, validate and resolve `root/ml.yaml`; raise SpecError with every problem found."""
    path = root / SPEC_FILE
    source = load_file(str(path), SPEC_FILE)
    spec = parse_spec(source)
    problems = semantic.check(spec, source.positions)
    stack: Stack | None = None
    try:
        stack = resolve_stack(spec, root, source.positions)
    except SpecError as exc:
        problems.extend(exc.problems)
    if stack is not None:
        problems.extend(semantic.stack_problems(spec, stack.ci, source.positions))
    if deep:
        problems.extend(check_imports(spec, source.positions))
    if problems:
        raise SpecError(problems)
    assert stack is not None
    return Project(root=root, spec=spec, stack=stack, positions=source.positions)


def check_imports(spec: MlSpec, positions: Positions) -> list[Problem]:
    """Import every estimator for real (`validate --deep`); slow, so only on request."""
    problems: list[Problem] = []
    for name, model in spec.models.items():
        if model.estimator is None:
            continue
        module_name, _, attr = model.estimator.rpartition(".")
        where: Location = positions.locate(("models", name, "estimator"))
        field = f"models.{name}.estimator"
        try:
            module = importlib.import_module(module_name)
        except (Exception, SystemExit) as exc:
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            problems.append(Problem(where, field, f"cannot import {module_name!r}: {reason}"))
            continue
        obj = getattr(module, attr, None)
        if obj is None:
            problems.append(Problem(where, field, f"module {module_name!r} has no {attr!r}"))
        elif not isinstance(obj, type) or not hasattr(obj, "fit"):
            problems.append(
                Problem(where, field, f"{model.estimator!r} is not an estimator class with fit()")
            )
    return problems


def load_project_text(
    root: Path,
    spec_raw: bytes,
    read_file: Callable[[str], bytes | None],
    *,
    missing: str = "not found",
) -> Project:
    """Like `load_project`, but from ml.yaml's bytes, with the team's own stack file read through
    `read_file(path)` (None: absent, reported as `stack file PATH {missing}`). `mlcode check`
    gives git's staged versions, so it validates exactly what the commit holds."""
    source = parse(decode(spec_raw, SPEC_FILE), SPEC_FILE)
    spec = parse_spec(source)
    problems = semantic.check(spec, source.positions)
    stack: Stack | None = None
    try:
        if is_stack_path(spec.stack):
            where = source.positions.locate(("stack",))
            try:
                rel_path(spec.stack)
            except ValueError as exc:
                raise SpecError([Problem(where, "stack", f"stack file: {exc}")]) from None
            raw = read_file(spec.stack)
            if raw is None:
                raise SpecError([Problem(where, "stack", f"stack file {spec.stack!r} {missing}")])
            stack = parse_stack(parse(decode(raw, spec.stack), spec.stack))
        else:
            stack = resolve_stack(spec, root, source.positions)
    except SpecError as exc:
        problems.extend(exc.problems)
    if stack is not None:
        problems.extend(semantic.stack_problems(spec, stack.ci, source.positions))
    if problems:
        raise SpecError(problems)
    assert stack is not None
    return Project(root=root, spec=spec, stack=stack, positions=source.positions)
