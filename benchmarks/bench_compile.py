"""Benchmark: time to compile dvc.yaml + params.yaml (and, with `--stack`, the CI workflows) for
generated specs of 1 to 1000 models.

Each model has its own dataset (8 numeric and 2 categorical columns), estimator parameters and a
drift gate against its own `_latest` dataset, so every model yields 4 stages and 3 plots. Prints the
best of N runs per size, the time per model, and the per-model cost ratio to the previous size
(1.0 means linear growth). `--stack github-s3` (or `gitlab-s3`) compiles every file the stack
generates, CI included (one retrain job per model); `--groups N` puts the models in N groups of
`ci.groups` (one job per group; needed beyond the CI's matrix limit, 256 jobs on GitHub, 200 on
GitLab, which compile refuses otherwise).

    python benchmarks/bench_compile.py [--repeat 5] [--sizes 1,10,100,1000]
    python benchmarks/bench_compile.py --stack github-s3 --sizes 50,250 [--groups 10]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from mlcode.compile import compile_project
from mlcode.errors import UserError
from mlcode.resources import stack_presets
from mlcode.spec.load import load_file, parse_stack
from mlcode.spec.model import MlSpec


def make_spec(models: int, groups: int = 0) -> MlSpec:
    """A valid spec of `models` models, each with its own dataset and a drift gate; with `groups`,
    the models dealt round-robin into that many `ci.groups`."""
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
    ci: dict[str, Any] = {}
    if groups:
        names = list(model_defs)
        ci["groups"] = {f"group-{g}": names[g::groups] for g in range(min(groups, models))}
    return MlSpec.model_validate(
        {"version": 1, "project": "bench", "data": data, "models": model_defs, "ci": ci}
    )


_DVC_FILES = ("dvc.yaml", "params.yaml")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sizes", default="1,10,100,1000")
    parser.add_argument("--stack", default="local", help="a stack preset (default: local, no CI)")
    parser.add_argument("--groups", type=int, default=0, help="models in this many ci.groups")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    stack = parse_stack(load_file(str(stack_presets()[args.stack]), f"stacks/{args.stack}.yaml"))
    compile_project(make_spec(1), stack)  # warm up imports and caches

    print(f"stack {args.stack}, groups {args.groups or 'none (one CI job per model)'}")
    header = f"{'models':>7} {'best s':>9} {'ms/model':>9} {'ratio':>6} {'dvc.yaml KB':>12}"
    print(header + f" {'CI KB':>8}")
    previous: float | None = None
    for size in sizes:
        spec = make_spec(size, args.groups)
        best = float("inf")
        files: dict[str, str] = {}
        try:
            for _ in range(args.repeat):
                started = time.perf_counter()
                files = compile_project(spec, stack)
                best = min(best, time.perf_counter() - started)
        except UserError as exc:
            print(f"{size:>7} refused: {exc.message}")
            continue
        per_model = best / size
        ratio = f"{per_model / previous:6.2f}" if previous else f"{'-':>6}"
        kb = len(files["dvc.yaml"].encode()) / 1024
        ci_kb = sum(len(t.encode()) for p, t in files.items() if p not in _DVC_FILES) / 1024
        print(f"{size:>7} {best:>9.4f} {per_model * 1000:>9.3f} {ratio} {kb:>12.1f} {ci_kb:>8.1f}")
        previous = per_model


if __name__ == "__main__":
    main()
