"""One DVC-tracked file of this repository as a given commit tracks it (`dvc get`), written to a
path outside the workspace.

DVC's own machinery resolves the file from that commit's `.dvc` pointer or `dvc.lock` (a `.dir`
manifest included), takes it from the local cache when it is there, else from the remote that
commit configures, with DVC's own credentials handling, for every remote type the stacks use. It
writes only the file asked for (nothing in the workspace or the cache changes).
"""

from __future__ import annotations

from pathlib import Path

from mlcode.adapters.dvc import dvc


def get_file(root: Path, path: str, rev: str, dest: Path) -> None:
    """`dvc get ROOT PATH --rev REV -o DEST`; UserError (DVC's output) when it fails."""
    dvc(root, "get", str(root), path, "--rev", rev, "-o", str(dest), what="dvc get")


def last_error(text: str) -> str:
    """DVC's last `ERROR` line of a failure's output (else its last line): the reason to show."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR")]
    return (errors or lines or ["dvc get failed"])[-1]
