"""Benchmark of start-up time (prints figures; asserts nothing).

Times, in N rounds that run each command once (median): `python -c pass`, `mlcode --help`,
`mlcode validate` on an init'ed example project in a temp dir, and `dvc --version`; prints the
medians and the ratios mlcode/python and mlcode/dvc.

Usage: python benchmarks/bench_startup.py [--repeat 10] [--example iris]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _tool(name: str) -> str:
    """The console script next to this interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found next to {sys.executable} nor on PATH")
    return found


def _medians(cmds: dict[str, list[str]], cwd: Path, repeat: int) -> dict[str, float]:
    """Median time of each command; every round runs each once, so all see the same load."""
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    # An installed mlcode has its bytecode compiled (pip does it), like DVC: without this a
    # PYTHONDONTWRITEBYTECODE environment recompiles mlcode's sources on every run (~50 ms).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for cmd in cmds.values():  # warm the disk cache
        subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=True)
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(repeat):
        for name, cmd in cmds.items():
            start = time.perf_counter()
            subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=True)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    """Run every timing and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--example", default="iris")
    args = parser.parse_args()
    mlcode, dvc = _tool("mlcode"), _tool("dvc")
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        subprocess.run(
            [mlcode, "init", "--example", args.example],
            cwd=project,
            check=True,
            capture_output=True,
        )
        cmds = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "mlcode --help": [mlcode, "--help"],
            "mlcode validate": [mlcode, "validate"],
            "dvc --version": [dvc, "--version"],
        }
        rows = _medians(cmds, project, args.repeat)
    print(f"start-up times, median of {args.repeat} runs (example project: {args.example})")
    print(f"{'command':<20}{'median (s)':>12}")
    for name, value in rows.items():
        print(f"{name:<20}{value:>12.3f}")
    python, dvc_t = rows["python -c pass"], rows["dvc --version"]
    print()
    print(f"{'ratio':<34}{'value':>8}")
    for name in ("mlcode --help", "mlcode validate"):
        print(f"{name + ' / python -c pass':<34}{rows[name] / python:>8.1f}")
        print(f"{name + ' / dvc --version':<34}{rows[name] / dvc_t:>8.2f}")


if __name__ == "__main__":
    main()
