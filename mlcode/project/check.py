"""The checks behind `mlcode check`, returned as a value (the CLI renders it).

`mlcode check` judges the commit, not the working tree: ml.yaml, the stack file, the manifest and
every generated file are read as git's index holds them (the index git hands the hook, which during
`git commit -a` / `git commit PATH` is a temporary one), and every staged change counts, renames and
copies included.

Light on purpose: no dvc, pandas or scikit-learn, and on the fast path not even pydantic.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mlcode.layout import DVC_FILE, MANIFEST_FILE, PARAMS_FILE
from mlcode.project.manifest import Manifest, parse_manifest, sha256_text
from mlcode.project.sync import SPEC_FILE, in_sync, preset_bytes, stack_name

if TYPE_CHECKING:
    from mlcode.adapters.git import StagedBlob, StagedChange

# Read bound for ml.yaml and the stack file from the index (the loader refuses over 1 MB anyway).
_CONFIG_BYTES = 1_000_000
FAST_MODE = "fast path: unchanged since the last apply"
FULL_MODE = "full: the staged ml.yaml compiled and compared with the staged files"


@dataclass
class CheckReport:
    """Problems found, and whether the fast path (manifest hashes) was enough."""

    problems: list[str] = field(default_factory=list)
    mode: str = FAST_MODE


def norm_path(path: str) -> str:
    """A repository path as git's index spells it: `./data//x.csv` and `data\\x.csv` are
    `data/x.csv`."""
    text = posixpath.normpath(path.replace("\\", "/"))
    return "" if text == "." else text.lstrip("/")


def _plain(path: str) -> bool:
    """True for a normalised path inside the repository (as git's index spells paths)."""
    return bool(path) and norm_path(path) == path and not path.startswith("../")


@dataclass
class _Staged:
    """What the commit holds, read from git's index as needed (each path once)."""

    root: Path
    blobs: dict[str, StagedBlob] = field(default_factory=dict)
    asked: set[str] = field(default_factory=set)

    def read(self, paths: list[str]) -> None:
        """Read more paths from the index (one batch for all not asked for yet)."""
        from mlcode.adapters.git import staged_blobs

        # only plain repository paths: a manifest that names `../x` or `/x` owns nothing there
        todo = sorted({p for p in paths if _plain(p) and p not in self.asked})
        if todo:
            self.blobs.update(staged_blobs(self.root, todo, _CONFIG_BYTES))
            self.asked.update(todo)

    def get(self, path: str) -> StagedBlob | None:
        """The index's version of `path`, None when the commit lacks it."""
        return self.blobs.get(path)

    def has(self, path: str) -> bool:
        """True when the commit holds `path`."""
        return path in self.blobs

    def data(self, path: str) -> bytes | None:
        """A regular file's staged bytes (None: absent, a symlink, or over the read bound)."""
        blob = self.blobs.get(path)
        return None if blob is None or blob.is_symlink else blob.data


def run_check(root: Path, max_bytes: int) -> CheckReport:
    """Run every check of the repository at `root` against what git is about to commit."""
    from mlcode.adapters.git import staged_changes, staged_sizes
    from mlcode.resources import templates_digest

    report = CheckReport()
    changes = staged_changes(root)
    staged = _Staged(root)
    staged.read([SPEC_FILE, MANIFEST_FILE])
    manifest = parse_manifest((staged.data(MANIFEST_FILE) or b"").decode("utf-8", "replace"))
    datasets = {norm_path(d): d for d in manifest.datasets}
    stage_outs_text: str | None = None
    spec = staged.data(SPEC_FILE)
    if spec is None:
        report.problems.append(_no_spec(root, staged.get(SPEC_FILE)))
        report.mode = FULL_MODE
    else:
        own_stack = _own_stack(spec)
        # one batch: generated files, the stack file, the datasets and their `.dvc` pointers
        pointers = [p for path in datasets for p in (path, *_pointers(path))]
        staged.read([*manifest.files, *([own_stack] if own_stack else []), *pointers])
        stack = staged.data(own_stack) if own_stack else preset_bytes(stack_name(spec))
        digests = {p: (b.sha256 if (b := staged.get(p)) else None) for p in manifest.files}
        if in_sync(manifest, spec, stack, digests, templates_digest()):
            staged.read([DVC_FILE])
            stage_outs_text = (staged.data(DVC_FILE) or b"").decode("utf-8", "replace")
        else:
            report.mode = FULL_MODE
            full = _full_check(root, spec, staged, manifest, report)
            if full is not None:
                declared, stage_outs_text = full
                datasets = {norm_path(d): d for d in declared}
    report.problems.extend(
        _staged_problems(changes, staged_sizes(root, changes), max_bytes, set(datasets))
    )
    if stage_outs_text is not None:
        changed = {norm_path(c.path) for c in changes}
        report.problems.extend(_unversioned(root, staged, datasets, changed, stage_outs_text))
    return report


def _own_stack(spec: bytes) -> str | None:
    from mlcode.resources import is_stack_path

    name = stack_name(spec)
    return norm_path(name) if is_stack_path(name) else None


def _no_spec(root: Path, blob: StagedBlob | None) -> str:
    if blob is not None and blob.is_symlink:
        return "ml.yaml is staged as a symlink; commit the file itself (`git add ml.yaml`)"
    if blob is not None:
        return (
            f"ml.yaml as staged is {blob.size:,} bytes; a configuration file over "
            f"{_CONFIG_BYTES:,} bytes is refused (is this really the right file?)"
        )
    if (root / SPEC_FILE).exists():
        return "ml.yaml is not in the commit (git does not track it): `git add ml.yaml`"
    return "no ml.yaml at the repository root; create one with `mlcode init`"


def _full_check(
    root: Path, spec: bytes, staged: _Staged, manifest: Manifest, report: CheckReport
) -> tuple[list[str], str] | None:
    """Compile the staged ml.yaml and compare with the staged files. Returns the declared dataset
    paths and the compiled dvc.yaml, or None when ml.yaml (as staged) is invalid."""
    from mlcode.compile import compile_project
    from mlcode.errors import Location, Problem, SpecError, UserError
    from mlcode.spec.load import load_project_text

    def stack_file(path: str) -> bytes | None:
        rel = norm_path(path)
        staged.read([rel])
        blob = staged.get(rel)
        if blob is not None and (blob.is_symlink or blob.data is None):
            why = (
                "is staged as a symlink; commit the file itself"
                if blob.is_symlink
                else f"is {blob.size:,} bytes as staged; a stack file over "
                f"{_CONFIG_BYTES:,} bytes is refused"
            )
            raise SpecError([Problem(Location(path), "", f"stack file {path!r} {why}")])
        return staged.data(rel)

    try:
        project = load_project_text(
            root,
            spec,
            stack_file,
            missing="is not in the commit: git does not track it (as a regular file); `git add` it",
        )
    except SpecError as exc:
        report.problems.append(
            "ml.yaml (as staged) is invalid:\n" + "\n".join(f"    {p}" for p in exc.problems)
        )
        return None
    except UserError as exc:
        report.problems.append(exc.message)
        return None
    compiled = compile_project(project.spec, project.stack)
    report.problems.extend(_compare(compiled, staged, manifest))
    declared = [ds.path for ds in project.spec.data.values()]
    return declared, compiled.get(DVC_FILE, "")


def _compare(compiled: dict[str, str], staged: _Staged, manifest: Manifest) -> list[str]:
    """The generated files the commit lacks, has stale, or still has though no longer generated."""
    staged.read([*compiled, *manifest.files])
    expected = {path: sha256_text(text) for path, text in compiled.items()}
    missing = [p for p in sorted(expected) if not staged.has(p)]
    stale = [p for p in sorted(expected) if (b := staged.get(p)) and b.sha256 != expected[p]]
    leftover = [p for p in sorted(manifest.files) if p not in expected and staged.has(p)]
    if not staged.has(MANIFEST_FILE):
        missing.append(MANIFEST_FILE)
    elif manifest.files != expected:
        stale.append(MANIFEST_FILE)
    problems: list[str] = []
    note = _experiment_note(compiled, staged, manifest) if PARAMS_FILE in stale else None
    if note:  # params.yaml holding `dvc exp` params: say so instead of "run apply"
        problems.append(note)
        stale.remove(PARAMS_FILE)
    if not (missing or stale or leftover):
        return problems
    parts = []
    if missing:
        parts.append("missing from the commit: " + ", ".join(missing))
    if stale:
        parts.append("stale in the commit: " + ", ".join(stale))
    if leftover:
        parts.append("no longer generated but still in the commit: " + ", ".join(leftover))
    problems.append(
        "generated files are out of sync with ml.yaml (as staged); "
        + "; ".join(parts)
        + ". Run `mlcode apply`, `git add` those files, and commit again."
    )
    return problems


def _experiment_note(compiled: dict[str, str], staged: _Staged, manifest: Manifest) -> str | None:
    """The experiment explanation when the staged params.yaml changed since the last apply and
    differs from the generated one only in model values (what `dvc exp` writes)."""
    from mlcode.adapters.git import staged_differs_from_head
    from mlcode.project.experiments import explain

    blob = staged.get(PARAMS_FILE)
    if blob is None or blob.sha256 == manifest.files.get(PARAMS_FILE):
        return None
    if not staged_differs_from_head(staged.root, PARAMS_FILE):
        return None  # the commit keeps HEAD's params.yaml: stale, not an experiment's values
    data = staged.data(PARAMS_FILE)
    if data is None:
        return None
    return explain(compiled[PARAMS_FILE], data.decode("utf-8", "replace"))


def _staged_problems(
    changes: list[StagedChange], sizes: dict[str, int], max_bytes: int, datasets: set[str]
) -> list[str]:
    """Datasets and large files among everything the commit adds or changes."""
    problems: list[str] = []
    for change in changes:
        path = change.path
        size = sizes.get(path, 0)
        how = f" (renamed from {change.source})" if change.status == "R" else ""
        how = f" (copied from {change.source})" if change.status == "C" else how
        if norm_path(path) in datasets:
            problems.append(
                f"{path}{how} is a dataset declared in ml.yaml but is staged into git; data is "
                f"versioned by DVC: `git rm --cached {path}` then `mlcode apply`"
            )
        elif size > max_bytes:
            problems.append(
                f"{path}{how} is staged into git and is {size:,} bytes (limit {max_bytes:,}); "
                f"version it with DVC instead: `git rm --cached {path} && dvc add {path}`"
            )
    return problems


def _pointers(path: str) -> list[str]:
    """The `.dvc` files that would version `path`: its own, or one of a folder holding it."""
    out = [path + ".dvc"]
    parent = posixpath.dirname(path)
    while parent:
        out.append(parent + ".dvc")
        parent = posixpath.dirname(parent)
    return out


def _unversioned(
    root: Path, staged: _Staged, datasets: Mapping[str, str], changed: set[str], dvc_text: str
) -> list[str]:
    """Declared datasets the commit does not version with DVC: kept in git (from an earlier
    commit; those staged now are reported with the staged changes), or without a `.dvc` pointer
    (outputs of pipeline stages aside: DVC versions those through dvc.lock)."""
    datasets = {p: d for p, d in datasets.items() if _plain(p) and p not in changed}
    staged.read([p for path in datasets for p in (path, *_pointers(path))])
    problems: list[str] = []
    outs: set[str] | None = None
    for path, declared in sorted(datasets.items()):
        pointer = path + ".dvc"
        if staged.has(path):
            problems.append(
                f"dataset {declared} is declared in ml.yaml but git tracks it (from an earlier "
                f"commit); data is versioned by DVC: `git rm --cached {path}` then `mlcode apply`"
            )
            continue
        if any(map(staged.has, _pointers(path))):
            continue
        outs = _stage_outputs(dvc_text) if outs is None else outs
        if path in outs:
            continue
        if (root / pointer).is_file():
            problems.append(
                f"dataset {declared} is declared in ml.yaml but its DVC pointer {pointer} is not "
                f"in the commit: `git add {pointer}`"
            )
        elif (root / path).is_file():
            problems.append(
                f"dataset {declared} is declared in ml.yaml but not versioned with DVC (no "
                f"{pointer} in the commit): run `mlcode apply`, which runs `dvc add` and stages "
                "the pointer"
            )
        else:
            problems.append(
                f"dataset {declared} is declared in ml.yaml but neither the file nor its DVC "
                f"pointer {pointer} exists: put the data at {path} and run `mlcode apply`, or "
                "correct the path in ml.yaml"
            )
    return problems


def _stage_outputs(dvc_text: str) -> set[str]:
    """Every path a stage of `dvc.yaml` writes (outs, metrics, plots), normalised."""
    import yaml

    try:
        data = yaml.load(dvc_text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except yaml.YAMLError:
        return set()
    stages = data.get("stages") if isinstance(data, dict) else None
    outs: set[str] = set()
    for stage in (stages or {}).values() if isinstance(stages, dict) else []:
        if not isinstance(stage, dict):
            continue
        wdir = str(stage.get("wdir") or ".")
        for key in ("outs", "metrics", "plots"):
            items = stage.get(key)
            for item in items if isinstance(items, list) else []:
                names = [item] if isinstance(item, str) else list(item or {})
                outs.update(norm_path(posixpath.join(wdir, str(n))) for n in names)
    return outs
