"""`dvc metrics show` on a project with several models' drift metrics, written by the real drift
step and read by the real DVC: a table a person can read (the metrics file keeps to the summary;
per-column detail is in build/M/drift-report.json)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mlcode.steps import drift as drift_step
from tests.e2e.helpers import env

MODELS = ("churn", "fraud", "upsell")
SUMMARY = ["columns", "dataset_drift", "drifted_columns", "drifted_share"]


def dvc(repo: Path, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-m", "dvc", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env(),
        check=True,
    ).stdout


def drift_section(i: int) -> dict[str, object]:
    return {
        "reference": {
            "path": "data/ref.parquet",
            "format": "parquet",
            "numeric": ["age", "income", "visits", "tenure", "score"],
            "categorical": ["plan", "region"],
        },
        "current": {"path": f"data/cur{i}.parquet", "format": "parquet"},
        "method": "auto",
        "threshold": None,
        "columns": {},
        "max_drifted_share": 0.5,
    }


@pytest.mark.slow
def test_dvc_metrics_show_is_a_readable_table(git_repo: Path) -> None:
    rng = np.random.default_rng(0)

    def frame(shift: float) -> pd.DataFrame:
        n = 2000
        return pd.DataFrame(
            {
                "age": rng.normal(40 + 10 * shift, 10, n),
                "income": rng.lognormal(10, 1, n),
                "visits": rng.integers(0, 4, n),
                "tenure": rng.normal(3, 1, n),
                "score": rng.uniform(0, 1 + shift, n),
                "plan": rng.choice(["basic", "pro"], n),
                "region": rng.choice(["n", "s", "e"], n),
            }
        )

    (git_repo / "data").mkdir()
    frame(0.0).to_parquet(git_repo / "data" / "ref.parquet")
    for i, _ in enumerate(MODELS):
        frame(0.5 * i).to_parquet(git_repo / "data" / f"cur{i}.parquet")
    params = {model: {"drift": drift_section(i)} for i, model in enumerate(MODELS)}
    (git_repo / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    for model in MODELS:
        drift_step.run(git_repo, model)
    dvc(git_repo, "init", "-q")
    metrics = [f"metrics/{m}-drift.json" for m in MODELS]
    (git_repo / "dvc.yaml").write_text(yaml.safe_dump({"metrics": metrics}), encoding="utf-8")

    shown = json.loads(dvc(git_repo, "metrics", "show", "--json"))
    data = next(iter(shown.values()))["data"]
    for path in metrics:
        assert sorted(data[path]["data"]) == SUMMARY
    assert data["metrics/fraud-drift.json"]["data"]["drifted_columns"] >= 2
    table = dvc(git_repo, "metrics", "show").rstrip().splitlines()
    assert table[0].split() == ["Path", *SUMMARY]
    assert len(table) == 1 + len(MODELS)
    assert max(len(line) for line in table) <= 100  # fits a terminal: no column per feature
    report = json.loads((git_repo / "build" / "fraud" / "drift-report.json").read_text())
    assert set(report["columns"]) == {
        "age",
        "income",
        "visits",
        "tenure",
        "score",
        "plan",
        "region",
    }


@pytest.mark.slow
def test_mlcode_drift_model_agrees_with_the_step(trained_iris: Path) -> None:
    from tests.e2e.helpers import mlcode

    step = json.loads((trained_iris / "build" / "iris" / "drift-report.json").read_text())
    result = mlcode(trained_iris, "drift", "iris", "--json")
    assert result.returncode == 0, result.stderr
    ours = json.loads(result.stdout)
    assert ours["dataset"] == step["dataset"]
    assert ours["columns"] == step["columns"]  # same engine, same numbers, same plot data
    drift = yaml.safe_load((trained_iris / "params.yaml").read_text())["iris"]["drift"]
    files = mlcode(
        trained_iris,
        "drift",
        "--reference",
        drift["reference"]["path"],
        "--current",
        drift["current"]["path"],
        "--columns",
        ",".join(drift["reference"]["numeric"] + drift["reference"]["categorical"]),
        "--json",
    )
    assert files.returncode == 0, files.stderr
    inferred = json.loads(files.stdout)
    for name, col in step["columns"].items():
        other = inferred["columns"][name]
        assert (other["kind"], other["method"], other["drifted"]) == (
            col["kind"],
            col["method"],
            col["drifted"],
        )
        assert other["statistic"] == pytest.approx(col["statistic"], rel=1e-9, abs=1e-12)
    assert mlcode(trained_iris, "drift", "nosuch").returncode == 3
    spec = yaml.safe_load((trained_iris / "ml.yaml").read_text())
    del spec["models"]["iris"]["gates"]["drift"]
    (trained_iris / "ml.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    no_gate = mlcode(trained_iris, "drift", "iris")
    assert no_gate.returncode == 3
    assert "model 'iris' has no drift gate in ml.yaml" in no_gate.stderr
