"""The checks behind `mlcode check`, returned as a value (the CLI renders it).

Light on purpose: no dvc, pandas or scikit-learn, and on the fast path not even pydantic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mlcode import __version__
from mlcode.layout import MANIFEST_FILE
from mlcode.manifest import Manifest, inputs_hash, parse_manifest, sha256_text


@dataclass
class CheckReport:
    """Problems found, and whether the fast path (manifest hashes) was enough."""

    problems: list[str] = field(default_factory=list)
    mode: str = "fast path: unchanged since the last apply"


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None


def _stack_bytes(root: Path, spec_text: bytes) -> bytes | None:
    """The stack file's bytes, found from `stack:` without a full parse (fast path only)."""
    import re

    from mlcode.resources import is_stack_path, stack_presets

    m = re.search(rb"^stack:\s*['\"]?([^'\"#\s]+)", spec_text, re.MULTILINE)
    name = m.group(1).decode("utf-8", "replace") if m else "local"
    if is_stack_path(name):
        return _read(root / name)
    preset = stack_presets().get(name)
    return _read(preset) if preset else None


def in_sync_fast(root: Path, manifest: Manifest) -> bool:
    """True when ml.yaml, the stack and mlcode are unchanged since the last apply and every
    generated file still has the hash the manifest recorded (so compiling would give them back)."""
    spec = _read(root / "ml.yaml")
    if spec is None or not manifest.inputs or manifest.mlcode_version != __version__:
        return False
    stack = _stack_bytes(root, spec)
    if stack is None or inputs_hash(spec, stack, __version__) != manifest.inputs:
        return False
    for path, digest in manifest.files.items():
        data = _read(root / path)
        if data is None or sha256_text(data) != digest:
            return False
    return True


def run_check(start: Path, max_bytes: int) -> CheckReport:
    """Run every check from `start` (inside the repository)."""
    from mlcode.repo import find_root

    root = find_root(start)
    report = CheckReport()
    manifest = parse_manifest((_read(root / MANIFEST_FILE) or b"").decode("utf-8", "replace"))
    datasets = list(manifest.datasets)
    if not in_sync_fast(root, manifest):
        report.mode = "full: ml.yaml compiled and compared"
        datasets = sorted(set(datasets) | set(_full_check(root, report)))
    report.problems.extend(_staged_problems(root, max_bytes, datasets))
    return report


def _full_check(root: Path, report: CheckReport) -> list[str]:
    from mlcode.errors import SpecError, UserError
    from mlcode.experiments import experiment_note
    from mlcode.layout import PARAMS_FILE
    from mlcode.workspace import compute_plan, open_workspace

    try:
        ws = open_workspace(root)
    except SpecError as exc:
        report.problems.append(
            "ml.yaml is invalid:\n" + "\n".join(f"    {p}" for p in exc.problems)
        )
        return []
    except UserError as exc:
        report.problems.append(exc.message)
        return []
    plan, _ = compute_plan(ws, with_status=False)
    note = experiment_note(plan.changes)  # params.yaml holding `dvc exp` params: say so
    if note:
        report.problems.append(note)
    stale = [f"{c.path} ({c.action})" for c in plan.changes if not (note and c.path == PARAMS_FILE)]
    if stale:
        report.problems.append(
            "generated files are out of sync with ml.yaml: "
            + ", ".join(stale)
            + ". Run `mlcode apply` (then `git add` is done for you) and commit again."
        )
    return [ds.path for ds in ws.project.spec.data.values()]


def _staged_problems(root: Path, max_bytes: int, datasets: list[str]) -> list[str]:
    from mlcode.adapters.git import staged_files

    problems: list[str] = []
    for path, size in staged_files(root):
        if path in datasets:
            problems.append(
                f"{path} is a dataset declared in ml.yaml but is staged into git; data is "
                f"versioned by DVC: `git rm --cached {path}` then `mlcode apply`"
            )
        elif size > max_bytes:
            problems.append(
                f"{path} is staged into git and is {size:,} bytes (limit {max_bytes:,}); "
                f"version it with DVC instead: `git rm --cached {path} && dvc add {path}`"
            )
    return problems
