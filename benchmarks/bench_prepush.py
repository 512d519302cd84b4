"""Benchmark: the pre-push check (`mlcode pre-push`) against `dvc status -c` on an N-model repo.

Builds a real git + DVC repository with N models (`mlcode apply`: 4 stages each, the built-in
steps) without training them: every stage output is written as a small file, hashed, stored in
DVC's cache and recorded in `dvc.lock` the way `dvc repro` records it (a directory output as a
`.dir` manifest), and the cache is copied into the DVC remote's layout, so the repository is what
a trained, pushed project looks like to `dvc status -c` and to the pre-push check, built in
seconds instead of an hour. The DVC remote is the local stack's folder and, when rclone is
installed, an S3 server (`rclone serve s3` on 127.0.0.1) holding the same objects.

Then, for each remote, run alternately (median of R runs each):
  - `mlcode pre-push origin` on a commit retraining k models (k = 1 and k = N: new objects, in the
    remote), i.e. a push the check must verify with DVC;
  - `dvc status -c` (DVC's own comparison of the whole workspace with the remote);
  - `mlcode pre-push origin` on a commit of code only (no DVC question at all).
Prints the figures and the ratios pre-push / dvc status -c.

Usage: python benchmarks/bench_prepush.py [--models 100] [--repeat 5] [--no-s3]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
_spec_mod = importlib.util.spec_from_file_location("bench_plan_check", HERE / "bench_plan_check.py")
assert _spec_mod is not None
assert _spec_mod.loader is not None
plan_bench = importlib.util.module_from_spec(_spec_mod)
_spec_mod.loader.exec_module(plan_bench)

from tests.e2e.s3server import S3Server, rclone  # noqa: E402

BIN = Path(sys.executable).parent
MLCODE = str(BIN / "mlcode")
DVC = str(BIN / "dvc")
S3_REMOTE = "bench-s3"


def _store(root: Path, data: bytes, suffix: str = "") -> str:
    """Put `data` in DVC's cache (files/md5/xx/rest, `.dir` for a manifest); return its md5."""
    md5 = hashlib.md5(data).hexdigest()
    path = root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / (md5[2:] + suffix)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return md5


def _write_out(root: Path, rel: str, salt: str) -> dict[str, Any]:
    """Write one stage output (a directory when its name has no suffix, as `models/NAME` is) and
    return its dvc.lock entry, its objects stored in the cache."""
    path = root / rel
    if "." not in path.name:  # a directory output: its files and a .dir manifest
        path.mkdir(parents=True, exist_ok=True)
        entries, size = [], 0
        for name in ("meta.json", "model.skops"):
            data = json.dumps({"file": f"{rel}/{name}", "salt": salt}).encode()
            (path / name).write_bytes(data)
            entries.append({"md5": _store(root, data), "relpath": name})
            size += len(data)
        manifest = json.dumps(entries, sort_keys=True).encode()
        md5 = _store(root, manifest, ".dir") + ".dir"
        return {"path": rel, "hash": "md5", "md5": md5, "size": size, "nfiles": len(entries)}
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps({"file": rel, "salt": salt}).encode()
    path.write_bytes(data)
    return {"path": rel, "hash": "md5", "md5": _store(root, data), "size": len(data)}


def _param(params: dict[str, Any], key: str) -> Any:
    value: Any = params
    for part in key.split("."):
        value = value[part]
    return value


def _lock(root: Path, salts: dict[str, str]) -> None:
    """Write every stage's outputs (salted per model) and dvc.lock, as `dvc repro` would."""
    pipeline = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]
    params = yaml.safe_load((root / "params.yaml").read_text())
    outs: dict[str, dict[str, Any]] = {}
    stages: dict[str, Any] = {}
    for name, stage in pipeline.items():
        model = name.split("_", 1)[1]
        entries = []
        for key in ("outs", "metrics", "plots"):
            for item in stage.get(key, []):
                rel = item if isinstance(item, str) else next(iter(item))
                outs[rel] = _write_out(root, rel, salts.get(model, ""))
                entries.append(outs[rel])
        deps = []
        for rel in stage.get("deps", []):
            if rel in outs:
                deps.append(outs[rel])
            else:  # a dataset tracked by its .dvc file
                meta = yaml.safe_load((root / f"{rel}.dvc").read_text())["outs"][0]
                deps.append({"path": rel, "hash": "md5", "md5": meta["md5"], "size": meta["size"]})
        keys = stage.get("params", [])
        stages[name] = {
            "cmd": stage["cmd"],
            "deps": deps,
            **({"params": {"params.yaml": {k: _param(params, k) for k in keys}}} if keys else {}),
            "outs": entries,
        }
    text = yaml.safe_dump({"schema": "2.0", "stages": stages}, sort_keys=False)
    (root / "dvc.lock").write_text(text)


