"""Where the data shipped with mlcode lives: stack presets and templates.

In a wheel they sit in `mlcode/_data/`; in a source checkout (editable install) at the top level.
"""

from __future__ import annotations

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
