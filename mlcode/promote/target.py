"""What one model's promotion works on, read from the working tree before anything changes: its
files, its dvc.lock fingerprint, its version (new or the one already registered for the same
model), and every refusal that must come before the first change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from mlcode.adapters.git import git
from mlcode.adapters.proc import run
from mlcode.errors import UserError
from mlcode.layout import DVC_FILE, PARAMS_FILE, model_paths, plot_kinds
from mlcode.promote import gitrefs
from mlcode.promote.plan import (
    LOCK_FILE,
    dvc_gitignores,
    fingerprint,
    merged_lock,
    model_files,
    model_stages,
    pipeline_output,
)

if TYPE_CHECKING:
    from mlcode.spec.load import Project


@dataclass(frozen=True)
class Target:
    """One model to promote, everything decided before the first change."""

    model: str
    version: str  # "v1.2.3"
    new: bool  # False: the newest registered version already holds this model (resume / no-op)
    commit: str | None  # the registered version's commit when not new
    previous: str | None  # the newest registered version before this one
    files: dict[str, bytes]  # what the promotion commit writes over the base (report added later)
    dvc_targets: list[str]  # what `dvc push` sends: the model's stages and data pointers
    metrics: dict[str, Any]
    fingerprint: str

    @property
    def tag(self) -> str:
        """The version tag in GTO's grammar."""
        return f"{self.model}@{self.version}"


def parse_lock(data: bytes | None, where: str) -> dict[str, Any]:
    """A dvc.lock's content as a mapping (empty when absent)."""
    if data is None:
        return {}
    try:
        doc = yaml.safe_load(data.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UserError(f"{where} is not valid YAML: {exc}") from None
    return doc if isinstance(doc, dict) else {}


def pointers(project: Project, model: str) -> list[str]:
    """The `.dvc` pointers of the datasets a model trains on and compares for drift."""
    spec = project.spec
    entry = spec.models[model]
    names = [entry.data]
    if entry.gates.drift is not None:
        names += [entry.gates.drift.reference, entry.gates.drift.current]
    return sorted({f"{spec.data[n].path}.dvc" for n in names if n in spec.data})


def metrics_file(project: Project, model: str) -> str:
    """The model's metrics file (its own evaluate command's, or the built-in step's)."""
    own = project.spec.models[model].evaluate
    return model_paths(model, own.metrics if own else None).metrics


def dirty_paths(root: Path, models: list[str], data_pointers: list[str]) -> list[str]:
    """Changed or untracked paths (git's view, ignored files left out) that are not the
    pipeline's own outputs: a promotion refuses while there are any."""
    out = git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all")
    found: list[str] = []
    entries = iter(out.split("\0"))
    for entry in entries:
        if len(entry) < 4:
            continue
        code, name = entry[:2], entry[3:]
        if code[0] in "RC":
            next(entries, None)
        if not pipeline_output(name, models, data_pointers):
            found.append(name)
    return sorted(set(found))


def same_pipeline(root: Path, base: str) -> list[str]:
    """Those of dvc.yaml and params.yaml whose working-tree bytes differ from the base's: the
    promotion commits a dvc.lock for the base's pipeline, so they must agree."""
    differ = []
    for rel in (DVC_FILE, PARAMS_FILE):
        path = root / rel
        here = path.read_bytes() if path.is_file() else None
        if here != gitrefs.blob_at(root, base, rel):
            differ.append(rel)
    return differ


def lock_bytes(
    base_lock: dict[str, Any], work_lock: dict[str, Any], work: bytes, model: str
) -> bytes:
    """The dvc.lock bytes the promotion commits: the working tree's file when it is exactly the
    base's with this model's stages updated, else the merged mapping written as YAML."""
    merged = merged_lock(base_lock, work_lock, model)
    if merged == work_lock:
        return work
    return yaml.safe_dump(merged, sort_keys=False, default_flow_style=False).encode("utf-8")


def collect_files(
    root: Path, project: Project, model: str, base_sha: str
) -> tuple[dict[str, bytes], dict[str, Any], str, list[str], dict[str, Any]]:
    """(files to commit without the report, the working lock, the model's fingerprint, the DVC
    targets, the metrics) for `model`; UserError when the model has no metrics yet."""
    import json

    metrics_rel = metrics_file(project, model)
    metrics_path = root / metrics_rel
    if not metrics_path.is_file():
        raise UserError(
            f"model {model!r} has no metrics yet ({metrics_rel} is missing); run `mlcode run "
            f"{model}` first, then promote"
        )
    try:
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read the metrics of {model!r} ({metrics_rel}): {exc}") from None
    lock_path = root / LOCK_FILE
    work = lock_path.read_bytes() if lock_path.is_file() else None
    work_lock = parse_lock(work, LOCK_FILE)
    fp = fingerprint(work_lock, model)
    if work is None or not fp:
        raise UserError(
            f"{LOCK_FILE} records no stage of model {model!r}; run `mlcode run {model}` first"
        )
    base_lock = parse_lock(gitrefs.blob_at(root, base_sha, LOCK_FILE), f"{LOCK_FILE} on the base")
    files = {LOCK_FILE: lock_bytes(base_lock, work_lock, work, model)}
    data_pointers = pointers(project, model)
    task = project.spec.models[model].task
    own = project.spec.models[model].evaluate
    kept = model_files(model, own.metrics if own else None, data_pointers, plot_kinds(task))
    for rel in [*kept, *dvc_gitignores(model)]:
        path = root / rel
        if path.is_file() and not _ignored(root, rel):
            files[rel] = path.read_bytes()
    recorded = work_lock.get("stages") or {}
    targets = [s for s in model_stages(model) if s in recorded]
    targets += [p for p in data_pointers if (root / p).is_file()]
    metrics_dict = metrics if isinstance(metrics, dict) else {}
    return files, work_lock, fp, targets, metrics_dict


def _ignored(root: Path, rel: str) -> bool:
    result = run(["git", "check-ignore", "-q", rel], root, what="git check-ignore", check=False)
    return result.returncode == 0


def version_tag_problem(root: Path, tag: str) -> str | None:
    """Why the version tag cannot be created: it already exists (any object)."""
    existing = gitrefs.ref_target(root, f"refs/tags/{tag}")
    if existing is None:
        return None
    commit = gitrefs.rev(root, f"refs/tags/{tag}") or existing
    return f"the version tag {tag} already exists (on commit {commit[:12]})"
