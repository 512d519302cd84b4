"""DVC experiments and params.yaml: what an experiment changed, and where in ml.yaml it belongs.

Pure: parsed documents in, changes and ml.yaml edits out. `dvc exp run -S` and `dvc exp apply`
rewrite params.yaml (DVC writes YAML 1.2 with ruamel); `read_params` reads it as DVC does, so a
value like `1e-05` is the float DVC meant, not PyYAML 1.1's string. Light: PyYAML only, since
`mlcode check` calls `explain`.

How a model's section of params.yaml is built from ml.yaml is `mlcode.compile.dvc.params_data`;
`source_path` is its inverse, key by key. A key it cannot place has no source in ml.yaml.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from mlcode.errors import UserError
from mlcode.layout import PARAMS_FILE
from mlcode.spec.values import same
from mlcode.spec.yaml12 import load_yaml12

if TYPE_CHECKING:
    from mlcode.project.plan import FileChange

Key = tuple[str | int, ...]


class _Missing:
    """A key absent on one side of a diff."""

    def __repr__(self) -> str:
        return "<absent>"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Change:
    """One params.yaml key whose value differs: `old` from ml.yaml's compile, `new` on disk."""

    key: Key
    old: Any
    new: Any

    @property
    def name(self) -> str:
        """The dotted key, as `dvc exp run -S` spells it (`iris.params.n_estimators`)."""
        return dotted(self.key)


@dataclass(frozen=True)
class Edit:
    """Set `path` of ml.yaml to `value` (the path may not exist yet)."""

    path: Key
    value: Any


def dotted(key: Key) -> str:
    """`("iris", "metrics", 1)` → `iris.metrics[1]`."""
    out = ""
    for part in key:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def read_params(text: str) -> Any:
    """A params.yaml document, read with YAML 1.2's rules (DVC's)."""
    return load_yaml12(text)


# --- diffing ---------------------------------------------------------------------------------


def diff(old: Any, new: Any, key: Key = ()) -> list[Change]:
    """Every leaf key whose value differs, in `new`'s order (then keys only `old` has).

    Mappings are compared key by key; anything else that differs (a list too) is one change of
    the whole value.
    """
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[Change] = []
        for k in [*new, *(k for k in old if k not in new)]:
            out.extend(diff(old.get(k, MISSING), new.get(k, MISSING), (*key, k)))
        return out
    if old is not MISSING and new is not MISSING and same(old, new, ordered=False):
        return []
    return [Change(key, old, new)]


def experiment_changes(generated: Any, current: Any) -> list[Change] | None:
    """The changes when `current` differs from `generated` only in values under model sections
    (what an experiment does to params.yaml), else None."""
    if not isinstance(generated, dict) or not isinstance(current, dict):
        return None
    if list(generated) != list(current):
        return None
    changes = diff(generated, current)
    if any(len(c.key) < 2 for c in changes):
        return None
    return changes


def explain(generated_text: str | None, disk_text: str | None) -> str | None:
    """The message for a params.yaml that holds an experiment's params, or None when it is not
    that (absent, unreadable, or changed beyond values under model sections)."""
    if generated_text is None or disk_text is None:
        return None
    try:
        changes = experiment_changes(read_params(generated_text), read_params(disk_text))
    except yaml.YAMLError:
        return None
    if not changes:
        return None
    return (
        f"params.yaml holds experiment params (changed keys {names(changes)}): run "
        "`mlcode params pull` to keep them in ml.yaml, or `mlcode apply --force` to discard them"
    )


def names(changes: list[Change], limit: int = 8) -> str:
    """The changed keys, at most `limit` of them, then how many more."""
    shown = ", ".join(c.name for c in changes[:limit])
    more = len(changes) - limit
    return shown + (f" and {more} more" if more > 0 else "")


# --- params.yaml key → ml.yaml path ----------------------------------------------------------

_DATASET_KEYS = ("path", "format", "target", "id_column", "time_column")
_FEATURE_KEYS = ("numeric", "categorical")
_SPLIT_KEYS = ("test_size", "seed", "stratify")
_DRIFT_KEYS = ("method", "threshold", "max_drifted_share")
_COLUMN_KEYS = ("method", "threshold", "ignore")


def source_path(key: Key, spec: Any) -> Key | None:
    """Where in ml.yaml (raw data `spec`) the params.yaml `key` comes from, or None."""
    models = spec.get("models") if isinstance(spec, dict) else None
    if len(key) < 2 or not isinstance(models, dict) or key[0] not in models:
        return None
    model, section, rest = str(key[0]), key[1], key[2:]
    raw = models[model] if isinstance(models[model], dict) else {}
    base: Key = ("models", model)
    if section in ("task", "estimator", "metrics") and not rest:
        return (*base, section)
    if section == "params" and rest:
        return (*base, "params", *rest)
    if section == "split" and len(rest) == 1 and rest[0] in _SPLIT_KEYS:
        return (*base, "split", rest[0])
    if section == "data" and rest:
        return _dataset_path(raw.get("data"), rest, _DATASET_KEYS)
    if section == "drift" and rest:
        drift = (
            (raw.get("gates") or {}).get("drift") if isinstance(raw.get("gates"), dict) else None
        )
        drift = drift if isinstance(drift, dict) else {}
        where: Key = (*base, "gates", "drift")
        if len(rest) == 1 and rest[0] in _DRIFT_KEYS:
            return (*where, rest[0])
        if rest[0] == "columns" and len(rest) == 3 and rest[2] in _COLUMN_KEYS:
            return (*where, "columns", rest[1], rest[2])
        if rest[0] == "reference":
            return _dataset_path(drift.get("reference"), rest[1:], ("path", "format"))
        if rest[0] == "current":
            return _dataset_path(drift.get("current"), rest[1:], ("path", "format"), features=False)
    return None


def _dataset_path(
    dataset: Any, rest: Key, scalars: tuple[str, ...], *, features: bool = True
) -> Key | None:
    if not isinstance(dataset, str) or len(rest) != 1:
        return None
    if rest[0] in scalars:
        return ("data", dataset, rest[0])
    if features and rest[0] in _FEATURE_KEYS:
        return ("data", dataset, "features", rest[0])
    return None


def edits_for(changes: list[Change], spec: Any) -> list[Edit]:
    """The ml.yaml edits that carry `changes` back; UserError naming the first key that has no
    ml.yaml source or that an experiment removed."""
    out: dict[Key, Edit] = {}
    for change in changes:
        if change.new is MISSING:
            raise UserError(
                f"params.yaml no longer has {change.name}: `mlcode params pull` carries changed "
                "and new values, not removed keys. Remove it from ml.yaml by hand (then "
                "`mlcode apply`), or discard the change with `mlcode apply --force`."
            )
        path = source_path(change.key, spec)
        if path is None:
            raise UserError(
                f"params.yaml key {change.name} has no source in ml.yaml, so it cannot be kept "
                f"there (it is set to {change.new!r}). Only values under a model's params, "
                "split, estimator, task, metrics, data and drift come from ml.yaml; discard the "
                "change with `mlcode apply --force`."
            )
        out[path] = Edit(path, change.new)
    return list(out.values())


def experiment_note(changes: Iterable[FileChange]) -> str | None:
    """The `explain` message when a plan's params.yaml update is an experiment's params left in
    a params.yaml changed since the last apply, else None."""
    for change in changes:
        if change.path == PARAMS_FILE and change.action == "update" and change.hand_edited:
            return explain(change.new, change.old)
    return None
