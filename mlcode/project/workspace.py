"""Read the working tree into a Plan: compile, read targets safely, ask DVC once for stale stages.

This is the I/O edge of planning; the decisions themselves are pure (`mlcode.project.plan`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from mlcode import __version__
from mlcode.errors import UserError
from mlcode.layout import DVC_FILE, MANIFEST_FILE, STATE_DIR
from mlcode.project.manifest import Manifest, parse_manifest, sha256_text
from mlcode.project.plan import Plan, owned, plan_files
from mlcode.project.sync import current_inputs
from mlcode.resources import is_stack_path

if TYPE_CHECKING:
    from mlcode.adapters.dvc import PendingStatus
    from mlcode.spec.load import Project

# While `dvc add` runs, apply keeps a hard link of each dataset here: DVC removes the file and
# copies it back from its cache, and an interruption in between must not lose it.
RESCUE_DIR = f"{STATE_DIR}/rescue"


@dataclass(frozen=True)
class Workspace:
    """A loaded project at the root of its git work tree."""

    root: Path
    project: Project
    inputs: str


def stack_bytes(project: Project) -> bytes:
    """The bytes of the stack file a project uses (preset or own file)."""
    from mlcode.resources import stack_presets

    name = project.spec.stack
    path = (project.root / name) if is_stack_path(name) else stack_presets()[name]
    return path.read_bytes()


def open_workspace(root: Path) -> Workspace:
    """Load and validate the ml.yaml and stack at the repository root `root`."""
    from mlcode.spec.load import load_project  # pydantic: imported once `dvc status` has started

    if not (root / "ml.yaml").is_file():
        raise UserError(f"no ml.yaml at the repository root {root}; create one with `mlcode init`")
    project = load_project(root)
    inputs = current_inputs((root / "ml.yaml").read_bytes(), stack_bytes(project))
    return Workspace(root, project, inputs)


def safe_target(root: Path, rel: str) -> Path:
    """`root/rel`, refusing paths that escape the repository or go through symlinks."""
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise UserError(f"refusing to write {rel!r}: the path leaves the repository")
    full = root.joinpath(*pure.parts)
    probe = root
    for part in pure.parts:
        probe = probe / part
        if probe.is_symlink():
            raise UserError(
                f"refusing to write {rel!r}: {probe.relative_to(root)} is a symlink "
                "(mlcode writes only regular files inside the repository)"
            )
    real_root = os.path.realpath(root)
    if os.path.commonpath([real_root, os.path.realpath(full)]) != real_root:
        raise UserError(f"refusing to write {rel!r}: it resolves outside the repository")
    return full


def read_text(path: Path) -> str | None:
    """A file's text, or None when absent."""
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise UserError(f"{path} is a directory where mlcode generates a file") from None


def read_manifest(root: Path) -> Manifest:
    """The manifest of generated files (empty when absent)."""
    return parse_manifest(read_text(root / MANIFEST_FILE))


def start_status(root: Path) -> PendingStatus | None:
    """Start `dvc status` in the background when a pipeline exists on disk (else None)."""
    from mlcode.adapters.dvc import PendingStatus

    if (root / ".dvc").is_dir() and (root / DVC_FILE).is_file():
        return PendingStatus(root)
    return None


def compute_plan(
    ws: Workspace, *, with_status: bool = True, pending: PendingStatus | None = None
) -> tuple[Plan, dict[str, str]]:
    """The plan for a workspace, and the compiled files it is based on.

    `pending` is a `dvc status` started earlier (see `start_status`) so it ran while mlcode
    loaded and compiled; without it, and with `with_status`, DVC is asked here.
    """
    from mlcode.compile import compile_project
    from mlcode.project.remote import parse_config, remote_change
    from mlcode.project.sync import in_sync_fast

    manifest = read_manifest(ws.root)
    if manifest.inputs == ws.inputs and in_sync_fast(ws.root, manifest) and owned(manifest):
        # Compiling is deterministic in the inputs hash the manifest records: the generated files
        # on disk are exactly what compiling would return, so skip the work.
        compiled = {p: read_text(safe_target(ws.root, p)) or "" for p in owned(manifest)}
    else:
        compiled = compile_project(ws.project.spec, ws.project.stack)
    paths = set(compiled) | set(owned(manifest)) | {MANIFEST_FILE}
    on_disk = {path: read_text(safe_target(ws.root, path)) for path in paths}
    files = plan_files(compiled, on_disk, manifest, desired_manifest(ws, compiled).to_text())
    config = read_text(ws.root / ".dvc" / "config")
    dvc_init = config is None
    remote = remote_change(
        ws.project.stack,
        ws.project.spec.project,
        parse_config(config or ""),
    )
    track, untrack = dataset_changes(ws)
    imports = import_changes(ws)
    stage = unstaged(ws, compiled, files)
    rescue = rescued(ws)
    stale: dict[str, list[str]] = {}
    if with_status or pending is not None:
        stale = stale_stages(
            ws.root, compiled.get(DVC_FILE), on_disk.get(DVC_FILE), dvc_init, pending
        )
    written = {c.path for c in files if c.action in ("create", "update")}
    notes: list[str] = []
    if written:
        from mlcode.compile import apply_notes

        notes = [
            note
            for path, note in apply_notes(ws.project.spec, ws.project.stack).items()
            if path in written
        ]
    plan = Plan(
        files=files,
        remote=remote,
        dvc_init=dvc_init,
        track=track,
        stale=stale,
        inputs=ws.inputs,
        untrack=untrack,
        autostage=not dvc_init and not autostage_set(config or ""),
        stage=stage,
        rescue=rescue,
        imports=imports,
        notes=notes,
    )
    return plan, compiled


