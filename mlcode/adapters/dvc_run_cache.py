"""Complete DVC's run-cache on a shared remote: the outputs it cannot move by itself.

A run-cache entry records every output of a stage run, and `dvc repro` restores a stage from it
only when every output's object is at hand. `dvc push --run-cache` / `dvc pull --run-cache` move
the entries and the objects of *cached* outputs, but not those of `cache: false` outputs (metrics
and plots, which mlcode keeps in git), although restoring needs them: measured with DVC 3, a
fresh runner restored every prepare and train stage from the run-cache and ran every evaluate
stage again. This module moves exactly those objects: for each local run-cache entry, the objects
of its outputs that the pipeline declares `cache: false`. They are small (JSON metrics and plot
data), so pulling all of them is cheap.

Run in a child process (`python -m mlcode.adapters.dvc_run_cache push|pull [REMOTE]`): mlcode's
own process never imports DVC. The parent side is `transfer_uncached_outputs`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Literal

from mlcode.adapters.proc import run
from mlcode.errors import UserError


def transfer_uncached_outputs(
    root: Path, direction: Literal["push", "pull"], remote: str | None = None
) -> int:
    """Push or pull the objects of run-cache entries' `cache: false` outputs; return how many
    objects were transferred. Raises UserError with DVC's reason when the remote fails."""
    result = run(
        [
            sys.executable,
            "-m",
            "mlcode.adapters.dvc_run_cache",
            direction,
            *([remote] if remote else []),
        ],
        root,
        what=f"dvc ({direction} of the run-cache's uncached outputs)",
        check=False,
        env={"NO_COLOR": "1"},
    )
    if result.returncode != 0:
        lines = (result.stderr or result.stdout or "").strip().splitlines()
        raise UserError(
            f"could not {direction} the run-cache's metrics and plots "
            f"{'to' if direction == 'push' else 'from'} the DVC remote: "
            f"{lines[-1] if lines else f'exit {result.returncode}'}"
        )
    try:
        return int(json.loads(result.stdout or "{}").get("transferred", 0))
    except (json.JSONDecodeError, AttributeError, ValueError):
        raise UserError(f"unexpected answer from DVC: {result.stdout[:300]!r}") from None


def _entries(runs: Path) -> list[dict[str, Any]]:  # pragma: no cover - child process
    import yaml

    out: list[dict[str, Any]] = []
    for path in sorted(runs.glob("*/*/*")):
        try:
            entry = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(entry, dict):
            out.append(entry)
    return out


def _main(argv: list[str]) -> int:  # pragma: no cover - child process
    from dvc.repo import Repo
    from dvc_data.hashfile.hash_info import HashInfo

    direction = argv[0]
    remote = argv[1] if len(argv) > 1 else None
    try:
        with Repo(".") as repo:
            uncached = {
                out.def_path
                for stage in repo.index.stages
                for out in stage.outs
                if not out.use_cache
            }
            if direction == "pull":  # the remote's entries first: they name the objects
                repo.stage_cache.pull(remote)
            hashes: set[str] = set()
            for entry in _entries(Path(repo.stage_cache.cache_dir)):
                for out in entry.get("outs") or []:
                    if (
                        isinstance(out, dict)
                        and out.get("path") in uncached
                        and out.get("hash") == "md5"
                        and isinstance(out.get("md5"), str)
                    ):
                        hashes.add(out["md5"])
            objs = {HashInfo("md5", value) for value in hashes}
            local = repo.cache.local
            if direction == "push":
                objs = {obj for obj in objs if local.exists(obj.value)}
                result = repo.cloud.push(objs, remote=remote)
            else:
                objs = {obj for obj in objs if not local.exists(obj.value)}
                result = repo.cloud.pull(objs, remote=remote)
    except Exception as exc:  # DVC's reason goes to the parent, in one line
        print(f"{type(exc).__name__}: {exc}".replace("\n", " "), file=sys.stderr)
        return 2
    json.dump({"transferred": len(result.transferred)}, sys.stdout)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main(sys.argv[1:]))
