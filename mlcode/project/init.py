"""`mlcode init`: write a new project at the repository root: ml.yaml, the JSON Schema editors
read, and with an example its data. Every check comes before the first write, and the data is
written before ml.yaml, so an interrupted init never leaves an ml.yaml without its data.
"""

from __future__ import annotations

from pathlib import Path

from mlcode.errors import UserError
from mlcode.project.scaffold import EXAMPLES

SPEC_FILE = "ml.yaml"


def write_project(
    root: Path, *, stack: str, example: str | None, project: str | None, force: bool
) -> list[str]:
    """Write the project's files at `root`; returns their paths (the schema file aside)."""
    from mlcode.adapters.fs import atomic_write
    from mlcode.project.scaffold import project_name, render_spec
    from mlcode.resources import is_stack_path, stack_presets
    from mlcode.spec import names
    from mlcode.spec.jsonschema import SCHEMA_FILE, ml_schema_text

    if not is_stack_path(stack) and stack not in stack_presets():
        raise UserError(
            f"unknown stack {stack!r}; presets: {', '.join(stack_presets())} "
            "(or give a path to your own stack file)"
        )
    name = project or project_name(root.name)
    if not names.NAME.match(name):
        raise UserError(f"invalid project name {name!r}: use {names.NAME_RULE}")
    files: dict[str, str] = {}
    numeric: tuple[str, ...] = ()
    if example is not None:
        from mlcode.project.examples import build

        data = build(example)
        files.update(data.files)
        numeric = data.numeric
    files[SPEC_FILE] = render_spec(name, stack, EXAMPLES[example] if example else None, numeric)
    existing = [p for p in files if (root / p).exists()]
    if existing and not force:
        raise UserError(
            f"refusing to overwrite {', '.join(existing)} in {root}; use --force to replace them"
        )
    for rel in sorted(files, key=lambda p: p == SPEC_FILE):  # data first, ml.yaml last
        atomic_write(root / rel, files[rel])
    atomic_write(root / SCHEMA_FILE, ml_schema_text())
    return sorted(files)
