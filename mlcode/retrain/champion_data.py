"""A model's training data now and at its champion's commit: the evidence `mlcode retrain`
decides from (`mlcode.retrain.decide`). The I/O edge of the decision.

- The training data is the dataset the model names (`models.<m>.data`), at the path the current
  ml.yaml gives it.
- Its md5 at a commit (or in the working tree) is read from what DVC recorded, never by hashing:
  the dataset's `.dvc` pointer (`dvc add`, `dvc import-url`), else the `dvc.lock` output of the
  stage that writes it (`ingest_<dataset>` of a `source: {cmd: ...}` first, then any stage).
- The champion's data file is taken from the local DVC cache by that md5 when it is there (a hard
  link, else a copy), else fetched with `dvc get --rev` (DVC resolves it from the commit's pointer
  and downloads it from the remote). It lands under a folder of the caller's; the workspace and
  the cache are never changed.
- Drift is measured by the drift engine the pipeline's drift step and `mlcode drift` use
  (`mlcode.steps.drift.measure`), over the training dataset's declared features, with the model's
  drift gate settings (dataset method and threshold, per-column method, threshold and `ignore`)
  when it has a drift gate, else the engine's defaults (method auto). Identical md5s on both sides
  mean identical bytes: nothing drifted, and nothing is read.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlcode.errors import UserError
from mlcode.retrain.decide import DataEvidence
from mlcode.spec.model import Dataset, MlSpec
from mlcode.spec.names import ingest_stage, stage_name

if TYPE_CHECKING:
    from mlcode.steps.drift import DriftParams

LOCK = "dvc.lock"
_SHORT = 12  # hex digits of a commit in messages


def training_dataset(spec: MlSpec, model: str) -> str:
    """The name of `model`'s training dataset (`models.<m>.data`); UserError for an unknown
    model."""
    if model not in spec.models:
        raise UserError(
            f"ml.yaml declares no model {model!r}",
            hint=f"Models: {', '.join(sorted(spec.models)) or 'none'}.",
        )
    return spec.models[model].data


def _dataset(spec: MlSpec, model: str) -> tuple[str, Dataset]:
    name = training_dataset(spec, model)
    if name not in spec.data:  # validate refuses this; a spec built in code may not
        raise UserError(
            f"model {model!r} trains on dataset {name!r}, which ml.yaml does not declare"
        )
    return name, spec.data[name]


def data_md5(root: Path, spec: MlSpec, model: str, rev: str | None) -> str | None:
    """md5 of the model's training data at `rev` (None: the working tree): at a commit, what
    that commit's model was trained on (its prepare stage's dvc.lock deps), else its `.dvc`
    pointer, or from dvc.lock when the dataset is an `ingest_<dataset>` stage's output (or another
    stage's). None when neither records it; UserError when the record is not readable YAML."""
    name, ds = _dataset(spec, model)
    if rev is not None:
        trained_on = _trained_on(root, rev, model, ds.path)
        if trained_on is not None:
            return trained_on
    pointer = ds.path + ".dvc"
    text = _text_at(root, rev, pointer)
    if text is not None:
        return _pointer_md5(_yaml(text, pointer, rev), Path(ds.path).name)
    lock = _text_at(root, rev, LOCK)
    if lock is None:
        return None
    return _lock_md5(_yaml(lock, LOCK, rev), ds.path, ingest_stage(name))


def _trained_on(root: Path, rev: str, model: str, path: str) -> str | None:
    """The md5 of `path` the model's prepare stage read at `rev` (its dvc.lock deps): what the
    model committed there was trained on, even when a newer data pointer was committed after it
    without a retrain. None when that commit's dvc.lock does not record it."""
    lock = _text_at(root, rev, LOCK)
    if lock is None:
        return None
    stages = _yaml(lock, LOCK, rev)
    stages = stages.get("stages") if isinstance(stages, dict) else None
    body = stages.get(stage_name("prepare", model)) if isinstance(stages, dict) else None
    deps = body.get("deps") if isinstance(body, dict) else None
    for dep in deps if isinstance(deps, list) else []:
        if isinstance(dep, dict) and dep.get("path") == path:
            return _md5_of(dep)
    return None


def _recorded_at(root: Path, commit: str, path: str, md5: str) -> str:
    """A commit at or before `commit` whose `.dvc` pointer or dvc.lock output records `md5` for
    `path` (what `dvc get --rev` fetches); `commit` itself when none does."""
    from mlcode.adapters import git

    out = git.git(
        root, "log", "--format=%H", f"-S{md5}", commit, "--", f"{path}.dvc", LOCK, check=False
    )
    for candidate in out.split():
        text = _text_at(root, candidate, f"{path}.dvc")
        if text is not None and _pointer_md5(_yaml(text, path, candidate), Path(path).name) == md5:
            return candidate
        lock = _text_at(root, candidate, LOCK)
        if lock is not None and _lock_md5(_yaml(lock, LOCK, candidate), path, "") == md5:
            return candidate
    return commit