def desired_manifest(ws: Workspace, compiled: dict[str, str]) -> Manifest:
    """The manifest a successful apply of `compiled` writes."""
    return Manifest(
        files={p: sha256_text(t) for p, t in compiled.items()},
        inputs=ws.inputs,
        mlcode_version=__version__,
        datasets=tuple(sorted({ds.path for ds in ws.project.spec.data.values()})),
    )


def autostage_set(config: str) -> bool:
    """True when `.dvc/config` sets `core.autostage` (to anything: a user may turn it off)."""
    section = ""
    for line in config.splitlines():
        text = line.strip()
        if text.startswith("["):
            section = text.strip("[]'\" ").strip()
        elif section == "core" and text.split("=", 1)[0].strip() == "autostage":
            return True
    return False


def versioned_datasets(ws: Workspace) -> list[str]:
    """Declared dataset paths DVC versions through a `.dvc` pointer (not a stage's output: a user
    stage's, or the ingest stage of a dataset whose source is a command)."""
    from mlcode.project.preflight import symlink_problem
    from mlcode.spec.model import CmdSource

    outputs = _stage_outputs(ws)
    paths = {
        ds.path for ds in ws.project.spec.data.values() if not isinstance(ds.source, CmdSource)
    }
    # a dataset behind a symlink cannot be versioned (apply refuses it; git cannot even look)
    return sorted(p for p in paths if p not in outputs and not symlink_problem(ws.root, p))


def dataset_changes(ws: Workspace) -> tuple[list[str], list[str]]:
    """(to `dvc add`, to stop tracking in git first) among the declared datasets on disk.

    A dataset counts as versioned only when its pointer is whole and git ignores the data (what a
    completed `dvc add` leaves); anything less, e.g. after an interruption, is added again.
    """
    from mlcode.adapters import git

    saved = set(rescued(ws))
    imported = set(import_sources(ws))
    present = [
        p
        for p in versioned_datasets(ws)
        if ((ws.root / p).is_file() or p in saved) and p not in imported
    ]
    if not present:
        return [], []
    in_git = git.tracked(ws.root, present)
    ignored = git.ignored(ws.root, present)
    track = [
        p
        for p in present
        if p in in_git or p not in ignored or not pointer_ok(ws.root / (p + ".dvc"), p)
    ]
    return track, [p for p in present if p in in_git]


def import_sources(ws: Workspace) -> dict[str, str]:
    """Dataset path → the source DVC imports it from (`dvc import-url SOURCE PATH`), for datasets
    whose `source` is a URL. A relative local path in ml.yaml is relative to the repository root;
    DVC reads it relative to the dataset's folder, so it is given (and recorded) in that form."""
    from mlcode.spec.model import UrlSource
    from mlcode.spec.urls import is_url

    versioned = set(versioned_datasets(ws))
    out: dict[str, str] = {}
    for ds in ws.project.spec.data.values():
        if not isinstance(ds.source, UrlSource) or ds.path not in versioned:
            continue
        url = ds.source.url
        if not is_url(url) and not os.path.isabs(url):
            folder = (ws.root / ds.path).parent
            url = PurePosixPath(os.path.relpath(ws.root / url, folder)).as_posix()
        out[ds.path] = url
    return dict(sorted(out.items()))


def import_changes(ws: Workspace) -> dict[str, str]:
    """The url-sourced datasets `dvc import-url` must (re)import, with their sources: no whole
    import pointer from that source yet, or the data on disk is not ignored by git (what a
    completed import leaves). A whole pointer without the data is a clone before `dvc pull`."""
    from mlcode.adapters import git

    sources = import_sources(ws)
    if not sources:
        return {}
    on_disk = [p for p in sources if (ws.root / p).is_file()]
    ignored = git.ignored(ws.root, on_disk) if on_disk else {}
    return {
        p: url
        for p, url in sources.items()
        if not import_ok(ws.root / (p + ".dvc"), p, url) or (p in on_disk and p not in ignored)
    }


def import_ok(pointer: Path, data: str, url: str) -> bool:
    """True when `pointer` is a whole `.dvc` file importing `data` from `url`."""
    doc = _pointer_doc(pointer)
    if doc is None or not pointer_ok(pointer, data):
        return False
    deps = doc.get("deps")
    return (
        isinstance(deps, list)
        and len(deps) == 1
        and isinstance(deps[0], dict)
        and deps[0].get("path") == url
    )


