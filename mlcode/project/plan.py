"""The plan: what `apply` would change, as a value. Pure: compiled files + what is on disk +
the manifest → Plan. Reading the disk is `mlcode.project.workspace`, rendering
`mlcode.project.planview`, execution `mlcode.project.apply`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from mlcode.compile.header import is_generated, is_pristine
from mlcode.layout import DVC_FILE, MANIFEST_FILE, PARAMS_FILE
from mlcode.project.manifest import Manifest, sha256_text

Action = Literal["create", "update", "delete", "noop"]

# Every path compile can generate. Only these are ever deleted, and only while they still carry
# mlcode's header: whatever a (tampered) manifest lists, ml.yaml, data and `.git/` are never touched.
GENERATED_PATHS = frozenset(
    {
        DVC_FILE,
        PARAMS_FILE,
        ".github/workflows/mlcode-pr.yml",
        ".github/workflows/mlcode-retrain.yml",
        ".github/workflows/mlcode-finalize.yml",
        ".gitlab-ci.yml",
    }
)


@dataclass(frozen=True)
class FileChange:
    """One generated file: what happens to it and why it may be refused."""

    path: str
    action: Action
    old: str | None = None
    new: str | None = None
    hand_edited: bool = False  # the file on disk differs from what mlcode last wrote
    foreign: bool = False  # the file exists but mlcode never generated it


@dataclass(frozen=True)
class RemoteChange:
    """A change to the DVC remote configuration in `.dvc/config`."""

    name: str
    old_url: str | None
    new_url: str
    options: dict[str, str] = field(default_factory=dict)  # option → new value (changed only)
    make_default: bool = False


@dataclass(frozen=True)
class Plan:
    """Everything `apply` would do, and what the pipeline's state is."""

    files: list[FileChange]
    remote: RemoteChange | None = None
    dvc_init: bool = False
    track: list[str] = field(default_factory=list)  # datasets to put under DVC (`dvc add`)
    stale: dict[str, list[str]] = field(default_factory=dict)  # stage → reasons
    inputs: str = ""
    untrack: list[str] = field(default_factory=list)  # datasets tracked by git: `git rm --cached`
    autostage: bool = False  # `core.autostage` is not set in .dvc/config yet
    stage: list[str] = field(default_factory=list)  # files apply stages that git has not staged
    rescue: list[str] = field(default_factory=list)  # datasets to put back from an interrupted add
    # url-sourced datasets to (re)import: path → source given to `dvc import-url`
    imports: dict[str, str] = field(default_factory=dict)
    # what a person must do outside the repository for the files this plan writes (apply cannot)
    notes: list[str] = field(default_factory=list)

    @property
    def changes(self) -> list[FileChange]:
        """File changes other than no-ops."""
        return [c for c in self.files if c.action != "noop"]

    @property
    def has_changes(self) -> bool:
        """True when apply would change anything."""
        return bool(
            self.changes
            or self.remote
            or self.dvc_init
            or self.track
            or self.imports
            or self.untrack
            or self.autostage
            or self.stage
        )

    def counts(self) -> tuple[int, int, int]:
        """(to add, to change, to destroy), Terraform-style."""
        add = sum(c.action == "create" for c in self.files) + len(self.track) + len(self.imports)
        change = sum(c.action == "update" for c in self.files) + (1 if self.remote else 0)
        change += int(self.autostage)
        destroy = sum(c.action == "delete" for c in self.files)
        return add, change, destroy


def owned(manifest: Manifest) -> dict[str, str]:
    """The manifest's entries mlcode may act on: generated paths only (a tampered manifest cannot
    make apply read, overwrite or delete anything else)."""
    return {p: h for p, h in manifest.files.items() if p in GENERATED_PATHS}


def plan_files(
    compiled: dict[str, str],
    on_disk: dict[str, str | None],
    manifest: Manifest,
    new_manifest: str | None = None,
) -> list[FileChange]:
    """Compare compiled files with the disk. `on_disk` maps every compiled or owned manifest path
    (and the manifest itself) to its current text (None when absent).

    A file whose text already equals what compile produces is a no-op whatever the manifest says
    (an interrupted apply may have written it). A file that is no longer generated is deleted only
    when it is a generated path that still carries mlcode's header. `new_manifest` is the manifest
    apply would write: it is written last, so while it differs the plan is never empty.
    """
    out: list[FileChange] = []
    recorded_files = owned(manifest)
    for path in sorted(set(compiled) | set(recorded_files)):
        new = compiled.get(path)
        old = on_disk.get(path)
        recorded = recorded_files.get(path)
        if old is None:
            edited = False
        elif recorded is not None:
            edited = sha256_text(old) != recorded
        else:  # manifest lost: trust the id in the file's own header
            edited = is_generated(old) and not is_pristine(old)
        if new is not None:
            if old is None:
                out.append(FileChange(path, "create", None, new))
            elif old == new:
                out.append(FileChange(path, "noop", old, new))
            else:
                foreign = recorded is None and not is_generated(old)
                out.append(
                    FileChange(path, "update", old, new, hand_edited=edited, foreign=foreign)
                )
        elif old is not None and is_generated(old):
            out.append(FileChange(path, "delete", old, None, hand_edited=edited))
    if new_manifest is not None:
        old = on_disk.get(MANIFEST_FILE)
        action: Action = "create" if old is None else "noop" if old == new_manifest else "update"
        out.append(FileChange(MANIFEST_FILE, action, old, new_manifest))
    return out