def _text_at(root: Path, rev: str | None, path: str) -> str | None:
    """The text of `path` at `rev` (None: the working tree's file); None when there is none."""
    if rev is None:
        try:
            return (root / path).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"cannot read {path}: {exc}") from None
    from mlcode.adapters.proc import run_bytes
    from mlcode.gates.champion import has_file

    if not has_file(root, rev, path):
        return None
    raw = run_bytes(["git", "cat-file", "blob", f"{rev}:{path}"], root, what="git cat-file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{path} at commit {rev[:_SHORT]} is not UTF-8 text") from None


def _yaml(text: str, path: str, rev: str | None) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = "in the working tree" if rev is None else f"at commit {rev[:_SHORT]}"
        raise UserError(f"{path} {where} is not valid YAML: {exc}") from None


def _pointer_md5(doc: Any, filename: str) -> str | None:
    """The md5 of the out named `filename` (or the only out) of a `.dvc` pointer."""
    outs = doc.get("outs") if isinstance(doc, dict) else None
    if not isinstance(outs, list):
        return None
    entries = [o for o in outs if isinstance(o, dict)]
    named = [o for o in entries if o.get("path") == filename] or entries[:1]
    return _md5_of(named[0]) if named else None


def _lock_md5(doc: Any, path: str, ingest: str) -> str | None:
    """The md5 of the output `path` in dvc.lock, the ingest stage's first."""
    stages = doc.get("stages") if isinstance(doc, dict) else None
    if not isinstance(stages, dict):
        return None
    order = [ingest, *(s for s in stages if s != ingest)]
    for stage in order:
        body = stages.get(stage)
        outs = body.get("outs") if isinstance(body, dict) else None
        for out in outs if isinstance(outs, list) else []:
            if isinstance(out, dict) and out.get("path") == path:
                return _md5_of(out)
    return None


def _md5_of(out: dict[str, Any]) -> str | None:
    value = out.get("md5")
    return str(value) if value else None


def champion_data_file(root: Path, spec: MlSpec, model: str, commit: str, dest: Path) -> Path:
    """The champion's training data materialized under `dest` (from the local DVC cache by md5
    when present, else fetched from the DVC remote with `dvc get --rev`); UserError naming the
    dataset, the commit and the remote when it is nowhere. The file is named
    `<commit[:12]>-<file name>`; the caller removes it (or `dest`) when done."""
    name, ds = _dataset(spec, model)
    md5 = data_md5(root, spec, model, commit)
    if md5 is None:
        raise UserError(
            f"model {model!r}: the champion's commit {commit[:_SHORT]} has no DVC record of its "
            f"training data {name!r} ({ds.path}: no {ds.path}.dvc pointer, no dvc.lock output), "
            "so there is nothing to compare the data now with",
            hint="Was the dataset renamed or moved since? Name another champion, or set "
            "`retrain.when: always` for this run.",
        )
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / f"{commit[:_SHORT]}-{Path(ds.path).name}"
    with contextlib.suppress(FileNotFoundError):
        out.unlink()
    cached = _cached(root, md5)
    if cached is not None:
        try:
            os.link(cached, out)
        except OSError:
            shutil.copyfile(cached, out)
        return out
    from mlcode.adapters.dvc_get import get_file, last_error

    try:
        get_file(root, ds.path, _recorded_at(root, commit, ds.path, md5), out)
    except UserError as exc:
        raise UserError(
            f"model {model!r}: the champion's training data {name!r} ({ds.path}, md5 {md5}, "
            f"commit {commit[:_SHORT]}) is neither in the local DVC cache nor fetchable from "
            f"the DVC remote {_remote_label(root)} ({last_error(exc.message)})",
            hint="Push the data from a checkout that has it (`dvc push`), or check the remote "
            "and its credentials.",
        ) from None
    if _file_md5(out) != md5:
        out.unlink()
        raise UserError(
            f"model {model!r}: the champion's training data {name!r} ({ds.path}) fetched from "
            f"the DVC remote {_remote_label(root)} is not the data its commit {commit[:_SHORT]} "
            f"recorded (md5 {md5}), and no commit before it points to that data",
            hint="Push the data the champion was trained on from a checkout that has it "
            "(`dvc push`), or name another champion.",
        )
    return out


def _file_md5(path: Path) -> str:
    import hashlib

    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _cached(root: Path, md5: str) -> Path | None:
    """The local DVC cache's file of `md5` (DVC 3's `files/md5/` layout, then DVC 2's)."""
    if len(md5) < 3 or not all(c in "0123456789abcdef" for c in md5):
        return None  # a `.dir` manifest or a foreign hash: leave it to DVC
    cache = _cache_dir(root)
    for path in (cache / "files" / "md5" / md5[:2] / md5[2:], cache / md5[:2] / md5[2:]):
        if path.is_file():
            return path
    return None