def _pointer_doc(pointer: Path) -> dict[str, Any] | None:
    import yaml

    text = read_text(pointer) if pointer.is_file() else None
    try:
        doc = yaml.safe_load(text) if text else None
    except yaml.YAMLError:
        return None
    return doc if isinstance(doc, dict) else None


def rescued(ws: Workspace) -> list[str]:
    """Datasets missing from disk whose hard link an interrupted `dvc add` left in RESCUE_DIR."""
    rescue = ws.root / RESCUE_DIR
    if not rescue.is_dir():
        return []
    return [
        p for p in versioned_datasets(ws) if not (ws.root / p).exists() and (rescue / p).is_file()
    ]


def pointer_ok(pointer: Path, data: str) -> bool:
    """True when `pointer` is a whole `.dvc` file naming `data` with a hash."""
    import yaml

    text = read_text(pointer) if pointer.is_file() else None
    if not text:
        return False
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return False
    outs = doc.get("outs") if isinstance(doc, dict) else None
    if not isinstance(outs, list) or len(outs) != 1 or not isinstance(outs[0], dict):
        return False
    out = outs[0]
    return out.get("path") == PurePosixPath(data).name and bool(out.get("md5") or out.get("etag"))


def stage_paths(ws: Workspace, compiled: dict[str, str]) -> list[str]:
    """Every file a completed apply has staged in git (those that exist)."""
    from mlcode.spec.jsonschema import SCHEMA_FILE

    paths = [*compiled, MANIFEST_FILE, f"{STATE_DIR}/.gitignore", "ml.yaml", SCHEMA_FILE]
    paths += [".dvc/config", ".dvc/.gitignore", ".dvcignore"]
    stack = ws.project.spec.stack
    if is_stack_path(stack):
        paths.append(PurePosixPath(stack.replace("\\", "/")).as_posix())
    for data in versioned_datasets(ws):
        paths.append(data + ".dvc")
        paths.append(str(PurePosixPath(data).parent / ".gitignore").removeprefix("./"))
    return list(dict.fromkeys(paths))


def unstaged(ws: Workspace, compiled: dict[str, str], files: list[Any]) -> list[str]:
    """Files apply stages whose working-tree state git has not staged (beyond the file changes
    the plan lists already)."""
    from mlcode.adapters import git

    listed = {c.path for c in files if c.action != "noop"}
    paths = [p for p in stage_paths(ws, compiled) if p not in listed]
    return [p for p in git.unstaged(ws.root, paths) if p in set(paths)]


def _stage_outputs(ws: Workspace) -> set[str]:
    outs: set[str] = set()
    for stage in ws.project.spec.stages.values():
        for item in stage.outs:
            outs.update([item] if isinstance(item, str) else list(item))
    return outs


def _stages(text: str | None) -> dict[str, Any]:
    import yaml

    if not text:
        return {}
    try:
        # libyaml's loader when present: same result as safe_load, several times faster
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except yaml.YAMLError:
        return {}
    stages = data.get("stages") if isinstance(data, dict) else None
    return stages if isinstance(stages, dict) else {}


def stale_stages(
    root: Path,
    compiled_dvc: str | None,
    disk_dvc: str | None,
    dvc_missing: bool,
    pending: PendingStatus | None = None,
) -> dict[str, list[str]]:
    """Stage → reasons it would run. One `dvc status` call when a pipeline exists on disk."""
    from mlcode.adapters import dvc

    stale: dict[str, list[str]] = {}
    # Same text, same stages: no stage is new or changed, and parsing a large dvc.yaml twice
    # (about a second each at 1,000 models) would only compete with DVC for the CPU.
    new = {} if compiled_dvc == disk_dvc else _stages(compiled_dvc)
    old = {} if compiled_dvc == disk_dvc else _stages(disk_dvc)
    for name in sorted(set(new) - set(old)):
        stale[name] = ["new stage, never run"]
    for name in sorted(set(new) & set(old)):
        if new[name] != old[name]:
            stale[name] = ["its definition changes on apply"]
    if dvc_missing or disk_dvc is None:
        if pending is not None:
            pending.cancel()
        return stale
    status = pending.result() if pending is not None else dvc.status(root)
    for name, entries in sorted(status.items()):
        if name.endswith(".dvc"):
            continue
        stage = name.split(":")[-1]
        stale.setdefault(stage, []).extend(_reasons(entries) or ["changed"])
    return dict(sorted(stale.items()))


def _reasons(entries: Any) -> list[str]:
    reasons: list[str] = []
    if not isinstance(entries, list):
        return ["changed"]
    for entry in entries:
        if isinstance(entry, str):
            reasons.append(entry)
        elif isinstance(entry, dict):
            for kind, items in entry.items():
                if isinstance(items, dict):
                    for path, state in sorted(items.items()):
                        if isinstance(state, dict):
                            for key, sub in sorted(state.items()):
                                reasons.append(f"{kind}: {path}:{key} {sub}")
                        else:
                            reasons.append(f"{kind}: {path} {state}")
                else:
                    reasons.append(f"{kind}")
    return reasons
