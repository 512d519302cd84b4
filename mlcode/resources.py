"""Where the data shipped with mlcode lives: stack presets and templates.

In a wheel they sit in `mlcode/_data/`; in a source checkout (editable install) at the top level.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(kind: str) -> Path:
    """The folder of shipped `stacks` or `templates`."""
    installed = _PACKAGE / "_data" / kind
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / kind


def stack_presets() -> dict[str, Path]:
    """Preset name → stack file."""
    folder = data_dir("stacks")
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def is_stack_path(value: str) -> bool:
    """A `stack:` value naming a file rather than a preset."""
    return "/" in value or "\\" in value or value.endswith((".yaml", ".yml"))


@cache
def templates_digest() -> str:
    """sha256 of the shipped templates (each file's path and bytes), read once per process.

    Generated files depend on them as much as on ml.yaml and the stack: with this digest in the
    inputs hash, a template changed without a version bump (an editable checkout, a patched
    install) leaves plan's and check's fast path instead of passing stale files as in sync.
    """
    folder = data_dir("templates")
    h = hashlib.sha256()
    for path in sorted(
        p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    ):
        for part in (path.relative_to(folder).as_posix().encode("utf-8"), path.read_bytes()):
            h.update(len(part).to_bytes(8, "big"))
            h.update(part)
    return h.hexdigest()
