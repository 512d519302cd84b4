"""Which DVC objects that given commits point to are not in a DVC remote (data before pointer).

The question is DVC's own (the objects `dvc push` would upload, by DVC's rules: `cache: false`,
`push: false` and imports left out; a directory's manifest and its files included), answered by
DVC's Python API in a child process: mlcode's own process never imports DVC. The parent hands it,
per commit, the objects its changed pointers name outright (path, md5: read from plain pointer
files, see mlcode.project.pointer_changes) and the targets left for DVC to resolve (imports,
templated stages), which DVC collects from one parse of its index at that commit. A directory's
files come from its manifest in the local cache. Then one `cloud.status` asks the remote about all
of them at once (DVC's batched existence query: a listing or one request per object, whichever is
cheaper). Run as `python -m mlcode.adapters.dvc_remote_objects` with a JSON job on stdin; the
parent side is `missing_objects`.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Mapping
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


@dataclass(frozen=True)
class Question:
    """What to ask about one commit: objects its pointers name outright (path, md5) and DVC
    targets (`.dvc` file, `dvc.yaml:STAGE`) for DVC to resolve by its own rules."""

    objects: tuple[tuple[str, str], ...]
    targets: tuple[str, ...]


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


def _ask_child(root: Path, job: str, what: str) -> subprocess.CompletedProcess[str]:
    """This module run as a child process (DVC imported there only) with `job` on its stdin."""
    return run(
        [sys.executable, "-m", "mlcode.adapters.dvc_remote_objects"],
        root,
        what=what,
        check=False,
        input_text=job,
        env={"NO_COLOR": "1"},
    )


def missing_objects(
    root: Path, questions: Mapping[str, Question], remote: str | None
) -> list[MissingObject]:
    """Objects that DVC remote `remote` (None: DVC's default) lacks, of the `questions` about
    each commit (the keys).

    Raises UserError naming the remote when it cannot be asked (unreachable, no credentials, no
    remote configured): a push is not let through unverified."""
    job = json.dumps(
        {
            "commits": {
                rev: {"objects": list(q.objects), "targets": list(q.targets)}
                for rev, q in questions.items()
            },
            "remote": remote,
        }
    )
    result = _ask_child(root, job, "dvc (objects in the remote)")
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
    result = _ask_child(root, job, "dvc (reaching the remote)")
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


def _with_files(repo: Any, info: Any) -> list[Any]:  # pragma: no cover - child process
    """An object and, for a directory, its files as its manifest in the local cache lists them
    (what DVC's own collection does; a manifest missing here stays one object, as in DVC)."""
    if not info.isdir:
        return [info]
    from dvc_data.hashfile.tree import Tree

    try:
        tree = Tree.load(repo.cache.local, info)
    except Exception:  # no manifest here: the remote is asked about the manifest itself
        return [info]
    out = [info]
    for key, _, oid in tree:
        oid.obj_name = "/".join([info.obj_name, *key])
        out.append(oid)
    return out


def _probe(job: dict[str, Any]) -> list[dict[str, str]]:  # pragma: no cover - child process
    from dvc.repo import Repo
    from dvc_data.hashfile.hash_info import HashInfo

    remote = job["remote"]
    owner: dict[str, str] = {}  # object → the first commit pointing to it
    used: set[Any] = set()
    with Repo(".") as repo:
        for rev, question in job["commits"].items():
            for path, md5 in question["objects"]:  # named outright: no pipeline to parse
                for info in _with_files(repo, HashInfo("md5", md5, obj_name=path)):
                    used.add(info)
                    owner.setdefault(info.value, rev)
            wanted = set(question["targets"])
            if not wanted:
                continue
            for _ in repo.brancher(revs=[rev], workspace=False):
                # One parse of the pipeline files (DVC's index); the changed stages picked from
                # it: asking DVC by target would parse them again for every target.
                for stage in repo.index.stages:
                    where = repo.fs.relpath(stage.dvcfile.path, repo.root_dir)
                    name = getattr(stage, "name", None)  # a .dvc file's stage has none
                    if where not in wanted and f"{where}:{name}" not in wanted:
                        continue
                    for odb, objs in stage.get_used_objs(
                        remote=remote, force=True, push=True
                    ).items():
                        if odb is None:  # objects of imports live elsewhere
                            used.update(objs)
                            for obj in objs:
                                owner.setdefault(obj.value, rev)
        status = repo.cloud.status(used, remote=remote)  # one batched question to the remote
    first = next(iter(job["commits"]), "")
    out: dict[str, dict[str, str]] = {}
    for state in ("new", "missing"):
        for info in getattr(status, state):
            out.setdefault(
                info.value,
                {
                    "path": str(info.obj_name or ""),
                    "md5": str(info.value),
                    "commit": owner.get(info.value, first),  # a directory's file: its first commit
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
