"""Benchmark: `mlcode check` and `mlcode plan` against `dvc status` on generated repositories.

For N in (1, 10, 100, 1000) models it builds a real git + DVC repository (one shared dataset, N
models with a drift gate each: 4 stages per model), applies it, commits, then measures in one run
(median of R runs each): `dvc status` and `mlcode plan` (run alternately, so both see the same load
on a shared machine), `mlcode check` on its fast path (nothing changed since apply), `mlcode check`
on its full path (ml.yaml touched and staged, so it parses and compiles), and the in-process
compile time. Prints figures and the ratios the goals are stated in:
  check / dvc status   (goal at 100 models: <= 0.10)
  plan / dvc status    (goal: <= 1.20, i.e. at most 20% added)
  compile ms per model (goal: roughly constant: linear growth)

Usage: python benchmarks/bench_plan_check.py [--sizes 1 10 100 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("GIT_AUTHOR_NAME", "bench")
    env.setdefault("GIT_AUTHOR_EMAIL", "bench@mlcode.invalid")
    env.setdefault("GIT_COMMITTER_NAME", "bench")
    env.setdefault("GIT_COMMITTER_EMAIL", "bench@mlcode.invalid")
    env["DVC_NO_ANALYTICS"] = "1"
    # An installed mlcode has its bytecode compiled (pip does it), like DVC: without this a
    # PYTHONDONTWRITEBYTECODE environment recompiles mlcode's sources on every run (~50 ms).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run(cmd: list[str], cwd: Path, ok: tuple[int, ...] = (0,)) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed


def _spec(n: int) -> str:
    lines = [
        "version: 1",
        "project: bench",
        "stack: local",
        "data:",
        "  base:",
        "    path: data/base.csv",
        "    target: y",
        "    features: {numeric: [a, b], categorical: [c]}",
        "  latest:",
        "    path: data/latest.csv",
        "    target: y",
        "    features: {numeric: [a, b], categorical: [c]}",
        "models:",
    ]
    for i in range(n):
        lines += [
            f"  m{i}:",
            "    task: classification",
            "    data: base",
            "    estimator: sklearn.linear_model.LogisticRegression",
            f"    params: {{C: {1 + i / 10}}}",
            "    gates:",
            "      metrics: [{metric: accuracy, min: 0.5}]",
            "      drift: {reference: base, current: latest}",
        ]
    return "\n".join(lines) + "\n"


def _build(root: Path, n: int) -> None:
    root.mkdir(parents=True)
    (root / "data").mkdir()
    rows = "a,b,c,y\n" + "".join(f"{i},{i * 2},k{i % 3},{i % 2}\n" for i in range(200))
    (root / "data" / "base.csv").write_text(rows)
    (root / "data" / "latest.csv").write_text(rows)
    (root / "ml.yaml").write_text(_spec(n))
    _run(["git", "init", "-q", "-b", "main"], root)
    _run([str(BIN / "mlcode"), "apply", "--auto-approve"], root)
    _run(["git", "commit", "-qm", "bench"], root)


def _timed(cmd: list[str], root: Path, repeat: int) -> float:
    return statistics.median(_run(cmd, root) for _ in range(repeat))


def _paired(first: list[str], second: list[str], root: Path, repeat: int) -> tuple[float, float]:
    """Medians of two commands run alternately, so both see the same load on a shared machine."""
    a, b = [], []
    for i in range(repeat):
        if i % 2:
            b.append(_run(second, root))
            a.append(_run(first, root))
        else:
            a.append(_run(first, root))
            b.append(_run(second, root))
    return statistics.median(a), statistics.median(b)


def _compile_seconds(root: Path, repeat: int) -> float:
    from mlcode.compile import compile_project
    from mlcode.spec.load import load_project

    project = load_project(root)

    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        compile_project(project.spec, project.stack)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    mlcode = str(BIN / "mlcode")
    dvc = [sys.executable, "-m", "dvc"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            root = Path(tmp) / f"n{n}"
            t0 = time.perf_counter()
            _build(root, n)
            build_s = time.perf_counter() - t0
            _run([mlcode, "plan"], root)  # warm the disk cache and write mlcode's bytecode
            status, plan = _paired([*dvc, "status"], [mlcode, "plan"], root, args.repeat)
            fast = _timed([mlcode, "check"], root, args.repeat)
            spec = root / "ml.yaml"
            spec.write_text(spec.read_text() + "# touched\n")
            _run(["git", "add", "ml.yaml"], root)  # check judges the staged ml.yaml
            full = _timed([mlcode, "check"], root, args.repeat)
            spec.write_text(spec.read_text().replace("# touched\n", ""))
            _run(["git", "add", "ml.yaml"], root)
            comp = _compile_seconds(root, args.repeat)
            rows.append((n, build_s, status, fast, full, plan, comp))
            print(f"  built and measured {n} model(s) (apply took {build_s:.1f} s)", flush=True)
    print()
    head = (
        f"{'models':>6} {'dvc status':>11} {'check fast':>11} {'check full':>11} {'plan':>8} "
        f"{'compile':>9} {'ms/model':>9} {'fast/status':>12} {'full/status':>12} {'plan/status':>12}"
    )
    print(head)
    for n, _b, status, fast, full, plan, comp in rows:
        print(
            f"{n:>6} {status:>10.2f}s {fast:>10.2f}s {full:>10.2f}s {plan:>7.2f}s "
            f"{comp:>8.3f}s {comp * 1000 / n:>9.2f} {fast / status:>12.3f} {full / status:>12.3f} "
            f"{plan / status:>12.3f}"
        )


if __name__ == "__main__":
    main()
