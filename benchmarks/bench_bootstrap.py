"""Benchmark of the paired bootstrap behind `confidence` gates (prints figures; asserts nothing).

Time of `paired_bootstrap` with 2,000 resamples (the gates' default) of two classifiers'
predictions on N test rows, for accuracy and f1, median of --repeat runs, and the resamples per
second it works out to. Goal: 10,000 rows well under a few seconds on one core.

Usage: python benchmarks/bench_bootstrap.py [--rows 10000] [--resamples 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from mlcode.gates.bootstrap import Predictions, paired_bootstrap


def _predictions(proba: np.ndarray) -> Predictions:
    return Predictions((proba > 0.5).astype(int), np.column_stack([1 - proba, proba]), (0, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=args.rows)
    proba = rng.uniform(size=args.rows)
    noisy = np.clip(proba + rng.normal(scale=0.2, size=args.rows), 0, 1)
    a, b = _predictions(proba), _predictions(noisy)
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        paired_bootstrap(
            y, a, b, ["accuracy", "f1"], 0.95, task="classification", resamples=args.resamples
        )
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    print(f"rows {args.rows}, resamples {args.resamples}, metrics accuracy+f1")
    print(f"paired bootstrap: median {median:.2f} s of {args.repeat} (min {min(times):.2f} s)")
    print(f"resamples per second: {args.resamples / median:,.0f}")


if __name__ == "__main__":
    main()
