"""Benchmark: `mlcode drift` against Evidently 0.7's DataDriftPreset and against a floor process.

Generates reference/current Parquet files (20 numeric + 5 categorical columns; with and without a
real shift on 6 numeric and 2 categorical columns), then runs each engine as a whole process of its
own (imports and data loading included) and prints wall time, peak memory (max RSS of that process,
measured by a launcher that waits for it) and the per-column verdicts side by side:

- `mlcode drift --reference R --current C --json -q`, the command a user runs;
- Evidently 0.7's DataDriftPreset in its own virtual environment (it needs `pandas<3`);
- the floor: a process that reads the same Parquet columns and sorts each numeric column of both
  files, which any exact engine has to do.

Goals (ISSUE-9): at 1M rows mlcode at least 25x faster than Evidently (whole process), within 2x of the
floor, <= 1/3 of Evidently's peak memory, the same verdict on every column; 10M rows <= 1.2 GB.

    python -m venv /tmp/evvenv && /tmp/evvenv/bin/pip install 'evidently>=0.7,<0.8' 'pandas<3'
    python benchmarks/bench_drift.py                            # 100k and 1M with Evidently, 10M
    python benchmarks/bench_drift.py --rows 100000 --big-rows 0 # quick

This file imports only the standard library at top level: its worker mode runs under either venv.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

NUMERIC = [f"num_{i:02d}" for i in range(20)]
CATEGORICAL = [f"cat_{i}" for i in range(5)]
EVIDENTLY_NAMES = {
    "Wasserstein distance (normed)": "wasserstein",
    "Jensen-Shannon distance": "jensenshannon",
    "K-S p_value": "ks",
    "chi-square p_value": "chi2",
    "Z-test p_value": "z",
    "PSI": "psi",
}


# -- data ---------------------------------------------------------------------------------------


def write_parquet(path: Path, rows: int, moved: bool, seed: int) -> None:
    """One dataset, written in row groups of 1M rows (bounded memory at any size); with `moved`,
    6 numeric (one of them few-valued) and 2 categorical columns really change."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefgh"))
    writer: Any = None
    for start in range(0, rows, 1_000_000):
        n = min(1_000_000, rows - start)
        data: dict[str, Any] = {}
        for i, name in enumerate(NUMERIC):
            delta = 0.3 if (moved and i < 5) else 0.0
            if i < 12:
                data[name] = rng.normal(delta, 1.0 + i / 10, n)
            elif i < 14:
                data[name] = rng.lognormal(1 + delta, 0.5, n)
            elif i < 17:  # few distinct values: tested as categories
                p = [0.4, 0.3, 0.2, 0.1] if not (moved and i == 14) else [0.2, 0.3, 0.2, 0.3]
                data[name] = rng.choice(4, n, p=p)
            else:  # 12 distinct integers
                data[name] = rng.integers(0, 12, n)
        for i, name in enumerate(CATEGORICAL):
            k = 2 if i == 4 else 3 + i
            p = np.full(k, 1 / k)
            if moved and i in (0, 4):
                p = np.linspace(1, 3, k)
                p /= p.sum()
            data[name] = pa.array(letters[:k][rng.choice(k, n, p=p)].astype(object))
        table = pa.table(data)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()


# -- workers (each in its own process) -----------------------------------------------------------


def work_floor(ref: str, cur: str) -> dict[str, Any]:
    """Read the same Parquet columns and sort each numeric column of both files: the floor."""
    import numpy as np
    import pyarrow.parquet as pq

    for path in (ref, cur):
        parquet = pq.ParquetFile(path)
        for name in NUMERIC:
            column = parquet.read(columns=[name]).column(0)
            values = np.concatenate([c.to_numpy() for c in column.chunks]).astype(np.float64)
            values.sort()
        for name in CATEGORICAL:
            parquet.read(columns=[name])
    return {"columns": {}, "drifted_share": None}


def work_evidently(ref: str, cur: str) -> dict[str, Any]:
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    start = time.perf_counter()
    reference = pd.read_parquet(ref)
    current = pd.read_parquet(cur)
    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    report = Report([DataDriftPreset()], include_tests=True)
    snapshot = report.run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    doc = snapshot.dict()
    seconds = time.perf_counter() - start
    columns: dict[str, Any] = {}
    for metric in doc["metrics"]:
        config = metric["config"]
        if config.get("type", "").endswith("ValueDrift"):
            columns[config["column"]] = {
                "method": EVIDENTLY_NAMES.get(config["method"], config["method"]),
                "statistic": float(metric["value"]),
            }
    for test in doc["tests"]:
        column = test["metric_config"]["params"].get("column")
        if column in columns and test["id"] == "drift":
            columns[column]["drifted"] = test["status"] == "FAIL"
    share = next(
        m["value"]["share"]
        for m in doc["metrics"]
        if m["config"]["type"].endswith("DriftedColumnsCount")
    )
    return {"seconds_compute": seconds, "columns": columns, "drifted_share": share}


