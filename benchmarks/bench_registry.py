"""Benchmark of reading the model registry: `mlcode models` against `gto show` (prints figures;
asserts nothing but that both give the same answer).

Builds a repository whose tags are a realistic GTO registry (default 1,500 annotated tags over 5
models: a registration per commit, dev/staging/prod assignments, reassignments and rollbacks, some
deregistrations and unassignments, a few tags of other shapes), written in one `git fast-import`
with spread-out tagger dates. Then times, in rounds that run each command once (median of N):
`git for-each-ref` over the tags, `mlcode models --json`, `mlcode models`, and `gto show --json`,
and prints the medians and the ratio gto / mlcode. Also checks `mlcode models --json` equals
`gto show --json` on that repository.

Usage: python benchmarks/bench_registry.py [--tags 1500] [--models 5] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

T0 = 1_760_000_000


def _tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found next to {sys.executable} nor on PATH")
    return found


def _data(text: str) -> str:
    raw = text.encode()
    return f"data {len(raw)}\n{text}\n"


def build(repo: Path, tags: int, models: int, seed: int = 7) -> int:
    """Write the registry repository; returns the number of tags written."""
    rng = random.Random(seed)
    per_model = tags // models
    lines: list[str] = []
    mark = 0
    now = T0
    made = 0
    ident = "Bench Registrar <bench@registry.invalid>"

    def tag(name: str, target: int, message: str) -> None:
        nonlocal now, made
        now += rng.randint(1, 600)
        lines.append(f"tag {name}\nfrom :{target}\ntagger {ident} {now} +0000\n")
        lines.append(_data(message))
        made += 1

    for m in range(models):
        model = f"model{m}" if m % 2 == 0 else f"models=model{m}"
        counter = 0
        versions: list[tuple[str, int]] = []
        written = 0
        minor = 0
        while written < per_model:
            mark += 1
            now += rng.randint(60, 3600)
            lines.append(f"commit refs/heads/main\nmark :{mark}\ncommitter {ident} {now} +0000\n")
            lines.append(_data(f"train {model} #{mark}"))
            minor += 1
            version = f"v1.{minor}.0"
            tag(f"{model}@{version}", mark, f"Registering {model} {version}")
            versions.append((version, mark))
            written += 1
            for stage in ("dev", "staging", "prod"):
                if (
                    written >= per_model
                    or rng.random() > {"dev": 0.9, "staging": 0.6, "prod": 0.4}[stage]
                ):
                    continue
                counter += 1
                tag(f"{model}#{stage}#{counter}", mark, f"Assigning {stage}")
                written += 1
            roll = rng.random()
            if roll < 0.05 and len(versions) > 2 and written < per_model:  # roll prod back
                _, old = versions[-2]
                counter += 1
                tag(f"{model}#prod#{counter}", old, "Rolling back prod")
                written += 1
            elif roll < 0.10 and written < per_model:  # deregister a bad version
                bad, at = versions[-1]
                tag(f"{model}@{bad}!", at, f"Deregistering {bad}")
                written += 1
            elif roll < 0.13 and written < per_model:  # take staging away
                counter += 1
                tag(f"{model}#staging!#{counter}", mark, "Unassigning staging")
                written += 1
    for i in range(3):  # tags of other shapes, which the registry ignores
        tag(f"release-{i}", mark, "a release")
    stream = "".join(lines) + "done\n"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run(
        ["git", "fast-import", "--quiet", "--done"], cwd=repo, input=stream.encode(), check=True
    )
    subprocess.run(["git", "checkout", "-q", "main"], cwd=repo, check=True)
    return made


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def medians(cmds: dict[str, list[str]], cwd: Path, repeat: int) -> dict[str, tuple[float, float]]:
    """Median wall-clock time and median CPU time (user + system) of each command; every round
    runs each once, so all see the same load. CPU time is steadier on a busy machine."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed mlcode has its bytecode compiled
    for cmd in cmds.values():  # warm the disk cache (and write mlcode's bytecode)
        subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=True)
    wall: dict[str, list[float]] = {name: [] for name in cmds}
    cpu: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(repeat):
        for name, cmd in cmds.items():
            start, start_cpu = time.perf_counter(), _cpu()
            subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=True)
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(_cpu() - start_cpu)
    return {name: (statistics.median(wall[name]), statistics.median(cpu[name])) for name in cmds}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tags", type=int, default=1500)
    parser.add_argument("--models", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    mlcode, gto = _tool("mlcode"), _tool("gto")
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        made = build(repo, args.tags, args.models)
        fmt = "--format=%(refname) %(objecttype) %(taggerdate:raw)"
        ours = json.loads(
            subprocess.run(
                [mlcode, "models", "--json"], cwd=repo, capture_output=True, check=True
            ).stdout
        )["models"]
        theirs = json.loads(
            subprocess.run(
                [gto, "show", "--json"], cwd=repo, capture_output=True, check=True
            ).stdout
        )
        same = {
            k: {kk: vv for kk, vv in v.items() if kk != "created"} for k, v in ours.items()
        } == theirs
        times = medians(
            {
                "python -c pass": [sys.executable, "-c", "pass"],
                "mlcode --help": [mlcode, "--help"],
                "git for-each-ref refs/tags": ["git", "for-each-ref", fmt, "refs/tags"],
                "mlcode models --json": [mlcode, "models", "--json"],
                "mlcode models": [mlcode, "models"],
                "gto show --json": [gto, "show", "--json"],
            },
            repo,
            args.repeat,
        )
    print(f"registry: {made} tags, {args.models} models; median of {args.repeat} runs each")
    print(f"  {'command':<28} {'wall':>8} {'cpu':>8}")
    for name, (wall, cpu) in times.items():
        print(f"  {name:<28} {wall * 1000:6.0f} ms {cpu * 1000:5.0f} ms")
    gto_wall, gto_cpu = times["gto show --json"]
    for name in ("mlcode models --json", "mlcode models"):
        wall, cpu = times[name]
        print(
            f"  gto show / {name}: {gto_wall / wall:.1f}x wall-clock, {gto_cpu / cpu:.1f}x CPU "
            "(goal: at least 40x)"
        )
    print(f"  same answer as gto show --json: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
