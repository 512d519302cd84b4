"""The plan: what `apply` would change, as a value. Pure: compiled files + what is on disk +
the manifest → Plan. Rendering lives in `mlcode.planview`, execution in `mlcode.apply`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from mlcode.compile.header import is_generated, is_pristine
from mlcode.manifest import Manifest, sha256_text

Action = Literal["create", "update", "delete", "noop"]


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

    @property
    def changes(self) -> list[FileChange]:
        """File changes other than no-ops."""
        return [c for c in self.files if c.action != "noop"]

    @property
    def has_changes(self) -> bool:
        """True when apply would change anything."""
        return bool(self.changes or self.remote or self.dvc_init or self.track)

    def counts(self) -> tuple[int, int, int]:
        """(to add, to change, to destroy), Terraform-style."""
        add = sum(c.action == "create" for c in self.files) + len(self.track)
        change = sum(c.action == "update" for c in self.files) + (1 if self.remote else 0)
        destroy = sum(c.action == "delete" for c in self.files)
        return add, change, destroy

    @property
    def refusals(self) -> list[FileChange]:
        """Changes apply refuses without --force (hand edits) or at all (foreign files)."""
        return [c for c in self.changes if c.hand_edited or c.foreign]


def plan_files(
    compiled: dict[str, str], on_disk: dict[str, str | None], manifest: Manifest
) -> list[FileChange]:
    """Compare compiled files with the disk. `on_disk` maps every compiled or manifest path to its
    current text (None when absent)."""
    out: list[FileChange] = []
    for path in sorted(set(compiled) | set(manifest.files)):
        new = compiled.get(path)
        old = on_disk.get(path)
        recorded = manifest.files.get(path)
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
        elif old is not None:
            out.append(FileChange(path, "delete", old, None, hand_edited=edited))
    return out
