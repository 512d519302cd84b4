"""The manifest of generated files (`.mlcode/manifest.json`): which files mlcode owns and the hash
each had when it was written, plus the hash of the inputs they were compiled from.

It lets `plan` delete files that are no longer generated, detect hand edits, and lets `check` skip
compiling when nothing changed since the last apply.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

MANIFEST_VERSION = 1


def sha256_text(text: str | bytes) -> str:
    """Hex sha256 of text (UTF-8) or bytes."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Manifest:
    """Generated files by path → sha256, and the inputs' hash they came from."""

    files: dict[str, str] = field(default_factory=dict)
    inputs: str = ""
    mlcode_version: str = ""
    datasets: tuple[str, ...] = ()  # dataset paths (must never be staged into git)

    def to_text(self) -> str:
        """Stable JSON text."""
        data = {
            "version": MANIFEST_VERSION,
            "mlcode_version": self.mlcode_version,
            "inputs": self.inputs,
            "files": dict(sorted(self.files.items())),
            "datasets": sorted(self.datasets),
        }
        return json.dumps(data, indent=2, sort_keys=True) + "\n"


def parse_manifest(text: str | None) -> Manifest:
    """A manifest from its JSON text; an absent or unreadable one is empty (owns nothing)."""
    if not text:
        return Manifest()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return Manifest()
    if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
        return Manifest()
    files = data.get("files")
    if not isinstance(files, dict):
        files = {}
    return Manifest(
        files={str(k): str(v) for k, v in files.items()},
        inputs=str(data.get("inputs", "")),
        mlcode_version=str(data.get("mlcode_version", "")),
        datasets=tuple(str(d) for d in data.get("datasets", []) if isinstance(d, str)),
    )


def inputs_hash(spec_text: bytes, stack_text: bytes, version: str, templates: str) -> str:
    """Hash of everything generated files depend on: ml.yaml, the stack file, mlcode's version
    and the digest of its shipped templates (`mlcode.resources.templates_digest`)."""
    h = hashlib.sha256()
    for part in (version.encode(), templates.encode(), spec_text, stack_text):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()
