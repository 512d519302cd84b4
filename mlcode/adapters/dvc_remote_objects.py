"""Which DVC objects that given commits point to are not in a DVC remote (data before pointer).

The question is DVC's own (the objects `dvc push` would upload, by DVC's rules: `cache: false`,
`push: false` and imports left out; a directory's manifest and its files included), so it is
answered by DVC's Python API, in a child process: mlcode's own process never imports DVC. Run as
`python -m mlcode.adapters.dvc_remote_objects` with a JSON job on stdin; the parent side is
`missing_objects`.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlcode.adapters.proc import run
from mlcode.errors import UserError


@dataclass(frozen=True)
class MissingObject:
    """An object a commit points to that the remote lacks (`new`: only in the local cache;
    `missing`: in neither, nobody can push it from here)."""

    path: str
    md5: str
    commit: str
    state: str


def config_value(root: Path, section: str, key: str) -> str | None:
    """A value of DVC's config (`.dvc/config.local` first, then `.dvc/config`), as DVC reads it."""
    import configparser

    for name in ("config.local", "config"):
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(root / ".dvc" / name, encoding="utf-8")
        except configparser.Error:
            continue
        value = parser.get(section, key, fallback=None)
        if value:
            return value.strip()
    return None


def default_remote(root: Path) -> str | None:
    """The name of DVC's default remote (`core.remote`), local config first, as DVC reads it."""
    return config_value(root, "core", "remote")


def missing_objects(root: Path, commits: Sequence[str], remote: str | None) -> list[MissingObject]:
    """Objects the `commits` point to that DVC remote `remote` (None: DVC's default) lacks.

    Raises UserError naming the remote when it cannot be asked (unreachable, no credentials, no
    remote configured): a push is not let through unverified."""
    job = json.dumps({"revs": list(commits), "remote": remote})
    result = run(
        [sys.executable, "-m", "mlcode.adapters.dvc_remote_objects"],
        root,
        what="dvc (objects in the remote)",
        check=False,
        input_text=job,
        env={"NO_COLOR": "1"},
    )
    if result.returncode != 0:
        reason = (result.stderr or result.stdout or "").strip().splitlines()
        detail = reason[-1] if reason else f"exit {result.returncode}"
        name = f"'{remote}'" if remote else "(the default remote)"
        raise UserError(
            f"cannot check the DVC remote {name} for the data the pushed commits point to: "
            f"{detail}",
            hint="The push is refused because it cannot be verified (data before pointer). Fix "
            "the remote or its credentials and push again; `git push --no-verify` skips the check.",
        )
    try:
        rows = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise UserError(f"DVC's answer was not JSON: {result.stdout[:300]!r}") from None
    return [MissingObject(**row) for row in rows]


def unreachable(root: Path, remote: str | None, *, need_existing: bool) -> str | None:
    """Why DVC remote `remote` (None: DVC's default) cannot be used from here, or None when it
    can: one cheap authenticated look at the remote's root with DVC's own client and the
    credentials DVC would use. Denied, an unknown host or bucket, a dead server, a path under a
    dead mount: the reason. An empty or absent prefix is fine (objects missing are `dvc push`'s
    job); a local folder that does not exist is a reason only when `need_existing` (a pull)."""
    job = json.dumps({"reach": {"need_existing": need_existing}, "remote": remote})
    result = run(
        [sys.executable, "-m", "mlcode.adapters.dvc_remote_objects"],
        root,
        what="dvc (reaching the remote)",
        check=False,
        input_text=job,
        env={"NO_COLOR": "1"},
    )
    if result.returncode != 0:
        lines = (result.stderr or result.stdout or "").strip().splitlines()
        return lines[-1] if lines else f"DVC exited {result.returncode}"
    try:
        answer = json.loads(result.stdout)
    except json.JSONDecodeError:
        return f"DVC's answer was not JSON: {result.stdout[:300]!r}"
    reason = answer.get("reason") if isinstance(answer, dict) else "DVC's answer was not a mapping"
    return str(reason) if reason else None


_OBJECT_STORES = frozenset({"s3", "gs", "gcs", "azure", "oss"})


def _local_reason(path: str, need_existing: bool) -> str | None:  # pragma: no cover - child
    import os

    if os.path.isdir(path):
        return None
    if os.path.lexists(path) and not os.path.exists(path):
        return f"{path} is a symbolic link to nothing (a mount that went away?)"
    if os.path.exists(path):
        return f"{path} is not a folder"
    if need_existing:
        return f"{path} does not exist: there is nothing to pull from it (a wrong path?)"
    probe = os.path.dirname(path)
    while probe and not os.path.exists(probe):
        if os.path.lexists(probe):
            return f"{probe} is a symbolic link to nothing (a mount that went away?)"
        probe = os.path.dirname(probe)
    if probe and not os.path.isdir(probe):
        return f"{probe} is not a folder: DVC cannot create {path}"
    return None


def _reach(job: dict[str, Any]) -> dict[str, str | None]:  # pragma: no cover - child process
    from dvc.repo import Repo

    need_existing = bool(job["reach"].get("need_existing"))
    with Repo(".") as repo:
        odb = repo.cloud.get_remote_odb(job["remote"])
        fs = odb.fs
        top = odb.path
        for _ in range(2):  # DVC 3 keeps objects under <url>/files/md5
            top = fs.parent(top)
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        if protocol == "local":
            return {"reason": _local_reason(top, need_existing)}
        try:
            # one listing of the remote's top folder, with the credentials; nothing there: fine
            with contextlib.suppress(FileNotFoundError):
                fs.ls(top, detail=False)
            if protocol in _OBJECT_STORES:
                bucket = top.split("/", 1)[0]
                if not fs.exists(bucket):
                    return {"reason": f"the bucket {bucket!r} does not exist"}
        except Exception as exc:  # denied, unknown host, dead server: DVC's client's reason
            return {"reason": f"{type(exc).__name__}: {exc}".replace("\n", " ")}
    return {"reason": None}


def _probe(job: dict[str, Any]) -> list[dict[str, str]]:  # pragma: no cover - child process
    from dvc.repo import Repo

    remote = job["remote"]
    out: dict[str, dict[str, str]] = {}
    with Repo(".") as repo:
        for rev in job["revs"]:
            used: set[Any] = set()
            for _ in repo.brancher(revs=[rev], workspace=False):
                for odb, objs in repo.index.used_objs(
                    None, remote=remote, force=True, push=True
                ).items():
                    if odb is None:  # objects of imports live elsewhere
                        used.update(objs)
            status = repo.cloud.status(used, remote=remote)
            for state in ("new", "missing"):
                for info in getattr(status, state):
                    out.setdefault(
                        info.value,
                        {
                            "path": str(info.obj_name or ""),
                            "md5": str(info.value),
                            "commit": rev,
                            "state": state,
                        },
                    )
    return sorted(out.values(), key=lambda row: (row["path"], row["md5"]))


def _main() -> int:  # pragma: no cover - child process
    job = json.load(sys.stdin)
    try:
        rows: Any = _reach(job) if "reach" in job else _probe(job)
    except Exception as exc:  # DVC's reason goes to the parent, in one line
        print(f"{type(exc).__name__}: {exc}".replace("\n", " "), file=sys.stderr)
        return 2
    json.dump(rows, sys.stdout)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main())
