"""Are the generated files in sync with ml.yaml? The manifest's fast answer, without parsing or
compiling: ml.yaml, the stack file and mlcode are those of the last apply, and every generated file
still has the hash the manifest recorded.

Shared by `plan` (`in_sync_fast`, the working tree) and `check` (`in_sync` on what git's index
holds). Light on purpose: no pydantic, dvc, pandas or scikit-learn.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from mlcode import __version__
from mlcode.project.manifest import Manifest, inputs_hash, sha256_text

SPEC_FILE = "ml.yaml"
# Generated files of a 1,000-model project stay far below this; anything larger is not ours.
_MAX_WORKTREE_BYTES = 64 * 1024 * 1024


def _read(path: Path) -> bytes | None:
    """A working-tree file's bytes; None when absent or not a regular file of sane size (a FIFO or
    device named ml.yaml must never hang the hook)."""
    from mlcode.adapters.fs import ReadRefused, read_bounded

    try:
        return read_bounded(path, _MAX_WORKTREE_BYTES)
    except (ReadRefused, FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def stack_name(spec_text: bytes) -> str:
    """The `stack:` value, found without a full parse (fast path only)."""
    m = re.search(rb"^stack:\s*['\"]?([^'\"#\s]+)", spec_text, re.MULTILINE)
    return m.group(1).decode("utf-8", "replace") if m else "local"


def preset_bytes(name: str) -> bytes | None:
    """The bytes of the shipped stack preset `name`; None when there is no such preset."""
    from mlcode.resources import stack_presets

    preset = stack_presets().get(name)
    return _read(preset) if preset else None


def _stack_bytes(root: Path, spec_text: bytes) -> bytes | None:
    """The stack file's bytes on disk, found from `stack:` without a full parse."""
    from mlcode.resources import is_stack_path

    name = stack_name(spec_text)
    return _read(root / name) if is_stack_path(name) else preset_bytes(name)


def current_inputs(spec: bytes, stack: bytes) -> str:
    """The inputs hash of this ml.yaml and stack with this mlcode (version and shipped templates)."""
    from mlcode.resources import templates_digest

    return inputs_hash(spec, stack, __version__, templates_digest())


def in_sync(
    manifest: Manifest,
    spec: bytes | None,
    stack: bytes | None,
    digests: Mapping[str, str | None],
    templates: str,
) -> bool:
    """True when ml.yaml, the stack and mlcode (its version and the digest of its shipped
    `templates`) are those of the last apply and every generated file still has the sha256 the
    manifest recorded (`digests`: path → sha256, None when absent), so compiling would give them
    back. Pure."""
    if spec is None or stack is None or not manifest.inputs:
        return False
    if manifest.mlcode_version != __version__:
        return False
    if inputs_hash(spec, stack, __version__, templates) != manifest.inputs:
        return False
    return all(digests.get(path) == digest for path, digest in manifest.files.items())


def in_sync_fast(root: Path, manifest: Manifest) -> bool:
    """`in_sync` for the working tree (what `plan` compares against)."""
    spec = _read(root / SPEC_FILE)
    if spec is None:
        return False
    digests: dict[str, str | None] = {}
    for path in manifest.files:
        data = _read(root / path)
        digests[path] = None if data is None else sha256_text(data)
    from mlcode.resources import templates_digest

    return in_sync(manifest, spec, _stack_bytes(root, spec), digests, templates_digest())