def _publish(root: Path, store: Path) -> None:
    """Copy the cache into a DVC remote's layout (what `dvc push` would upload)."""
    shutil.copytree(root / ".dvc" / "cache" / "files", store / "files", dirs_exist_ok=True)


def _commit(root: Path, message: str) -> None:
    plan_bench._run(["git", "add", "-A"], root)
    plan_bench._run(["git", "commit", "-qm", message], root)


def _said(cmd: list[str], root: Path) -> str:
    """What a command printed (a sanity line: which path the check took)."""
    proc = subprocess.run(
        cmd, cwd=root, env=plan_bench._env(), capture_output=True, text=True, check=False
    )
    return f"  {' '.join(Path(c).name for c in cmd)}: {(proc.stdout + proc.stderr).strip()[:300]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-s3", action="store_true", help="Measure the local remote only.")
    args = parser.parse_args()
    run = plan_bench._run
    n = args.models
    models = [f"m{i}" for i in range(n)]
    use_s3 = not args.no_s3 and rclone() is not None
    stores: dict[str, tuple[Path, list[str], list[str]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        run(["git", "init", "-q", "--bare", "-b", "main", str(base / "origin.git")], base)
        root = base / "repo"
        started = time.perf_counter()
        print(f"building {n} models ({n * 4} stages, outputs written, not trained)...", flush=True)
        plan_bench._build(root, n)  # ml.yaml, `mlcode apply`, commit
        run(["git", "remote", "add", "origin", "../origin.git"], root)
        local = base / ".mlcode-storage" / "bench"  # the local stack's remote (../../ from .dvc)
        stores = {"local": (local, ["--remote", "local-storage"], ["-r", "local-storage"])}
        if use_s3:
            stores["s3"] = (
                base / "s3" / "mlcode" / "dvc",
                ["--remote", S3_REMOTE],
                ["-r", S3_REMOTE],
            )
        server = S3Server(base / "s3") if use_s3 else None
        try:
            _lock(root, {})
            for store, _, _ in stores.values():
                _publish(root, store)
            if server is not None:  # started after the bulk copy: rclone caches its listings
                server.start()
                run([DVC, "remote", "add", S3_REMOTE, "s3://mlcode/dvc"], root)
                server.use_as_dvc_remote(root, S3_REMOTE)
            _commit(root, "trained")
            run(["git", "push", "-q", "--no-verify", "origin", "main"], root)
            print(f"built in {time.perf_counter() - started:.1f} s", flush=True)
            if n <= 10:  # the written dvc.lock is what `dvc repro` would write (slow at 100)
                print(_said([DVC, "status"], root), flush=True)

            figures: dict[tuple[str, str], float] = {}
            pushes = [("k=1", models[:1]), (f"k={n}", models), ("code only", [])]
            for label, retrained in pushes:
                if retrained:
                    _lock(root, {m: f"{label}-{m}" for m in retrained})
                    _publish(root, local)
                    if server is not None:  # through the server, as a runner would
                        run([DVC, "push", "-q", "-r", S3_REMOTE], root)
                    _commit(root, f"retrain {label}")
                else:
                    (root / "notes.md").write_text("code only\n")
                    _commit(root, "code only")
                for name, (_, ours, theirs) in stores.items():
                    pre_push = [MLCODE, "pre-push", "origin", *ours]
                    status = [DVC, "status", "-c", *theirs]
                    print(f"[{name}, {label}]{_said(pre_push, root)}", flush=True)
                    mine, dvc = plan_bench._paired(pre_push, status, root, args.repeat)
                    figures[(name, label)] = mine
                    figures[(name, f"status {label}")] = dvc
                run(["git", "push", "-q", "--no-verify", "origin", "main"], root)
        finally:
            if server is not None:
                server.stop()
    names = list(stores)
    print(f"\nmodels: {n}, median of {args.repeat} runs (pre-push and dvc status -c alternated)")
    print(f"{'':44}" + "".join(f"{name:>10}" for name in names))
    for label, _ in pushes:
        row = "".join(f"{figures[(name, label)]:9.2f}s" for name in names)
        print(f"  mlcode pre-push, {label:<26}" + row)
        row = "".join(f"{figures[(name, f'status {label}')]:9.2f}s" for name in names)
        print(f"  dvc status -c (measured beside it){'':8}" + row)
        row = "".join(
            f"{figures[(name, label)] / figures[(name, f'status {label}')]:10.2f}" for name in names
        )
        print(f"  ratio pre-push / dvc status -c{'':12}" + row)


if __name__ == "__main__":
    main()
