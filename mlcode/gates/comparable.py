"""Whether a champion's recorded metrics are comparable with the candidate's (pure: text in).

They are only when both were measured on a byte-identical test set: the test split's hash that
DVC recorded in `dvc.lock` at the champion's commit equals the one in the current `dvc.lock`. A
changed dataset, split seed, test size or prepare step changes the split's bytes and so its hash.
A lock that cannot be read or does not record the split means "not known to be identical", which
is treated as changed (the champion is re-scored rather than trusted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TestSet:
    """The comparison of the two test splits: `same` only when both hashes are known and equal.

    `why` says in a few words what was found (for the table's note).
    """

    same: bool
    champion_hash: str | None
    current_hash: str | None
    why: str


def out_hash(lock_text: str | None, path: str) -> str | None:
    """The hash `dvc.lock` records for the output `path` of any stage (None when it records none
    or the text is not a readable lock)."""
    import yaml

    if lock_text is None:
        return None
    try:  # every scalar as text: an md5 of digits only must not become a number
        doc = yaml.load(lock_text, Loader=yaml.BaseLoader)  # noqa: S506 - BaseLoader builds no objects
    except yaml.YAMLError:
        return None
    stages = doc.get("stages") if isinstance(doc, dict) else None
    if not isinstance(stages, dict):
        return None
    for stage in stages.values():
        outs = stage.get("outs") if isinstance(stage, dict) else None
        for out in outs if isinstance(outs, list) else []:
            if isinstance(out, dict) and out.get("path") == path:
                return _hash(out)
    return None


def _hash(out: dict[str, Any]) -> str | None:
    kind = out.get("hash", "md5")
    value = out.get(kind) if isinstance(kind, str) else None
    if value is None:
        value = out.get("md5") or out.get("etag") or out.get("checksum")
    return f"{kind}:{value}" if isinstance(value, str) and value else None


def compare(champion_lock: str | None, current_lock: str | None, test_split: str) -> TestSet:
    """Compare the test split `test_split` as the two locks record it."""
    theirs = out_hash(champion_lock, test_split)
    ours = out_hash(current_lock, test_split)
    if theirs is None:
        where = "has no dvc.lock" if champion_lock is None else "records no hash for it"
        return TestSet(False, None, ours, f"the champion's commit {where} ({test_split})")
    if ours is None:
        return TestSet(False, theirs, None, f"the current dvc.lock records no {test_split}")
    if theirs == ours:
        return TestSet(True, theirs, ours, "test set unchanged")
    return TestSet(False, theirs, ours, f"the test set changed since the champion ({test_split})")
