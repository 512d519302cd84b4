"""Data before pointer: push a model's stages' outputs, its data and DVC's run-cache to the stack's
DVC remote, then ask DVC whether each object the promotion commit will reference is there.

A promotion never pushes a git ref whose dvc.lock or pointers name data missing from the remote.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from mlcode.adapters.proc import run
from mlcode.errors import UserError


def _dvc(root: Path, args: list[str], what: str) -> tuple[str, str]:
    result = run([sys.executable, "-m", "dvc", *args], root, what=what)
    return result.stdout or "", result.stderr or ""


# DVC's warning when an object is in neither the cache nor the remote: `dvc status --cloud` then
# leaves the output out of its JSON (exit 0), so the warning's hashes are read too.
_NOWHERE = "do not exist neither locally nor on remote"
_HASH = re.compile(r"md5: ([0-9a-f]{32}(?:\.dir)?)")


def push(root: Path, targets: list[str]) -> None:
    """`dvc push --run-cache TARGETS` to the default remote (the one `mlcode apply` configured);
    a failure names the remote, DVC's cause once and the command to rerun."""
    from mlcode.adapters.dvc import transfer

    transfer(root, "push", "--run-cache", *targets)


def missing(root: Path, targets: list[str]) -> dict[str, str]:
    """Path → DVC's word ("new", "missing", ...) for each output of `targets` the remote lacks;
    empty when the remote holds everything (`dvc status --cloud --json`)."""
    out, err = _dvc(root, ["status", "--cloud", "--json", *targets], "dvc status --cloud")
    out = out.strip()
    try:
        data = json.loads(out or "{}")
    except json.JSONDecodeError:
        raise UserError(
            f"dvc status --cloud printed something that is not JSON:\n{out[:500]}"
        ) from None
    if not isinstance(data, dict):
        raise UserError(f"dvc status --cloud printed JSON that is not an object:\n{out[:500]}")
    found = {str(path): str(state) for path, state in data.items() if state != "deleted"}
    if _NOWHERE in err:
        for digest in _HASH.findall(err.split(_NOWHERE, 1)[1]):
            found[f"md5 {digest}"] = "missing from the cache and the remote"
    return found


def push_and_verify(root: Path, targets: list[str]) -> None:
    """Push, then refuse (UserError) unless the remote holds every object of `targets`."""
    push(root, targets)
    lacking = missing(root, targets)
    if lacking:
        listing = ", ".join(f"{path} ({state})" for path, state in sorted(lacking.items()))
        raise UserError(
            f"the DVC remote does not hold everything the promotion would reference after "
            f"`dvc push`: {listing}; no git ref was created or pushed",
            hint="Check the remote (`dvc remote list`, its credentials) and run promote again.",
        )
