"""The DVC adapter: every call to DVC goes through here, as its CLI (`python -m dvc`).

Using the CLI keeps DVC out of mlcode's process (fast start) and matches what users run.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlcode.adapters.proc import clean_env, run
from mlcode.errors import UserError


def _dvc(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "dvc", *args]


def dvc(root: Path, *args: str, what: str | None = None, capture: bool = True) -> str:
    """Run `dvc ARGS` in `root`, returning stdout; a failure raises UserError naming the command
    as a person would type it and DVC's cause once (no interpreter path, no help footer)."""
    from mlcode.adapters.dvc_failure import cause

    what = what or f"dvc {args[0]}"
    result = run(_dvc(list(args)), root, what=what, check=False, capture=capture)
    if result.returncode != 0:
        output = (result.stderr or result.stdout or "") if capture else "DVC's output is above"
        raise UserError(
            f"{what} failed (exit {result.returncode}): `dvc {' '.join(args)}`: {cause(output)}"
        )
    return result.stdout or ""


def status(
    root: Path, targets: list[str] | None = None, *, with_deps: bool = False
) -> dict[str, Any]:
    """`dvc status --json`: stage name → list of changes; empty when up to date.

    `with_deps`: a target counts as stale when anything upstream of it is.
    """
    flags = ["--with-deps"] if with_deps else []
    out = dvc(root, "status", "--json", *flags, *(targets or []), what="dvc status")
    return _status_json(out)


def _status_json(out: str) -> dict[str, Any]:
    try:
        data = json.loads(out or "{}")
    except json.JSONDecodeError:
        raise UserError(f"dvc status printed something that is not JSON:\n{out[:500]}") from None
    return data if isinstance(data, dict) else {}