WORKERS = {"evidently": work_evidently, "floor": work_floor}


def worker(engine: str, ref: str, cur: str, out: str) -> None:
    result = WORKERS[engine](ref, cur)
    Path(out).write_text(json.dumps(result), encoding="utf-8")


def measure(command: list[str]) -> None:
    """Run `command` as the only child of this process; print its wall time and max RSS."""
    start = time.perf_counter()
    code = subprocess.run(command, check=False).returncode
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    print(
        json.dumps(
            {
                "code": code,
                "seconds_wall": wall,
                "seconds_cpu": cpu,
                "max_rss_mb": usage.ru_maxrss / 1024,
            }
        )
    )


def run_worker(python: str, engine: str, ref: Path, cur: Path, tmp: Path) -> dict[str, Any]:
    """Run one engine in a process of its own, measured by a launcher (mlcode: the CLI itself)."""
    out = tmp / f"{engine}.json"
    if engine.startswith("mlcode"):
        # the measured process is `mlcode drift` itself; the worker only reads its output
        target = [sys.executable, "-m", "mlcode", "drift", "--reference", str(ref)]
        target += ["--current", str(cur), "--json", "-q"]
        if engine == "mlcode sketch":  # force the streamed quantile-sketch path
            target += ["--exact-limit", "0"]
    else:
        target = [python, __file__, "--worker", engine, str(ref), str(cur), str(out)]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [sys.executable, __file__, "--measure", *target],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"{engine} failed:\n{proc.stderr[-3000:]}")
    measured = json.loads(lines[-1])
    if measured["code"] != 0:
        raise SystemExit(f"{engine} exited {measured['code']}:\n{proc.stderr[-3000:]}")
    if engine.startswith("mlcode"):
        report = json.loads("\n".join(lines[:-1]))
        result: dict[str, Any] = {
            "columns": {
                name: {"method": c["method"], "statistic": c["statistic"], "drifted": c["drifted"]}
                for name, c in report["columns"].items()
            },
            "drifted_share": report["dataset"]["drifted_share"],
        }
    else:
        result = json.loads(out.read_text(encoding="utf-8"))
    result.update(measured)
    return result


# -- comparison ---------------------------------------------------------------------------------


