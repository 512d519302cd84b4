"""Benchmark: mlcode's drift step core against Evidently 0.7's DataDriftPreset on the same data.

Generates reference/current datasets (20 numeric + 5 categorical columns; with and without a real
shift), writes them as Parquet (and CSV for mlcode's CSV path), then runs each engine in its own
process and reports per-column agreement (method, verdict, statistic) and each process's wall time
and peak memory (max RSS, data loading and imports included).

Evidently runs in a separate virtual environment (it needs `pandas<3`):

    python -m venv /tmp/evvenv && /tmp/evvenv/bin/pip install evidently 'pandas<3'
    /tmp/venv/bin/python benchmarks/bench_drift.py                       # 800, 10k, 100k rows
    /tmp/venv/bin/python benchmarks/bench_drift.py --rows 1000000 --no-evidently

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


def generate(rows: int, shift: bool, seed: int) -> tuple[Any, Any]:
    """Two DataFrames; with `shift`, 5 numeric and 2 categorical columns really change."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)

    def frame(moved: bool) -> Any:
        data: dict[str, Any] = {}
        for i, name in enumerate(NUMERIC):
            delta = 0.3 if (moved and i < 5) else 0.0
            if i < 12:
                data[name] = rng.normal(delta, 1.0 + i / 10, rows)
            elif i < 14:
                data[name] = rng.lognormal(1 + delta, 0.5, rows)
            elif i < 17:  # few distinct values: tested as categories
                p = [0.4, 0.3, 0.2, 0.1] if not (moved and i == 14) else [0.2, 0.3, 0.2, 0.3]
                data[name] = rng.choice(4, rows, p=p)
            else:  # 12 distinct integers
                data[name] = rng.integers(0, 12, rows)
        letters = "abcdefgh"
        for i, name in enumerate(CATEGORICAL):
            k = 2 if i == 4 else 3 + i
            p = np.full(k, 1 / k)
            if moved and i in (0, 4):
                p = np.linspace(1, 3, k)
                p /= p.sum()
            data[name] = rng.choice(list(letters[:k]), rows, p=p)
        return pd.DataFrame(data)

    return frame(False), frame(shift)


# -- workers (each in its own process) -----------------------------------------------------------


def work_mlcode(ref: str, cur: str) -> dict[str, Any]:
    from mlcode.drift.detect import ColumnSettings
    from mlcode.drift.files import DataFile, compare_files

    fmt = "csv" if ref.endswith(".csv") else "parquet"
    start = time.perf_counter()
    result = compare_files(
        DataFile(Path(ref), ref, fmt),
        DataFile(Path(cur), cur, fmt),
        NUMERIC,
        CATEGORICAL,
        ColumnSettings(),
        {},
        0.5,
    )
    seconds = time.perf_counter() - start
    return {
        "seconds_compute": seconds,
        "columns": {
            c.name: {"method": c.method, "statistic": c.statistic, "drifted": c.drifted}
            for c in result.columns
        },
        "drifted_share": result.drifted_share,
    }


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


def worker(engine: str, ref: str, cur: str, out: str) -> None:
    result = work_mlcode(ref, cur) if engine == "mlcode" else work_evidently(ref, cur)
    result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(out).write_text(json.dumps(result), encoding="utf-8")


def run_worker(python: str, engine: str, ref: Path, cur: Path, tmp: Path) -> dict[str, Any]:
    out = tmp / f"{engine}-{ref.suffix[1:]}.json"
    start = time.perf_counter()
    proc = subprocess.run(
        [python, __file__, "--worker", engine, str(ref), str(cur), str(out)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{engine} worker failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    result["seconds_wall"] = wall
    return result


# -- comparison ---------------------------------------------------------------------------------


def compare(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    methods = verdicts = 0
    worst = 0.0
    disagreements: list[str] = []
    for name, mine in ours["columns"].items():
        other = theirs["columns"][name]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[800, 10_000, 100_000])
    parser.add_argument(
        "--evidently-python", default=os.environ.get("EVIDENTLY_PYTHON", "/tmp/evvenv/bin/python")
    )
    parser.add_argument("--no-evidently", action="store_true")
    parser.add_argument("--no-csv", action="store_true", help="skip mlcode's CSV path")
    parser.add_argument(
        "--worker", nargs=4, metavar=("ENGINE", "REF", "CUR", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    use_evidently = not args.no_evidently and Path(args.evidently_python).exists()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; evidently: {use_evidently}")
    header = f"{'rows':>8} {'shift':>5}  {'engine':<16} {'wall s':>7} {'compute s':>9} {'max RSS MB':>10} {'drifted':>7}"
    print(header)
    print("-" * len(header))
    summaries: list[str] = []
    for rows in args.rows:
        for shift in (False, True):
            with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmpdir:
                tmp = Path(tmpdir)
                ref_df, cur_df = generate(rows, shift, seed=rows + shift)
                ref_pq, cur_pq = tmp / "ref.parquet", tmp / "cur.parquet"
                ref_df.to_parquet(ref_pq, index=False)
                cur_df.to_parquet(cur_pq, index=False)
                runs: dict[str, dict[str, Any]] = {
                    "mlcode parquet": run_worker(sys.executable, "mlcode", ref_pq, cur_pq, tmp)
                }
                if not args.no_csv:
                    ref_csv, cur_csv = tmp / "ref.csv", tmp / "cur.csv"
                    ref_df.to_csv(ref_csv, index=False)
                    cur_df.to_csv(cur_csv, index=False)
                    runs["mlcode csv"] = run_worker(sys.executable, "mlcode", ref_csv, cur_csv, tmp)
                del ref_df, cur_df
                if use_evidently:
                    runs["evidently 0.7"] = run_worker(
                        args.evidently_python, "evidently", ref_pq, cur_pq, tmp
                    )
                for engine, res in runs.items():
                    drifted = sum(1 for c in res["columns"].values() if c["drifted"])
                    print(
                        f"{rows:>8} {('yes' if shift else 'no'):>5}  {engine:<16} {res['seconds_wall']:>7.2f} "
                        f"{res['seconds_compute']:>9.2f} {res['max_rss_mb']:>10.0f} {drifted:>4}/{len(res['columns'])}"
                    )
                if "mlcode csv" in runs:
                    same = compare(runs["mlcode parquet"], runs["mlcode csv"])
                    summaries.append(
                        f"{rows} rows, shift={shift}: mlcode csv vs parquet: {same['same_verdict']}/"
                        f"{same['columns']} verdicts, max |Δstat| {same['max_abs_stat_diff']:.2e}"
                    )
                if use_evidently:
                    agree = compare(runs["mlcode parquet"], runs["evidently 0.7"])
                    summaries.append(
                        f"{rows} rows, shift={shift}: vs Evidently: methods {agree['same_method']}/"
                        f"{agree['columns']}, verdicts {agree['same_verdict']}/{agree['columns']}, "
                        f"max |Δstat| {agree['max_abs_stat_diff']:.2e}, drifted share "
                        f"{runs['mlcode parquet']['drifted_share']:.2f} vs {runs['evidently 0.7']['drifted_share']:.2f}"
                    )
                    summaries.extend(f"    {line}" for line in agree["disagreements"])
    print()
    print("Agreement")
    for line in summaries:
        print(f"  {line}")


if __name__ == "__main__":
    main()
