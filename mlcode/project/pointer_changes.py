"""Which DVC pointers one commit changes, as targets DVC understands: the narrow question the
pre-push check asks DVC instead of "every object this commit points to".

A `.dvc` file whose outputs changed is its own target; a `dvc.lock` names each stage whose
outputs changed as `DIR/dvc.yaml:STAGE`. Deleted pointers and changes that leave the outputs as
they were (a description, a dependency's hash) add no object to the remote, so they ask nothing.
A pointer that does not parse is handed to DVC whole (the `.dvc` file, or every stage of the
`dvc.yaml` beside a `dvc.lock`): DVC then says what it makes of it. Pure: texts in, targets out.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class PointedObject:
    """An object a pointer names (`md5` ends in `.dir` for a directory's manifest)."""

    path: str
    md5: str


def _cached(entry: Any) -> tuple[str, bool] | None:
    """A dvc.yaml output declaration → (path, pushed?); None when it is not a plain one."""
    if isinstance(entry, str):
        return entry, True
    if isinstance(entry, dict) and len(entry) == 1:
        path, flags = next(iter(entry.items()))
        flags = flags or {}
        if not isinstance(flags, dict):
            return None
        return str(path), bool(flags.get("cache", True)) and bool(flags.get("push", True))
    return None


def _plain_out(out: Any) -> PointedObject | None:
    """A recorded output (a .dvc file's or a lock's) with a DVC 3 md5, or None."""
    if not isinstance(out, dict) or out.get("hash") != "md5" or not out.get("md5"):
        return None
    return PointedObject(str(out.get("path", "")), str(out["md5"]))


def _dvc_file_objects(text: str | None) -> list[PointedObject] | None:
    doc = _load(text)
    if not isinstance(doc, dict) or doc.get("deps") or not isinstance(doc.get("outs"), list):
        return None  # an import (DVC decides what of it is pushed), or not a plain .dvc file
    kept = [
        out
        for out in doc["outs"]
        if not (isinstance(out, dict) and (out.get("cache") is False or out.get("push") is False))
    ]
    return _all_plain(kept)


def _all_plain(outs: list[Any]) -> list[PointedObject] | None:
    """The objects of `outs`, or None as soon as one is not a plain hashed output."""
    found: list[PointedObject] = []
    for out in outs:
        plain = _plain_out(out)
        if plain is None:
            return None
        found.append(plain)
    return found


def _stage_objects(lock: Any, pipeline: Any, name: str) -> list[PointedObject] | None:
    """The pushed objects of stage `name`: its lock entry's outputs, minus those its dvc.yaml
    declaration marks `cache: false` / `push: false`; None when the declaration is templated
    (vars, foreach, matrix, wdir) or does not account for every recorded output."""
    if not isinstance(pipeline, dict) or "vars" in pipeline or "@" in name:
        return None
    stage = (pipeline.get("stages") or {}).get(name)
    entry = ((lock or {}).get("stages") or {}).get(name) if isinstance(lock, dict) else None
    if not isinstance(stage, dict) or not isinstance(entry, dict) or "wdir" in stage:
        return None
    if "${" in repr(stage):
        return None
    pushed: dict[str, bool] = {}
    for key in ("outs", "metrics", "plots"):
        for declared in stage.get(key) or []:
            parsed = _cached(declared)
            if parsed is None:
                return None
            pushed[parsed[0]] = parsed[1]
    outs = entry.get("outs") or []
    paths = [out.get("path") if isinstance(out, dict) else None for out in outs]
    if not all(isinstance(path, str) and path in pushed for path in paths):
        return None
    return _all_plain([out for out, path in zip(outs, paths, strict=True) if pushed[str(path)]])


def pointed_objects(
    targets: list[str], texts: dict[str, str | None]
) -> tuple[list[PointedObject], list[str]]:
    """The objects of `targets` (from `changed_targets`) that the pointer files' texts name
    outright (`texts`: repository path → text at the commit, `.dvc` files, `dvc.lock` and
    `dvc.yaml`), with their repository paths, and the targets left for DVC to resolve (imports,
    templated pipelines, anything not plainly written as DVC 3 writes it)."""
    objects: list[PointedObject] = []
    left: list[str] = []
    parsed: dict[str, Any] = {}  # each file parsed once, however many of its stages changed

    def load(path: str) -> Any:
        if path not in parsed:
            parsed[path] = _load(texts.get(path))
        return parsed[path]

    for target in targets:
        pipeline, _, name = target.partition(":")
        folder = pipeline[: -len("dvc.yaml")] if name else target.rpartition("/")[0] + "/"
        if not name:
            found = _dvc_file_objects(texts.get(target)) if target.endswith(".dvc") else None
        else:
            found = _stage_objects(load(f"{folder}dvc.lock"), load(pipeline), name)
        if found is None:
            left.append(target)
            continue
        prefix = folder.lstrip("/")
        objects += [PointedObject(f"{prefix}{obj.path}", obj.md5) for obj in found]
    return objects, left
