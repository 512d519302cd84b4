"""Refresh the datasets that declare a `source`, all or nothing: `dvc update` of each url-sourced
dataset, then a schema check of the new data against the old; the ingest commands of cmd-sourced
datasets are stages of the pipeline, so `dvc repro` (`mlcode run`) refreshes those.

Before updating, each dataset's pointer and the git index are kept in memory and the data file as
a hard link in `.mlcode/rescue/refresh/` (DVC replaces a file, it does not write into it). A source
that fails, or new data that lost a declared column or changed a column's kind (number, text,
boolean, time), puts every dataset, pointer and the index back as they were and raises a
UserError naming the dataset, and the URL or the columns.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mlcode.errors import UserError
from mlcode.layout import STATE_DIR
from mlcode.spec.model import CmdSource, Dataset, MlSpec, UrlSource
from mlcode.spec.names import ingest_stage

REFRESH_DIR = f"{STATE_DIR}/rescue/refresh"
PIPELINE_NOTE = "refreshed by the pipeline"


@dataclass(frozen=True)
class SourceRefresh:
    """What refreshing one dataset did."""

    dataset: str
    path: str
    kind: Literal["url", "cmd"]
    source: str  # the URL, or the ingest stage that runs the command
    changed: bool | None  # None: the pipeline refreshes it (`dvc repro`)
    old_md5: str | None = None
    new_md5: str | None = None

    @property
    def outcome(self) -> str:
        """One word or phrase for a summary table."""
        if self.changed is None:
            return f"{PIPELINE_NOTE} (stage {self.source})"
        return "new data" if self.changed else "unchanged"


@dataclass(frozen=True)
class RefreshReport:
    """Every sourced dataset's refresh, in dataset-name order."""

    sources: list[SourceRefresh] = field(default_factory=list)

    @property
    def changed(self) -> list[str]:
        """Datasets whose data `dvc update` changed."""
        return [s.dataset for s in self.sources if s.changed]

    def to_json(self) -> list[dict[str, Any]]:
        """Plain JSON data."""
        return [
            {
                "dataset": s.dataset,
                "path": s.path,
                "kind": s.kind,
                "source": s.source,
                "changed": s.changed,
                "old_md5": s.old_md5,
                "new_md5": s.new_md5,
                "outcome": s.outcome,
            }
            for s in self.sources
        ]


def refresh_sources(root: Path, spec: MlSpec, datasets: list[str] | None = None) -> RefreshReport:
    """Bring the newest data of the sourced `datasets` (default: all) in through DVC."""
    chosen = _chosen(spec, datasets)
    urls = {n: ds for n, ds in chosen.items() if isinstance(ds.source, UrlSource)}
    report: list[SourceRefresh] = []
    for name, ds in chosen.items():
        if isinstance(ds.source, CmdSource):
            report.append(SourceRefresh(name, ds.path, "cmd", ingest_stage(name), None))
    if urls:
        report += _update(root, urls)
    return RefreshReport(sorted(report, key=lambda s: s.dataset))


def _chosen(spec: MlSpec, datasets: list[str] | None) -> dict[str, Dataset]:
    sourced = {n: ds for n, ds in sorted(spec.data.items()) if ds.source is not None}
    if datasets is None:
        return sourced
    unknown = [d for d in datasets if d not in sourced]
    if unknown:
        listing = ", ".join(sourced) or "none"
        raise UserError(
            f"dataset(s) {', '.join(unknown)} declare no `source` in ml.yaml (datasets with a "
            f"source: {listing})"
        )
    return {n: sourced[n] for n in dict.fromkeys(datasets)}


@dataclass
class _Saved:
    """A url-sourced dataset as it was before `dvc update`."""

    name: str
    ds: Dataset
    pointer: bytes
    old_md5: str | None
    linked: bool


def _update(root: Path, urls: dict[str, Dataset]) -> list[SourceRefresh]:
    from mlcode.adapters import dvc, git

    saved = [_save(root, name, ds) for name, ds in urls.items()]
    index_path = git.index_file(root)
    index = index_path.read_bytes() if index_path.is_file() else None
    try:
        out: list[SourceRefresh] = []
        for item in saved:
            url = item.ds.source.url if isinstance(item.ds.source, UrlSource) else ""
            try:
                dvc.dvc(root, "update", item.ds.path + ".dvc", what=f"dvc update of {item.name}")
            except UserError as exc:
                raise UserError(
                    f"dataset {item.name!r}: its source {url} failed, so nothing was refreshed "
                    f"(every dataset and pointer is as before). {exc}"
                ) from None
            new_md5 = _md5(root / (item.ds.path + ".dvc"))
            changed = new_md5 != item.old_md5
            if changed:
                _check_schema(root, item)
            out.append(
                SourceRefresh(item.name, item.ds.path, "url", url, changed, item.old_md5, new_md5)
            )
        return out
    except BaseException:
        _restore(root, saved, index_path, index)
        raise
    finally:
        shutil.rmtree(root / REFRESH_DIR, ignore_errors=True)