def _cache_dir(root: Path) -> Path:
    """DVC's cache folder: `cache.dir` of `.dvc/config.local`, else of `.dvc/config` (relative
    to `.dvc/`), else `.dvc/cache`."""
    from mlcode.adapters.dvc_remote_objects import config_value

    value = config_value(root, "cache", "dir")
    if value:
        return root / ".dvc" / os.path.expanduser(value.strip("'\""))
    return root / ".dvc" / "cache"


def _remote_label(root: Path) -> str:
    """`'name' (url)` of the DVC default remote, or a phrase saying there is none."""
    from mlcode.project.remote import parse_config

    remotes: dict[str, dict[str, str]] = {}
    default: str | None = None
    for name in ("config", "config.local"):  # the local file overrides
        try:
            text = (root / ".dvc" / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        found = parse_config(text)
        for remote, options in found.remotes.items():
            remotes.setdefault(remote, {}).update(options)
        default = found.default or default
    if default is None:
        return "(none is configured: `core.remote` is unset in .dvc/config)"
    url = remotes.get(default, {}).get("url")
    return f"{default!r} ({url})" if url else repr(default)


def evidence(
    root: Path,
    spec: MlSpec,
    model: str,
    champion_commit: str | None,
    *,
    measure_drift: bool,
    workdir: Path,
) -> DataEvidence:
    """Everything `decide` needs; drift measured with the repo's own drift engine
    (mlcode/drift — the same one the pipeline's drift step and `mlcode drift` use), with the
    model's gates.drift column settings (methods, ignore) when it has a drift gate."""
    current_md5 = data_md5(root, spec, model, None)
    if champion_commit is None:
        return DataEvidence(None, None, current_md5, None)
    champion_md5 = data_md5(root, spec, model, champion_commit)
    if not measure_drift:
        return DataEvidence(champion_commit, champion_md5, current_md5, None)
    params = drift_params(spec, model)
    if current_md5 is not None and current_md5 == champion_md5:
        columns = [c for c in (*params.numeric, *params.categorical) if not _ignored(params, c)]
        return DataEvidence(champion_commit, champion_md5, current_md5, 0.0, (), len(columns))
    name, ds = _dataset(spec, model)
    from mlcode.drift.files import DataFile
    from mlcode.steps.drift import measure

    current = DataFile.at(root, ds.path, ds.resolved_format)
    if not current.path.is_file():
        raise UserError(
            f"model {model!r}: its training data {name!r} ({ds.path}) is not in the working "
            "tree, so its drift cannot be measured",
            hint=f"Bring it in with `dvc pull {ds.path}`.",
        )
    champion_file = champion_data_file(root, spec, model, champion_commit, workdir)
    reference = DataFile(
        champion_file,
        f"{ds.path} at the champion's commit {champion_commit[:_SHORT]}",
        ds.resolved_format,
    )
    try:
        result, _plots = measure(reference, current, params)
    except UserError as exc:
        raise UserError(
            f"model {model!r}: drift of {name!r} against the champion's cannot be measured: "
            f"{exc.message}",
            hint=exc.hint,
        ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            champion_file.unlink()
    drifted = tuple(c.name for c in result.columns if c.drifted)
    return DataEvidence(
        champion_commit,
        champion_md5,
        current_md5,
        result.drifted_share,
        drifted,
        result.evaluated,
    )


def drift_params(spec: MlSpec, model: str) -> DriftParams:
    """The drift settings of the training data against the champion's: the training dataset's
    declared features; the model's drift gate's method, threshold and per-column settings of
    those features when it has a gate (settings of other columns are left out), else the
    engine's defaults. Parsed by the drift step's own `params_of`."""
    from mlcode.steps.drift import params_of

    _name, ds = _dataset(spec, model)
    gate = spec.models[model].gates.drift
    features = set(ds.columns)
    doc: dict[str, Any] = {
        "reference": {
            "path": ds.path,
            "format": ds.resolved_format,
            "numeric": list(ds.features.numeric),
            "categorical": list(ds.features.categorical),
        },
        "current": {"path": ds.path, "format": ds.resolved_format},
        "method": gate.method if gate else "auto",
        "threshold": gate.threshold if gate else None,
        "columns": {
            col: {"method": s.method, "threshold": s.threshold, "ignore": s.ignore}
            for col, s in sorted(gate.columns.items())
            if col in features
        }
        if gate
        else {},
        "max_drifted_share": gate.max_drifted_share if gate else 0.5,
    }
    return params_of(model, doc)


def _ignored(params: DriftParams, column: str) -> bool:
    return bool(params.columns.get(column, {}).get("ignore", False))
