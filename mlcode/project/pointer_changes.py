"""Which DVC pointers one commit changes, as targets DVC understands: the narrow question the
pre-push check asks DVC instead of "every object this commit points to".

A `.dvc` file whose outputs changed is its own target; a `dvc.lock` names each stage whose
outputs changed as `DIR/dvc.yaml:STAGE`. Deleted pointers and changes that leave the outputs as
they were (a description, a dependency's hash) add no object to the remote, so they ask nothing.
A pointer that does not parse is handed to DVC whole (the `.dvc` file, or every stage of the
`dvc.yaml` beside a `dvc.lock`): DVC then says what it makes of it. Pure: texts in, targets out.
"""

from __future__ import annotations

from typing import Any

import yaml

_UNPARSABLE = object()


def _load(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except yaml.YAMLError:
        return _UNPARSABLE


def _outs(doc: Any) -> Any:
    return doc.get("outs") if isinstance(doc, dict) else doc


def _stages(doc: Any) -> dict[str, Any] | None:
    """A lock's stages (name → outputs), or None when the text is not a lock DVC wrote."""
    if doc is None:
        return {}
    stages = doc.get("stages") if isinstance(doc, dict) else None
    if not isinstance(stages, dict):
        return None
    return {str(name): _outs(entry) for name, entry in stages.items()}


def changed_targets(path: str, old: str | None, new: str | None) -> list[str]:
    """The DVC targets whose outputs `path` (a `.dvc` file or a `dvc.lock`, `/`-separated)
    changes from text `old` to text `new` (None: the file is absent on that side)."""
    if new is None:
        return []
    after = _load(new)
    if path.endswith(".dvc"):
        before = _load(old)
        parsed = after is not _UNPARSABLE and before not in (_UNPARSABLE, None)
        return [] if parsed and _outs(before) == _outs(after) else [path]
    folder = path[: -len("dvc.lock")]
    pipeline = f"{folder}dvc.yaml"
    new_stages = None if after is _UNPARSABLE else _stages(after)
    before = _load(old)
    old_stages = None if before is _UNPARSABLE else _stages(before)
    if new_stages is None:
        return [pipeline]
    if old_stages is None:
        old_stages = {}
    return [
        f"{pipeline}:{name}"
        for name, outs in new_stages.items()
        if name not in old_stages or old_stages[name] != outs
    ]
