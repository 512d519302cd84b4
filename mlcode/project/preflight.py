"""What apply would refuse about a valid ml.yaml in its working tree, as located problems.

`validate` reports these after the schema and semantic checks, and `apply` refuses on them before
its first write, so validate never passes what apply refuses:

- a dataset (or a folder on its path) that is a symlink: DVC refuses files in a symlinked folder and
  replaces a symlinked file with a copy;
- a `.gitignore` rule that ignores a dataset's `.dvc` pointer (or its folder): DVC refuses to
  write a git-ignored pointer (`git check-ignore`, the rule DVC applies);
- a command DVC cannot interpolate (`mlcode.compile.interpolation`);
- a user stage output that is (or contains, or lies inside) another stage's output: DVC refuses
  overlapping outputs;
- a dataset with a `source` that git tracks (a source's data is DVC's: stop tracking it in git
  first), or whose `source` is a command while a `.dvc` pointer still versions it (its ingest stage
  owns the file: DVC refuses two owners);
- a file at a path this project generates that mlcode did not write (no header, not in the
  manifest): apply never overwrites it; or one that git ignores: apply could not stage it.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Any

from mlcode.compile import interpolation
from mlcode.errors import Location, Problem, UserError
from mlcode.spec.load import Project
from mlcode.spec.model import CmdSource, MlSpec
from mlcode.spec.yamlsource import Positions, render_path


def _datasets(project: Project) -> dict[str, str]:
    """Dataset name → path, for datasets DVC versions through a pointer (not stage outputs)."""
    outs: set[str] = set()
    for stage in project.spec.stages.values():
        for item in stage.outs:
            outs.update([item] if isinstance(item, str) else list(item))
    return {
        n: ds.path
        for n, ds in project.spec.data.items()
        if ds.path not in outs and not isinstance(ds.source, CmdSource)
    }


def source_problems(project: Project) -> list[Problem]:
    """Datasets with a `source` that git tracks, or whose ingest stage would share the file with
    a `.dvc` pointer."""
    from mlcode.adapters import git

    root = project.root
    sourced = {n: ds for n, ds in project.spec.data.items() if ds.source is not None}
    if not sourced:
        return []
    try:
        in_git = set(git.tracked(root, sorted({ds.path for ds in sourced.values()})))
    except UserError:  # not a git repository: nothing to ask git
        in_git = set()
    problems: list[Problem] = []
    for name, ds in sourced.items():
        where = ("data", name, "source")
        if ds.path in in_git:
            message = (
                f"git tracks {ds.path}, but a dataset with a `source` is versioned by DVC: run "
                f"`git rm --cached {ds.path}` and commit, or remove `source`"
            )
        elif isinstance(ds.source, CmdSource) and (root / (ds.path + ".dvc")).is_file():
            message = (
                f"{ds.path}.dvc still versions this dataset, but its ingest command's stage "
                f"writes it now and DVC refuses two owners: run `dvc remove {ds.path}.dvc` "
                "(the data stays) and commit"
            )
        else:
            continue
        problems.append(Problem(project.positions.locate(where), render_path(where), message))
    return problems


def symlink_problem(root: Path, rel: str) -> str | None:
    """Why a dataset at `rel` cannot be versioned because of a symlink on its path, or None."""
    probe = root
    parts = PurePosixPath(rel).parts
    for i, part in enumerate(parts):
        probe = probe / part
        if probe.is_symlink():
            shown = "/".join(parts[: i + 1])
            if i == len(parts) - 1:
                return (
                    f"{shown} is a symlink: DVC would replace it with a copy of its target; "
                    "put the file itself in the repository"
                )
            return (
                f"{shown}/ is a symlink: DVC cannot version files inside a symlinked folder; "
                "use a real folder"
            )
    return None


def dataset_problems(project: Project) -> list[Problem]:
    """Symlinks and git-ignored pointers on the datasets' paths."""
    from mlcode.adapters import git

    root = project.root
    problems: list[Problem] = []
    datasets = _datasets(project)
    behind_link = set()
    for name, path in project.spec.data.items():
        reason = symlink_problem(root, path.path)
        if reason:
            problems.append(_at(project, name, reason))
            behind_link.add(name)
    pointers = {p + ".dvc": n for n, p in datasets.items() if n not in behind_link}
    try:
        ignored = git.ignored(root, sorted(pointers), index=False)
    except UserError:  # not a git repository: nothing to ask git
        ignored = {}
    for pointer, rule in sorted(ignored.items()):
        problems.append(
            _at(
                project,
                pointers[pointer],
                f"{rule} ignores {pointer}, the DVC pointer of this dataset: DVC refuses to "
                "write it. Let git see the pointer (e.g. ignore `data/*` and add `!*.dvc`, not "
                "the whole folder)",
            )
        )
    return problems