def compare(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    methods = verdicts = 0
    worst = 0.0
    disagreements: list[str] = []
    for name, mine in ours["columns"].items():
        other = theirs["columns"][name]
        if "drifted" not in other:  # pragma: no cover - an engine that gave no verdict
            other = {**other, "drifted": None}
        methods += mine["method"] == other["method"]
        verdicts += mine["drifted"] == other["drifted"]
        diff = abs(mine["statistic"] - other["statistic"])
        worst = max(worst, diff)
        if mine["method"] != other["method"] or mine["drifted"] != other["drifted"] or diff > 1e-9:
            disagreements.append(
                f"{name}: mlcode {mine['method']} {mine['statistic']:.6g} {mine['drifted']} / "
                f"evidently {other['method']} {other['statistic']:.6g} {other['drifted']}"
            )
    return {
        "columns": len(ours["columns"]),
        "same_method": methods,
        "same_verdict": verdicts,
        "max_abs_stat_diff": worst,
        "disagreements": disagreements,
    }


def side_by_side(runs: dict[str, dict[str, Any]]) -> list[str]:
    """One line per column: each engine's method, statistic and verdict."""
    engines = [e for e in runs if runs[e]["columns"]]
    lines = [f"    {'column':<8} " + " | ".join(f"{e:<36}" for e in engines)]
    for name in NUMERIC + CATEGORICAL:
        cells = []
        for engine in engines:
            c = runs[engine]["columns"].get(name)
            cells.append(
                "-".ljust(36)
                if c is None
                else f"{c['method']:<13} {c['statistic']:>12.6g} {'DRIFT' if c['drifted'] else 'ok':<5}".ljust(
                    36
                )
            )
        lines.append(f"    {name:<8} " + " | ".join(cells))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument(
        "--big-rows", type=int, default=10_000_000, help="mlcode and floor only (0: skip)"
    )
    parser.add_argument(
        "--evidently-python", default=os.environ.get("EVIDENTLY_PYTHON", "/tmp/evvenv/bin/python")
    )
    parser.add_argument("--no-evidently", action="store_true")
    parser.add_argument(
        "--worker", nargs=4, metavar=("ENGINE", "REF", "CUR", "OUT"), help=argparse.SUPPRESS
    )
    parser.add_argument("--measure", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
        return
    if args.worker:
        worker(*args.worker)
        return
    use_evidently = not args.no_evidently and Path(args.evidently_python).exists()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; evidently: {use_evidently}")
    header = (
        f"{'rows':>9} {'shift':>5}  {'engine':<14} {'wall s':>7} {'cpu s':>7} {'max RSS MB':>10} "
        f"{'drifted':>7}"
    )
    print(header)
    print("-" * len(header))
    summaries: list[str] = []
    sizes = [(rows, True) for rows in args.rows] + (
        [(args.big_rows, False)] if args.big_rows else []
    )
    for rows, with_evidently in sizes:
        for shift in (False, True):
            with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmpdir:
                tmp = Path(tmpdir)
                ref_pq, cur_pq = tmp / "ref.parquet", tmp / "cur.parquet"
                write_parquet(ref_pq, rows, False, seed=2 * rows)
                write_parquet(cur_pq, rows, shift, seed=2 * rows + 1)
                runs: dict[str, dict[str, Any]] = {
                    "mlcode": run_worker(sys.executable, "mlcode", ref_pq, cur_pq, tmp),
                    "floor": run_worker(sys.executable, "floor", ref_pq, cur_pq, tmp),
                }
                if not with_evidently:  # the big size: the sketch path too, against the exact one
                    runs["mlcode sketch"] = run_worker(
                        sys.executable, "mlcode sketch", ref_pq, cur_pq, tmp
                    )
                if use_evidently and with_evidently:
                    runs["evidently 0.7"] = run_worker(
                        args.evidently_python, "evidently", ref_pq, cur_pq, tmp
                    )
                for engine, res in runs.items():
                    drifted = sum(1 for c in res["columns"].values() if c["drifted"])
                    shown = f"{drifted:>4}/{len(res['columns'])}" if res["columns"] else "-"
                    print(
                        f"{rows:>9} {('yes' if shift else 'no'):>5}  {engine:<14} "
                        f"{res['seconds_wall']:>7.2f} {res['seconds_cpu']:>7.2f} "
                        f"{res['max_rss_mb']:>10.0f} {shown:>7}",
                        flush=True,
                    )
                mine, floor = runs["mlcode"], runs["floor"]
                line = (
                    f"{rows} rows, shift={shift}: mlcode {mine['seconds_wall']:.2f} s "
                    f"{mine['max_rss_mb']:.0f} MB; floor {floor['seconds_wall']:.2f} s "
                    f"(mlcode / floor {mine['seconds_wall'] / floor['seconds_wall']:.2f}x wall, "
                    f"{mine['seconds_cpu'] / floor['seconds_cpu']:.2f}x cpu)"
                )
                if "evidently 0.7" in runs:
                    theirs = runs["evidently 0.7"]
                    agree = compare(mine, theirs)
                    line += (
                        f"; Evidently {theirs['seconds_wall']:.1f} s {theirs['max_rss_mb']:.0f} MB: "
                        f"{theirs['seconds_wall'] / mine['seconds_wall']:.1f}x faster (cpu "
                        f"{theirs['seconds_cpu'] / mine['seconds_cpu']:.1f}x), memory "
                        f"{mine['max_rss_mb'] / theirs['max_rss_mb']:.2f} of Evidently's; "
                        f"methods {agree['same_method']}/{agree['columns']}, verdicts "
                        f"{agree['same_verdict']}/{agree['columns']}, max |Δstat| "
                        f"{agree['max_abs_stat_diff']:.2e}"
                    )
                if "mlcode sketch" in runs:
                    same = compare(mine, runs["mlcode sketch"])
                    line += (
                        f"; sketch path {runs['mlcode sketch']['seconds_wall']:.1f} s "
                        f"{runs['mlcode sketch']['max_rss_mb']:.0f} MB, verdicts "
                        f"{same['same_verdict']}/{same['columns']} as exact, max |Δstat| "
                        f"{same['max_abs_stat_diff']:.2e}"
                    )
                summaries.append(line)
                summaries.extend(side_by_side(runs))
    print()
    print("Summary and per-column verdicts (method, statistic, verdict)")
    for line in summaries:
        print(f"  {line}")


if __name__ == "__main__":
    main()