def _save(root: Path, name: str, ds: Dataset) -> _Saved:
    pointer = root / (ds.path + ".dvc")
    if not pointer.is_file():
        raise UserError(
            f"dataset {name!r} has a source but no pointer {ds.path}.dvc: run `mlcode apply` "
            "first (it imports the data with `dvc import-url`)"
        )
    data, link = root / ds.path, root / REFRESH_DIR / ds.path
    linked = False
    if data.is_file():
        link.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        os.link(data, link)
        linked = True
    return _Saved(name, ds, pointer.read_bytes(), _md5(pointer), linked)


def _restore(root: Path, saved: list[_Saved], index_path: Path, index: bytes | None) -> None:
    """Every pointer, data file and the index as before; Ctrl-C and SIGTERM wait until done."""
    import signal

    from mlcode.adapters.fs import atomic_write

    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        for item in saved:
            pointer = root / (item.ds.path + ".dvc")
            if not pointer.is_file() or pointer.read_bytes() != item.pointer:
                atomic_write(pointer, item.pointer)
            link, data = root / REFRESH_DIR / item.ds.path, root / item.ds.path
            if item.linked and link.is_file():
                os.replace(link, data)
            elif not item.linked:  # no data here before (a clone before `dvc pull`): none after
                with contextlib.suppress(FileNotFoundError):
                    data.unlink()
        if index is not None and (not index_path.is_file() or index_path.read_bytes() != index):
            atomic_write(index_path, index)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _md5(pointer: Path) -> str | None:
    import yaml

    try:
        doc = yaml.safe_load(pointer.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    outs = doc.get("outs") if isinstance(doc, dict) else None
    if isinstance(outs, list) and outs and isinstance(outs[0], dict):
        value = outs[0].get("md5")
        return str(value) if value else None
    return None


# --- schema check ----------------------------------------------------------------------------


def _declared(ds: Dataset) -> list[str]:
    cols = [*ds.columns, ds.target, ds.id_column, ds.time_column]
    return [c for c in dict.fromkeys(cols) if c is not None]


def _kinds(path: Path, fmt: str) -> dict[str, str]:
    """Column → kind (number, boolean, time, text) of a data file, as pandas reads it."""
    import pandas as pd

    try:
        frame = pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path, low_memory=False)
    except Exception as exc:  # any reader failure is the data's problem
        raise UserError(f"cannot read {path.name}: {exc}") from None
    return {str(col): _kind(frame[col].dtype.kind) for col in frame.columns}


def _kind(code: str) -> str:
    return {"b": "boolean", "i": "number", "u": "number", "f": "number", "M": "time"}.get(
        code, "text"
    )


def _check_schema(root: Path, item: _Saved) -> None:
    """Raise when the new data lacks a declared column or changed a declared column's kind."""
    fmt = item.ds.resolved_format
    try:
        new = _kinds(root / item.ds.path, fmt)
    except UserError as exc:
        raise UserError(f"dataset {item.name!r}: the new data is unreadable: {exc}") from None
    # without the old data on disk (a clone before `dvc pull`), only the declared columns count
    old = _kinds(root / REFRESH_DIR / item.ds.path, fmt) if item.linked else {}
    declared = _declared(item.ds)
    missing = [c for c in declared if c not in new]
    changed = [
        f"{c} ({old[c]} → {new[c]})" for c in declared if c in new and c in old and old[c] != new[c]
    ]
    # what ml.yaml declares holds without the old data: a numeric feature must stay a number
    changed += [
        f"{c} (declared numeric → {new[c]})"
        for c in item.ds.features.numeric
        if c not in old and new.get(c, "number") not in ("number", "boolean")
    ]
    if not missing and not changed:
        return
    parts = []
    if missing:
        parts.append(f"declared column(s) missing: {', '.join(missing)}")
    if changed:
        parts.append(f"column kind changed: {', '.join(changed)}")
    raise UserError(
        f"dataset {item.name!r}: the new data from its source has a different schema "
        f"({'; '.join(parts)}); the old data and pointer are kept. Fix the source, or change "
        "the dataset's columns in ml.yaml"
    )
