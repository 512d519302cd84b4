"""Benchmark of the built-in steps (prints figures; asserts nothing).

(a) Time of prepare + train + evaluate (in-process, imports already loaded) against a plain
    scikit-learn script doing the same read / split / fit / predict / metrics on the same data.
    Goal: overhead <= 10 %.
(b) Peak memory (ru_maxrss of a child process) of prepare on a Parquet file, against the size of
    the DataFrame in memory (`df.memory_usage(deep=True).sum()`), and against a child that only
    imports the same libraries.

Usage: python benchmarks/bench_steps.py [--rows 1000000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MODEL = "bench"
NUMERIC = [f"x{i}" for i in range(10)]
CATEGORICAL = ["c0", "c1"]
ESTIMATOR = "sklearn.linear_model.SGDClassifier"
PARAMS: dict[str, Any] = {"loss": "log_loss", "max_iter": 5, "tol": None, "random_state": 0}
METRICS = ["accuracy", "f1", "roc_auc"]


def make_data(root: Path, rows: int) -> Path:
    """1 row per sample: 10 numeric, 2 categorical (with some missing values), binary target."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({name: rng.normal(size=rows) for name in NUMERIC})
    frame.loc[rng.choice(rows, rows // 100, replace=False), "x3"] = np.nan
    frame["c0"] = rng.choice(["red", "green", "blue", "grey"], size=rows)
    frame["c1"] = rng.choice([f"city_{i}" for i in range(30)], size=rows)
    logit = frame["x0"] - 0.5 * frame["x1"] + (frame["c0"] == "red") + rng.normal(size=rows)
    frame["label"] = np.where(logit > 0, "yes", "no")
    path = root / "data" / "bench.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
    return path


def write_params(root: Path) -> None:
    import yaml

    section = {
        "task": "classification",
        "data": {
            "path": "data/bench.parquet",
            "format": "parquet",
            "target": "label",
            "numeric": NUMERIC,
            "categorical": CATEGORICAL,
        },
        "split": {"test_size": 0.2, "seed": 42, "stratify": True},
        "estimator": ESTIMATOR,
        "params": PARAMS,
        "metrics": METRICS,
    }
    (root / "params.yaml").write_text(yaml.safe_dump({MODEL: section}, sort_keys=False))


def plain(root: Path) -> float:
    """What a hand-written script does: read, split, fit the same pipeline, predict, score."""
    import pandas as pd
    from sklearn import metrics
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    started = time.perf_counter()
    frame = pd.read_parquet(
        root / "data" / "bench.parquet", columns=[*NUMERIC, *CATEGORICAL, "label"]
    )
    train, test = train_test_split(frame, test_size=0.2, random_state=42, stratify=frame["label"])
    pre = ColumnTransformer(
        [
            (
                "n",
                Pipeline([("i", SimpleImputer(strategy="median")), ("s", StandardScaler())]),
                NUMERIC,
            ),
            (
                "c",
                Pipeline(
                    [
                        ("i", SimpleImputer(strategy="most_frequent")),
                        ("o", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
                    ]
                ),
                CATEGORICAL,
            ),
        ],
        sparse_threshold=0.0,
    )
    pipe = Pipeline([("p", pre), ("e", SGDClassifier(**PARAMS))])
    features = [*NUMERIC, *CATEGORICAL]
    pipe.fit(train[features], train["label"])
    predicted = pipe.predict(test[features])
    proba = pipe.predict_proba(test[features])[:, 1]
    y = test["label"]
    metrics.accuracy_score(y, predicted)
    metrics.f1_score(y, predicted, pos_label="yes")
    metrics.roc_auc_score(y == "yes", proba)
    return time.perf_counter() - started


def steps(root: Path) -> dict[str, float]:
    """The built-in steps, in-process; seconds per step."""
    from mlcode.steps import run_step

    out: dict[str, float] = {}
    for step in ("prepare", "train", "evaluate"):
        started = time.perf_counter()
        run_step(step, root, MODEL)
        out[step] = time.perf_counter() - started
    return out


def child_peak_kib(code: str, cwd: Path) -> int:
    """Peak resident memory (KiB on Linux) of a child Python running `code`.

    The child is started from a small wrapper process: on Linux a child's ru_maxrss starts from its
    parent's at fork, and this process holds a million rows by now.
    """
    wrapper = (
        "import os, subprocess, sys\n"
        "p = subprocess.Popen([sys.executable, '-c', sys.argv[1]])\n"
        "_, status, usage = os.wait4(p.pid, 0)\n"
        "print(usage.ru_maxrss if status == 0 else -1)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, code], cwd=cwd, capture_output=True, text=True, check=True
    )
    peak = int(out.stdout.strip())
    if peak < 0:
        raise SystemExit(f"child failed: {code}")
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    import warnings

    import pandas as pd

    warnings.simplefilter("ignore")  # SGD's ConvergenceWarning at a fixed small max_iter
    with tempfile.TemporaryDirectory(prefix="mlcode-bench-") as tmp:
        root = Path(tmp)
        data = make_data(root, args.rows)
        write_params(root)
        # Warm imports and file cache once, so both sides are timed without import cost.
        steps(root)
        plain(root)
        plain_times: list[float] = []
        step_times: list[dict[str, float]] = []
        for _ in range(args.repeat):
            plain_times.append(plain(root))
            step_times.append(steps(root))
        best_plain = min(plain_times)
        best_steps = min(step_times, key=lambda t: sum(t.values()))
        total = sum(best_steps.values())
        print(
            f"rows: {args.rows:,}  features: {len(NUMERIC)} numeric + {len(CATEGORICAL)} categorical"
        )
        print(f"estimator: {ESTIMATOR} {PARAMS}")
        print(f"(a) plain scikit-learn script: {best_plain:.2f} s (best of {args.repeat})")
        detail = ", ".join(f"{k} {v:.2f} s" for k, v in best_steps.items())
        print(f"    built-in steps:              {total:.2f} s ({detail})")
        print(
            f"    ratio steps / plain: {total / best_plain:.3f} (overhead {100 * (total / best_plain - 1):+.1f} %)"
        )

        frame = pd.read_parquet(data)
        in_memory = int(frame.memory_usage(deep=True).sum())
        del frame
        base = child_peak_kib("import pandas, pyarrow.parquet, sklearn.model_selection, yaml", root)
        peak = child_peak_kib(
            "from pathlib import Path; from mlcode.steps import run_step; "
            f"run_step('prepare', Path('.'), {MODEL!r})",
            root,
        )
        mib = 1024 * 1024
        print(f"(b) DataFrame in memory: {in_memory / mib:.1f} MiB")
        print(f"    prepare peak RSS: {peak / 1024:.1f} MiB (imports alone: {base / 1024:.1f} MiB)")
        print(f"    ratio peak / DataFrame: {peak * 1024 / in_memory:.2f}")
        print(f"    ratio (peak - imports) / DataFrame: {(peak - base) * 1024 / in_memory:.2f}")


if __name__ == "__main__":
    main()