class PendingStatus:
    """`dvc status --json` started in the background, so its cost overlaps mlcode's own work."""

    def __init__(self, root: Path) -> None:
        self._proc = subprocess.Popen(
            _dvc(["status", "--json"]),
            cwd=root,
            env=clean_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def result(self) -> dict[str, Any]:
        """Wait for DVC and return its status (UserError when it failed)."""
        out, err = self._proc.communicate()
        if self._proc.returncode != 0:
            raise UserError(f"dvc status failed (exit {self._proc.returncode}):\n{err.strip()}")
        return _status_json(out)

    def cancel(self) -> None:
        """Stop DVC when its answer is no longer needed."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.communicate()


def repro(root: Path, targets: list[str], *, capture: bool = False, pull: bool = False) -> None:
    """`dvc repro TARGETS` showing DVC's own progress unless captured; `pull`: stages found in
    the remote's run-cache are restored (their outputs downloaded) instead of run."""
    flags = ["--pull"] if pull else []
    run(_dvc(["repro", *flags, *targets]), root, what="dvc repro", capture=capture)


def transfer(root: Path, *args: str, capture: bool = True) -> str:
    """`dvc push ARGS` / `dvc pull ARGS`, returning stdout; a failure is one readable error naming
    the remote, DVC's cause once and the command to rerun (`mlcode.adapters.dvc_failure`)."""
    from mlcode.adapters.dvc_failure import remote_failure

    result = run(_dvc(list(args)), root, what=f"dvc {args[0]}", check=False, capture=capture)
    if result.returncode != 0:
        output = (result.stderr or result.stdout or "") if capture else "DVC's output is above"
        raise remote_failure(root, list(args), output, result.returncode)
    return result.stdout or ""


def push_run(root: Path, targets: list[str], *, capture: bool = False) -> None:
    """`dvc push --run-cache --with-deps TARGETS`: the outputs of the targets and of every stage
    upstream of them, and the run-cache entries."""
    transfer(root, "push", "--run-cache", "--with-deps", *targets, capture=capture)


@dataclass(frozen=True)
class Diff:
    """`dvc metrics diff` / `dvc params diff` output: the data and the revisions DVC could not read.

    DVC exits 0 when it cannot read a revision (a corrupt dvc.lock, dvc.yaml or metrics file): it
    prints a warning on stderr and shows that side's values as null, which would read as "new".
    `unreadable` maps each such revision ('workspace' or REV) to DVC's own reason.
    """

    data: dict[str, Any]
    unreadable: dict[str, str]


def metrics_diff(root: Path, rev: str = "HEAD") -> Diff:
    """`dvc metrics diff REV --json`: {file: {metric: {old, new, diff}}}; failures raise UserError."""
    return _diff(root, "metrics", rev)


def params_diff(root: Path, rev: str = "HEAD") -> Diff:
    """`dvc params diff REV --json`: {file: {param: {old, new, diff}}}; failures raise UserError."""
    return _diff(root, "params", rev)


_FAILED_ONE = re.compile(r"failed to load \w+ in revision '([^']+)', (.+)$", re.MULTILINE)
_FAILED_REVS = re.compile(
    r"^.*failed to load some \w+ for following revisions: (.+)$", re.MULTILINE
)


def _diff(root: Path, kind: str, rev: str) -> Diff:
    what = f"dvc {kind} diff {rev}"
    result = run(_dvc([kind, "diff", rev, "--json"]), root, what=what)
    out = (result.stdout or "").strip()
    try:
        data = json.loads(out)
    except json.JSONDecodeError:
        shown = out[:500] or "nothing"
        raise UserError(f"{what} --json printed something that is not JSON:\n{shown}") from None
    if not isinstance(data, dict):
        raise UserError(f"{what} --json printed JSON that is not an object:\n{out[:500]}")
    return Diff(data, _unreadable(result.stderr or "", rev))


def _unreadable(stderr: str, rev: str) -> dict[str, str]:
    """Revision → DVC's reason, from DVC's warnings ("failed to load ... in revision 'R', why")."""
    reasons: dict[str, list[str]] = {}
    for match in _FAILED_ONE.finditer(stderr):
        reasons.setdefault(match.group(1), []).append(match.group(0).strip())
    for match in _FAILED_REVS.finditer(stderr):
        for name in re.findall(r"'([^']+)'", match.group(1)):
            reasons.setdefault(name, [match.group(0).strip()])
    if not reasons and "failed to load" in stderr.lower():  # a wording this parser does not know
        lines = [line.strip() for line in stderr.splitlines() if "failed to load" in line.lower()]
        reasons = {rev: lines, "workspace": lines}
    return {name: "; ".join(dict.fromkeys(why)) for name, why in reasons.items()}


# Runs in a child Python: DVC's own loader resolves the compiled dvc.yaml (interpolation, stage
# schema, the stage graph) in a temporary copy, so mlcode's process never imports DVC.
_PARSE_SCRIPT = """
import json, os, shutil, sys, tempfile
job = json.load(sys.stdin)
with tempfile.TemporaryDirectory() as tmp:
    for rel, text in job["files"].items():
        with open(os.path.join(tmp, rel), "w", encoding="utf-8") as handle:
            handle.write(text)
    for rel in job["copy"]:
        src = os.path.join(job["root"], rel)
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(tmp, rel)) or tmp, exist_ok=True)
            shutil.copyfile(src, os.path.join(tmp, rel))
    from dvc.repo import Repo
    os.chdir(tmp)
    try:
        repo = Repo(tmp, uninitialized=True)
        list(repo.index.stages)
        repo.index.graph
    except Exception as exc:
        failed = str(exc)
    else:
        failed = ""
    finally:
        os.chdir(job["root"])
if failed:
    print(failed, file=sys.stderr)
    sys.exit(1)
"""


def parse_problem(root: Path, files: dict[str, str], copy: list[str]) -> str | None:
    """DVC's own reason it cannot load `files` (dvc.yaml, params.yaml) as a pipeline, or None.

    `copy` names repository files the pipeline reads while loading (stage `vars` files)."""
    job = json.dumps({"root": str(root), "files": files, "copy": copy})
    result = run(
        [sys.executable, "-c", _PARSE_SCRIPT],
        root,
        what="dvc (checking dvc.yaml)",
        check=False,
        input_text=job,
        env={"NO_COLOR": "1"},
    )
    if result.returncode == 0:
        return None
    return (result.stderr or result.stdout).strip() or f"exit {result.returncode}"
