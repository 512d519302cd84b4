"""Benchmark: time to compile dvc.yaml + params.yaml for generated specs of 1 to 1000 models.

Each model has its own dataset (8 numeric and 2 categorical columns), estimator parameters and a
drift gate against its own `_latest` dataset, so every model yields 4 stages and 3 plots. Prints the
best of N runs per size, the time per model, and the per-model cost ratio to the previous size
(1.0 means linear growth).

    python benchmarks/bench_compile.py [--repeat 5] [--sizes 1,10,100,1000]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from mlcode.compile import dvc as cdvc
from mlcode.resources import stack_presets
from mlcode.spec.load import load_file, parse_stack
from mlcode.spec.model import MlSpec


def make_spec(models: int) -> MlSpec:
    """A valid spec of `models` models, each with its own dataset and a drift gate."""
    numeric = [f"num_{i}" for i in range(8)]
    categorical = ["plan", "region"]
    data: dict[str, Any] = {}
    model_defs: dict[str, Any] = {}
    for i in range(models):
        features = {"numeric": numeric, "categorical": categorical}
        data[f"ds{i}"] = {"path": f"data/ds{i}.csv", "target": "label", "features": features}
        data[f"ds{i}_latest"] = {"path": f"data/ds{i}_latest.csv", "features": features}
        model_defs[f"model-{i}"] = {
            "task": "classification" if i % 2 else "regression",
            "data": f"ds{i}",
            "estimator": "sklearn.ensemble.RandomForestClassifier",
            "params": {"n_estimators": 100 + i, "max_depth": 5, "random_state": 0},
            "gates": {
                "drift": {
                    "reference": f"ds{i}",
                    "current": f"ds{i}_latest",
                    "columns": {"plan": {"method": "chi2"}},
                }
            },
        }
    return MlSpec.model_validate(
        {"version": 1, "project": "bench", "data": data, "models": model_defs}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sizes", default="1,10,100,1000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    stack = parse_stack(load_file(str(stack_presets()["local"]), "stacks/local.yaml"))
    cdvc.render(make_spec(1), stack)  # warm up imports and caches

    print(f"{'models':>7} {'best s':>9} {'ms/model':>9} {'ratio':>6} {'dvc.yaml KB':>12}")
    previous: float | None = None
    for size in sizes:
        spec = make_spec(size)
        best = float("inf")
        files: dict[str, str] = {}
        for _ in range(args.repeat):
            started = time.perf_counter()
            files = cdvc.render(spec, stack)
            best = min(best, time.perf_counter() - started)
        per_model = best / size
        ratio = f"{per_model / previous:6.2f}" if previous else f"{'-':>6}"
        kb = len(files["dvc.yaml"].encode()) / 1024
        print(f"{size:>7} {best:>9.4f} {per_model * 1000:>9.3f} {ratio} {kb:>12.1f}")
        previous = per_model


if __name__ == "__main__":
    main()
