"""The pure decisions of a promotion: names (branch, tags, report folder), what a model's version
is made of (its fingerprint in dvc.lock), the dvc.lock the promotion commits, the commit message,
and which changed paths count as the pipeline's own outputs.

No I/O here: `mlcode.promote.run` reads git and DVC and hands the values in.
"""

from __future__ import annotations

import json
import math
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mlcode.layout import MODELS_DIR, WORK_DIR, model_paths

LOCK_FILE = "dvc.lock"
REPORTS_DIR = "reports"
REPORT_NAME = "promotion.md"
# The built-in steps of a model's pipeline, in DVC stage names `<step>_<model>`.
STEPS = ("prepare", "train", "evaluate", "drift")


def vtag(version: str) -> str:
    """A semver written the way GTO's tags write it (`v1.2.3`)."""
    return version if version.startswith("v") else f"v{version}"


def report_dir(model: str, version: str) -> str:
    """Where a version's promotion report and its plots are committed."""
    return f"{REPORTS_DIR}/{model}/{vtag(version)}"


def report_path(model: str, version: str) -> str:
    """The promotion report (Markdown) of a version."""
    return f"{report_dir(model, version)}/{REPORT_NAME}"


def branch_name(prefix: str, model: str, version: str) -> str:
    """The promotion branch of a new pull request: `<branch_prefix><model>/v<semver>`."""
    return f"{prefix}{model}/{vtag(version)}"


def branch_prefix(prefix: str, model: str) -> str:
    """The head-branch prefix every promotion pull request of `model` starts with."""
    return f"{prefix}{model}/"


def model_stages(model: str) -> tuple[str, ...]:
    """The DVC stage names of a model's built-in pipeline."""
    return tuple(f"{step}_{model}" for step in STEPS)


def lock_stages(lock: Mapping[str, Any] | None) -> dict[str, Any]:
    """The `stages` mapping of a parsed dvc.lock (empty when absent or malformed)."""
    if not isinstance(lock, Mapping):
        return {}
    stages = lock.get("stages")
    return dict(stages) if isinstance(stages, Mapping) else {}


def fingerprint(lock: Mapping[str, Any] | None, model: str) -> str:
    """What makes a version of `model`: the hashes of its stages' dependencies and outputs in
    dvc.lock, as canonical JSON. Two commits with equal fingerprints hold the same model trained
    on the same data (a squash or rebase merge keeps it); "" when the lock has none of them."""
    stages = lock_stages(lock)
    found: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for name in model_stages(model):
        stage = stages.get(name)
        if not isinstance(stage, Mapping):
            continue
        entry: dict[str, list[tuple[str, str]]] = {}
        for kind in ("deps", "outs"):
            items = stage.get(kind)
            pairs: list[tuple[str, str]] = []
            for item in items if isinstance(items, list) else []:
                if isinstance(item, Mapping):
                    digest = item.get("md5") or item.get("hash") or item.get("etag") or ""
                    pairs.append((str(item.get("path", "")), str(digest)))
            entry[kind] = sorted(pairs)
        found[name] = entry
    return json.dumps(found, sort_keys=True) if found else ""


def merged_lock(
    base: Mapping[str, Any] | None, work: Mapping[str, Any], model: str
) -> dict[str, Any]:
    """The dvc.lock the promotion of `model` commits: the base's, with the model's stages taken
    from the working tree's (other models' stages stay as the base has them)."""
    out: dict[str, Any] = dict(base) if isinstance(base, Mapping) else {}
    out.setdefault("schema", work.get("schema", "2.0"))
    stages = lock_stages(base)
    mine = set(model_stages(model))
    for name, stage in lock_stages(work).items():
        if name in mine:
            stages[name] = stage
    for name in mine - set(lock_stages(work)):
        stages.pop(name, None)
    out["stages"] = {name: stages[name] for name in sorted(stages, key=_stage_order(work))}
    return out


def _stage_order(work: Mapping[str, Any]) -> Any:
    order = {name: i for i, name in enumerate(lock_stages(work))}
    return lambda name: (order.get(name, len(order)), name)


def model_files(
    model: str, metrics: str | None, pointers: Iterable[str], plots: Iterable[str]
) -> list[str]:
    """The files a promotion commits besides dvc.lock and the report: the data pointers, the
    metrics, the drift summary and the plot data of the model (`plots`: the plot kinds)."""
    paths = model_paths(model, metrics)
    return sorted(
        {*pointers, paths.metrics, paths.drift_metrics} | {paths.plot(kind) for kind in plots}
    )


def dvc_gitignores(model: str) -> list[str]:
    """The `.gitignore` files DVC writes an entry into when it first creates the model's outputs
    outside the model's own folders (`models/.gitignore` gets `/<model>`): a model first run on
    a runner changes them, and the promotion commits them."""
    parent = posixpath.dirname(model_paths(model).model_dir)
    return [f"{parent}/.gitignore" if parent else ".gitignore"]


def pipeline_output(path: str, models: Iterable[str], pointers: Iterable[str]) -> bool:
    """True when a changed path is one the pipeline itself writes (dvc.lock, a model's metrics,
    plots, model folder) or a data pointer `dvc add` rewrites: those may be dirty when promoting."""
    if path == LOCK_FILE:
        return True
    if path in set(pointers):
        return True
    for model in models:
        paths = model_paths(model)
        if path in (paths.metrics, paths.drift_metrics, *dvc_gitignores(model)):
            return True
        # the work folder: a stage that failed leaves its earlier stages' splits there before DVC
        # lists them in .gitignore; a rerun completes them
        folders = (paths.plots_dir, paths.model_dir, f"{MODELS_DIR}/{model}", f"{WORK_DIR}/{model}")
        for folder in folders:
            if path.startswith(folder + "/"):
                return True
    return False


def metric_summary(metrics: Mapping[str, Any]) -> list[str]:
    """`name: value` lines of a metrics file's numbers (nested keys joined by '.')."""
    lines: list[str] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key in sorted(value):
                walk(f"{prefix}.{key}" if prefix else str(key), value[key])
        elif isinstance(value, bool):
            lines.append(f"{prefix}: {str(value).lower()}")
        elif isinstance(value, int | float):
            shown = f"{value:.4f}" if isinstance(value, float) and math.isfinite(value) else value
            lines.append(f"{prefix}: {shown}")

    walk("", metrics)
    return lines


@dataclass(frozen=True)
class CommitText:
    """What the promotion commit says."""

    model: str
    version: str
    metrics: Mapping[str, Any]
    report: str
    reason: str = ""  # why `mlcode retrain` retrained it; empty for a plain promotion

    def message(self) -> str:
        """Subject, why it was retrained (when it was), the metric summary, where the report is,
        and trailers naming the version."""
        lines = [f"Promote {self.model} {vtag(self.version)}", ""]
        if self.reason:
            lines += [f"Retrained because: {self.reason}", ""]
        summary = metric_summary(self.metrics)
        if summary:
            lines += ["Metrics:", *(f"  {line}" for line in summary), ""]
        lines.append(f"Every gate passed. Report: {self.report}")
        lines += ["", f"Mlcode-Model: {self.model}", f"Mlcode-Version: {vtag(self.version)}"]
        return "\n".join(lines) + "\n"