def _at(project: Project, name: str, message: str) -> Problem:
    where = ("data", name, "path")
    return Problem(project.positions.locate(where), render_path(where), message)


def _outputs(stage: dict[str, Any]) -> list[str]:
    wdir = PurePosixPath(str(stage.get("wdir", ".")))
    out: list[str] = []
    for kind in ("outs", "metrics", "plots"):
        for item in stage.get(kind) or []:
            for path in [item] if isinstance(item, str) else list(item):
                if isinstance(path, str) and "${" not in path:
                    out.append(PurePosixPath(os.path.normpath(wdir / path)).as_posix())
    return out


def output_problems(spec: MlSpec, positions: Positions) -> list[Problem]:
    """User stages whose outputs overlap another stage's (pure: from the compiled stages)."""
    from mlcode.compile.dvc import dvc_data

    stages = dvc_data(spec).get("stages", {})
    owners: dict[str, str] = {}
    problems: list[Problem] = []
    for name, stage in stages.items():
        if not isinstance(stage, dict) or "foreach" in stage or "matrix" in stage:
            continue
        for path in _outputs(stage):
            clash = next(
                (
                    other
                    for other in owners
                    if other == path or other.startswith(path + "/") or path.startswith(other + "/")
                ),
                None,
            )
            if clash is not None and name in spec.stages:
                where = ("stages", name, "outs")
                problems.append(
                    Problem(
                        positions.locate(where),
                        render_path(where),
                        f"output {path!r} overlaps {clash!r}, an output of stage "
                        f"{owners[clash]!r}: DVC refuses two stages writing the same files",
                    )
                )
            owners.setdefault(path, name)
    return problems


def pure_problems(spec: MlSpec, positions: Positions) -> list[Problem]:
    """What DVC's loader would refuse, decided without DVC or the file system."""
    return interpolation.check(spec, positions) + output_problems(spec, positions)


# The CI files each provider gets, besides dvc.yaml and params.yaml (see mlcode.compile).
_CI_FILES = {
    "none": (),
    "github": (
        ".github/workflows/mlcode-pr.yml",
        ".github/workflows/mlcode-retrain.yml",
        ".github/workflows/mlcode-finalize.yml",
    ),
    "gitlab": (".gitlab-ci.yml",),
}


def generated_file_problems(project: Project) -> list[Problem]:
    """Existing files at the paths this project generates that apply would refuse: written by
    someone else (no mlcode header and not in the manifest), or ignored by git (apply stages every
    generated file). Located at the file itself."""
    from mlcode.adapters import git
    from mlcode.adapters.fs import ReadRefused, read_bounded
    from mlcode.compile.header import is_generated
    from mlcode.layout import DVC_FILE, MANIFEST_FILE, PARAMS_FILE
    from mlcode.project.manifest import parse_manifest

    root = project.root
    paths = [DVC_FILE, PARAMS_FILE, *_CI_FILES.get(project.stack.ci, ())]

    def text(rel: str) -> str | None:
        try:
            return read_bounded(root / rel, 64 * 1024 * 1024).decode("utf-8", "replace")
        except (ReadRefused, OSError):
            return None

    owned = parse_manifest(text(MANIFEST_FILE)).files
    problems: list[Problem] = []
    for rel in paths:
        current = text(rel) if (root / rel).is_file() else None
        if current is not None and rel not in owned and not is_generated(current):
            problems.append(
                Problem(
                    Location(rel),
                    "",
                    f"{rel} exists and was not generated by mlcode: apply never overwrites it. "
                    "Move it away (for a hand-written dvc.yaml, bring its stages into ml.yaml "
                    "under `stages:`)",
                )
            )
    try:
        in_index = set(git.tracked(root, [*paths, MANIFEST_FILE]))
        ignored = git.ignored(root, [p for p in [*paths, MANIFEST_FILE] if p not in in_index])
    except UserError:  # not a git repository: nothing to ask git
        ignored = {}
    for rel, rule in sorted(ignored.items()):
        problems.append(
            Problem(
                Location(rel),
                "",
                f"{rule} ignores {rel}, which mlcode generates and apply stages in git: "
                "un-ignore it",
            )
        )
    return problems


def project_problems(project: Project) -> list[Problem]:
    """Every problem apply would refuse on, in file order."""
    problems = dataset_problems(project) + source_problems(project)
    problems += generated_file_problems(project)
    problems += pure_problems(project.spec, project.positions)
    return sorted(problems, key=lambda p: (p.location.line, p.location.column, p.field))
