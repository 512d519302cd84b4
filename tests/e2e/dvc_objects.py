"""What a commit's DVC pointers reference, and whether a DVC remote stored as plain files (a local
folder, the S3 server's folder, the SSH server's folder) holds it: the data-before-pointer check
of the promotion tests, read straight from the store, never through DVC."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.e2e.helpers import git


def cached_objects(repo: Path, ref: str) -> set[str]:
    """md5 of every cached object the commit `ref` points to (`.dvc` files and dvc.lock)."""
    files = git(repo, "ls-tree", "-r", "--name-only", ref).split()
    dvc_yaml = yaml.safe_load(git(repo, "show", f"{ref}:dvc.yaml"))
    uncached = {
        path
        for stage in dvc_yaml.get("stages", {}).values()
        for key in ("outs", "metrics", "plots")
        for item in stage.get(key, [])
        if isinstance(item, dict)
        for path, props in item.items()
        if isinstance(props, dict) and props.get("cache") is False
    }
    md5s: set[str] = set()
    for name in files:
        if name.endswith(".dvc"):
            for out in yaml.safe_load(git(repo, "show", f"{ref}:{name}")).get("outs", []):
                md5s.add(str(out["md5"]))
    lock = yaml.load(git(repo, "show", f"{ref}:dvc.lock"), Loader=yaml.BaseLoader)
    for stage in lock.get("stages", {}).values():
        for out in stage.get("outs", []):
            if out["path"] not in uncached:
                md5s.add(out["md5"])
    return md5s


def missing_in_store(repo: Path, ref: str, store: Path) -> list[str]:
    """Objects `ref` needs that the S3 store lacks (directory manifests and their files)."""
    missing = []
    for md5 in sorted(cached_objects(repo, ref)):
        plain = md5.removesuffix(".dir")
        obj = (
            store
            / "files"
            / "md5"
            / plain[:2]
            / (plain[2:] + (".dir" if md5.endswith(".dir") else ""))
        )
        if not obj.is_file():
            missing.append(md5)
            continue
        if md5.endswith(".dir"):
            for entry in json.loads(obj.read_text()):
                inner = store / "files" / "md5" / entry["md5"][:2] / entry["md5"][2:]
                if not inner.is_file():
                    missing.append(f"{md5}/{entry['relpath']}")
    return missing
