"""Benchmark: scale-out of reproduction over CI runners that share one S3 DVC remote.

A project with N models (4 stages each, the built-in steps) is committed to a bare git remote and
its data pushed to an S3 server on 127.0.0.1 (rclone). Then, against that one remote:
  1. three runners (fresh clones, started together) each reproduce their share of the models
     with `mlcode run --pull --push MODELS...`;
  2. a fourth fresh clone reproduces every model with `mlcode run --pull`: it should compute
     nothing, restoring every stage from the run-cache;
  3. for comparison, one fresh clone reproduces every model alone, against a separate, empty
     prefix of the store (no run-cache to restore from).
Prints, per runner, the stages computed and restored and the wall time; the bytes each phase
uploaded to the store and the bytes the fourth runner downloaded (its DVC cache); and the wall
time of the three runners against the one doing all. The machine's cores bound the speed-up of
runners started together on one machine: on real CI each runner has its own.

Usage: python benchmarks/bench_scaleout.py [--models 12] [--runners 3]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.s3server import ACCESS_KEY, SECRET_KEY, S3Server  # noqa: E402

BIN = Path(sys.executable).parent


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    for key in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        env.setdefault(key, "bench")
    for key in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        env.setdefault(key, "bench@mlcode.invalid")
    env["DVC_NO_ANALYTICS"] = "1"
    env["AWS_ACCESS_KEY_ID"] = ACCESS_KEY
    env["AWS_SECRET_ACCESS_KEY"] = SECRET_KEY
    return env


def _run(cmd: list[str], cwd: Path) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return proc.stdout + proc.stderr


def _spec(n: int) -> str:
    lines = [
        "version: 1",
        "project: scale",
        "stack: s3.yaml",
        "data:",
        "  base: {path: data/base.csv, target: y, features: {numeric: [a, b], categorical: [c]}}",
        "  latest: {path: data/latest.csv, target: y, features: {numeric: [a, b], categorical: [c]}}",
        "models:",
    ]
    for i in range(n):
        lines += [
            f"  m{i}:",
            "    task: classification",
            "    data: base",
            "    estimator: sklearn.linear_model.LogisticRegression",
            f"    params: {{C: {1 + i / 10}}}",
            "    gates: {drift: {reference: base, current: latest}}",
        ]
    return "\n".join(lines) + "\n"


def _stack(endpoint: str, prefix: str) -> str:
    return (
        "name: s3-loopback\nci: none\nremote:\n  name: shared\n  type: s3\n"
        f'  url: s3://mlcode/{prefix}\n  options: {{endpointurl: "{endpoint}"}}\n'
        "  credentials: {access_key_id: AWS_ACCESS_KEY_ID, secret_access_key: AWS_SECRET_ACCESS_KEY}\n"
    )


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def _counts(output: str) -> tuple[int, int]:
    ran = len(re.findall(r"Running stage '", output))
    restored = len(re.findall(r"is cached - skipping run", output))
    return ran, restored


def _project(base: Path, name: str, n: int, endpoint: str, prefix: str) -> Path:
    origin = base / f"{name}.git"
    _run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], base)
    repo = base / f"{name}-author"
    (repo / "data").mkdir(parents=True)
    _run(["git", "init", "-q", "-b", "main"], repo)
    rows = "a,b,c,y\n" + "".join(f"{i},{i * 7 % 13},k{i % 3},{i % 2}\n" for i in range(2000))
    (repo / "data" / "base.csv").write_text(rows)
    (repo / "data" / "latest.csv").write_text(rows)
    (repo / "ml.yaml").write_text(_spec(n))
    (repo / "s3.yaml").write_text(_stack(endpoint, prefix))
    _run([str(BIN / "mlcode"), "apply", "--auto-approve"], repo)
    _run(["git", "add", "s3.yaml"], repo)
    _run(["git", "commit", "-qm", "project"], repo)
    _run(["git", "push", "-q", str(origin), "main"], repo)
    _run([str(BIN / "dvc"), "push", "-q"], repo)
    return origin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=12)
    parser.add_argument("--runners", type=int, default=3)
    args = parser.parse_args()
    models = [f"m{i}" for i in range(args.models)]
    shares = [models[i :: args.runners] for i in range(args.runners)]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        server = S3Server(base / "s3")
        server.start()
        try:
            store = base / "s3" / "mlcode"
            origin = _project(base, "shared", args.models, server.endpoint, "shared")
            after_setup = _size(store / "shared")
            clones = []
            for i in range(args.runners):
                clone = base / f"runner{i}"
                _run(["git", "clone", "-q", str(origin), str(clone)], base)
                clones.append(clone)
            start = time.perf_counter()
            procs = [
                subprocess.Popen(
                    [str(BIN / "mlcode"), "run", "--pull", "--push", *share],
                    cwd=clone,
                    env=_env(),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
                for clone, share in zip(clones, shares, strict=True)
            ]
            outputs = []
            for proc in procs:
                out, _ = proc.communicate()
                if proc.returncode != 0:
                    raise SystemExit(f"a runner failed:\n{out[-2000:]}")
                outputs.append(out)
            parallel = time.perf_counter() - start
            uploaded = _size(store / "shared") - after_setup

            fourth = base / "runner-all"
            _run(["git", "clone", "-q", str(origin), str(fourth)], base)
            cache_before = _size(fourth / ".dvc" / "cache")
            start = time.perf_counter()
            fourth_out = _run([str(BIN / "mlcode"), "run", "--pull"], fourth)
            fourth_time = time.perf_counter() - start
            downloaded = _size(fourth / ".dvc" / "cache") - cache_before

            alone_origin = _project(base, "alone", args.models, server.endpoint, "alone")
            alone = base / "runner-alone"
            _run(["git", "clone", "-q", str(alone_origin), str(alone)], base)
            start = time.perf_counter()
            alone_out = _run([str(BIN / "mlcode"), "run", "--pull", "--push"], alone)
            alone_time = time.perf_counter() - start
        finally:
            server.stop()
    print(f"\n{args.models} models x 4 stages, {args.runners} runners on {os.cpu_count()} cores")
    for i, out in enumerate(outputs):
        ran, restored = _counts(out)
        print(f"  runner {i} ({len(shares[i])} models): computed {ran:3d}, restored {restored:3d}")
    ran, restored = _counts(fourth_out)
    print(
        f"  fourth runner (all models):  computed {ran:3d}, restored {restored:3d}"
        f"  in {fourth_time:6.1f} s"
    )
    ran_alone, _ = _counts(alone_out)
    print(
        f"  one runner alone (all):      computed {ran_alone:3d}            in {alone_time:6.1f} s"
    )
    print(
        f"  {args.runners} runners together, wall:            {parallel:6.1f} s "
        f"(ratio to one alone: {parallel / alone_time:.2f})"
    )
    print(
        f"  bytes uploaded by the runners: {uploaded:,}; downloaded by the fourth: {downloaded:,}"
    )


if __name__ == "__main__":
    main()
