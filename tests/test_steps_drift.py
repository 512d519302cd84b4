"""The built-in drift step end to end in a tmp folder: params.yaml per the pipeline contract, CSV and
Parquet datasets, both output files, and every error path (clear message, nothing written)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlcode.errors import UserError
from mlcode.steps import drift as drift_step

MODEL = "churn"
METRICS = Path("metrics/churn-drift.json")
REPORT = Path("build/churn/drift-report.json")


def frames(
    n_ref: int, n_cur: int, shift: float, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def frame(n: int, s: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "age": rng.normal(40 + 10 * s, 10, n),
                "income": rng.lognormal(10, 1, n),
                "plan": rng.choice(
                    ["basic", "pro", "team"], n, p=[0.5, 0.3, 0.2] if s == 0 else [0.2, 0.3, 0.5]
                ),
                "visits": rng.integers(0, 4, n),
                "target": rng.integers(0, 2, n),
            }
        )

    return frame(n_ref, 0.0), frame(n_cur, shift)


def write(root: Path, name: str, df: pd.DataFrame) -> str:
    path = root / "data" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if name.endswith(".csv"):
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path, index=False)
    return f"data/{name}"


def params(root: Path, ref: str, cur: str, **drift: Any) -> None:
    section: dict[str, Any] = {
        "reference": {
            "path": ref,
            "format": "csv" if ref.endswith(".csv") else "parquet",
            "numeric": ["age", "income", "visits"],
            "categorical": ["plan"],
        },
        "current": {"path": cur, "format": "csv" if cur.endswith(".csv") else "parquet"},
        "method": "auto",
        "threshold": None,
        "columns": {},
        "max_drifted_share": 0.5,
    }
    section.update(drift)
    doc = {
        MODEL: {
            "task": "classification",
            "data": {
                "path": ref,
                "format": "csv",
                "target": "target",
                "numeric": [],
                "categorical": [],
            },
            "split": {"test_size": 0.2, "seed": 42, "stratify": True},
            "params": {},
            "metrics": ["accuracy"],
            "drift": section,
        }
    }
    (root / "params.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def outputs(root: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    metrics = json.loads((root / METRICS).read_text(encoding="utf-8"))
    report = json.loads((root / REPORT).read_text(encoding="utf-8"))
    return metrics, report


def leaves(node: object) -> list[object]:
    if isinstance(node, dict):
        return [leaf for value in node.values() for leaf in leaves(value)]
    return [node]


@pytest.mark.parametrize(
    ("ref_name", "cur_name"), [("ref.csv", "cur.csv"), ("ref.parquet", "cur.csv")]
)
def test_no_drift_on_same_distribution(tmp_path: Path, ref_name: str, cur_name: str) -> None:
    ref, cur = frames(3000, 2000, shift=0.0)
    params(tmp_path, write(tmp_path, ref_name, ref), write(tmp_path, cur_name, cur))
    drift_step.run(tmp_path, MODEL)
    metrics, report = outputs(tmp_path)
    assert set(metrics) == {
        "drifted_share",
        "drifted_columns",
        "columns",
        "dataset_drift",
    }
    assert all(isinstance(leaf, int | float | bool) for leaf in leaves(metrics))
    assert metrics["columns"] == 4
    assert metrics["drifted_columns"] == 0
    assert metrics["dataset_drift"] is False
    assert set(report["columns"]) == {"age", "income", "visits", "plan"}
    methods = {name: col["method"] for name, col in report["columns"].items()}
    assert methods == {
        "age": "wasserstein",
        "income": "wasserstein",
        "visits": "jensenshannon",  # numeric with 4 distinct values: tested as categories
        "plan": "jensenshannon",
    }
    assert report["columns"]["plan"]["kind"] == "categorical"
    assert report["columns"]["visits"]["n_unique"] == 4
    assert report["dataset"]["gate_passed"] is True
    assert report["reference"] == f"data/{ref_name}"


def test_drift_on_shifted_distribution(tmp_path: Path) -> None:
    ref, cur = frames(800, 600, shift=1.0, seed=1)
    params(tmp_path, write(tmp_path, "ref.parquet", ref), write(tmp_path, "cur.parquet", cur))
    drift_step.run(tmp_path, MODEL)
    metrics, report = outputs(tmp_path)
    assert report["columns"]["age"]["drifted"] is True
    assert report["columns"]["plan"]["drifted"] is True
    assert report["columns"]["income"]["drifted"] is False
    assert metrics["drifted_share"] == 0.5
    assert metrics["dataset_drift"] is True  # 0.5 >= max_drifted_share 0.5: the gate fails
    assert report["dataset"]["gate_passed"] is False
    assert report["columns"]["age"]["method"] == "ks"  # reference <= 1000 rows
    assert report["columns"]["plan"]["method"] == "chi2"
    assert report["columns"]["age"]["statistic_kind"] == "p_value"


def test_csv_and_parquet_give_the_same_result(tmp_path: Path) -> None:
    ref, cur = frames(1500, 700, shift=0.3, seed=2)
    a, b = tmp_path / "a", tmp_path / "b"
    params(a, write(a, "ref.csv", ref), write(a, "cur.csv", cur))
    params(b, write(b, "ref.parquet", ref), write(b, "cur.parquet", cur))
    drift_step.run(a, MODEL)
    drift_step.run(b, MODEL)
    _, ra = outputs(a)
    _, rb = outputs(b)
    for name, col in ra["columns"].items():
        assert col["drifted"] == rb["columns"][name]["drifted"]
        # CSV text round-trips floats to about 1e-15
        assert col["statistic"] == pytest.approx(
            rb["columns"][name]["statistic"], rel=1e-9, abs=1e-12
        )


def test_column_overrides_method_threshold_ignore(tmp_path: Path) -> None:
    ref, cur = frames(3000, 3000, shift=1.0, seed=3)
    columns = {
        "age": {"method": "psi", "threshold": 50.0, "ignore": False},
        "plan": {"method": "auto", "threshold": None, "ignore": True},
        "income": {"method": "ks", "threshold": None, "ignore": False},
    }
    params(
        tmp_path,
        write(tmp_path, "ref.csv", ref),
        write(tmp_path, "cur.csv", cur),
        columns=columns,
        method="jensenshannon",
        threshold=0.2,
        max_drifted_share=0.9,
    )
    drift_step.run(tmp_path, MODEL)
    metrics, report = outputs(tmp_path)
    assert report["columns"]["age"]["method"] == "psi"
    assert report["columns"]["age"]["threshold"] == 50.0
    assert report["columns"]["age"]["drifted"] is False
    assert report["columns"]["income"]["method"] == "ks"
    assert report["columns"]["income"]["threshold"] == 0.05  # not the jensenshannon threshold
    assert report["columns"]["visits"]["method"] == "jensenshannon"
    assert report["columns"]["visits"]["threshold"] == 0.2
    assert "plan" not in report["columns"]
    assert report["skipped"]["plan"]["reason"].startswith("ignored")
    assert metrics["columns"] == 3
    assert report["dataset"]["max_drifted_share"] == 0.9


def test_all_missing_column_is_drifted_with_a_note(tmp_path: Path) -> None:
    ref, cur = frames(200, 200, shift=0.0, seed=4)
    cur["income"] = np.nan
    ref["plan"] = None
    params(tmp_path, write(tmp_path, "ref.csv", ref), write(tmp_path, "cur.parquet", cur))
    drift_step.run(tmp_path, MODEL)
    _, report = outputs(tmp_path)
    income = report["columns"]["income"]
    assert (income["statistic"], income["threshold"], income["drifted"]) == (1.0, 1.0, True)
    assert report["columns"]["income"]["method"] == "all_missing"
    assert "current" in report["columns"]["income"]["note"]
    assert report["columns"]["plan"]["method"] == "all_missing"
    assert "reference" in report["columns"]["plan"]["note"]
    assert report["columns"]["plan"]["drifted"] is True


def test_column_missing_on_both_sides_is_skipped(tmp_path: Path) -> None:
    ref, cur = frames(200, 200, shift=0.0, seed=4)
    ref["plan"] = None
    cur["plan"] = None
    params(tmp_path, write(tmp_path, "ref.parquet", ref), write(tmp_path, "cur.csv", cur))
    drift_step.run(tmp_path, MODEL)
    metrics, report = outputs(tmp_path)
    assert "plan" not in report["columns"]
    assert metrics["columns"] == 3
    assert "all missing" in report["skipped"]["plan"]["reason"]


def test_missing_values_and_infinities_are_dropped(tmp_path: Path) -> None:
    ref, cur = frames(300, 300, shift=0.0, seed=5)
    cur.loc[:49, "age"] = np.nan
    cur.loc[50:59, "age"] = np.inf
    cur.loc[:9, "plan"] = None
    params(tmp_path, write(tmp_path, "ref.parquet", ref), write(tmp_path, "cur.csv", cur))
    drift_step.run(tmp_path, MODEL)
    _, report = outputs(tmp_path)
    assert report["columns"]["age"]["n_current"] == 240
    assert report["columns"]["plan"]["n_current"] == 290


def test_integer_categories_in_parquet_match_csv_text(tmp_path: Path) -> None:
    ref = pd.DataFrame({"age": np.arange(100.0), "income": 1.0, "visits": 1, "plan": [1, 2] * 50})
    cur = ref.copy()
    params(tmp_path, write(tmp_path, "ref.parquet", ref), write(tmp_path, "cur.csv", cur))
    drift_step.run(tmp_path, MODEL)
    _, report = outputs(tmp_path)
    assert report["columns"]["plan"]["n_unique"] == 2
    assert report["columns"]["plan"]["drifted"] is False


# -- errors -------------------------------------------------------------------------------------


def assert_nothing_written(root: Path) -> None:
    assert not (root / METRICS).exists()
    assert not (root / REPORT).exists()
    assert not (root / "build/churn/drift-report.html").exists()


def run_error(root: Path) -> str:
    with pytest.raises(UserError) as info:
        drift_step.run(root, MODEL)
    assert_nothing_written(root)
    text = info.value.render()
    assert text.startswith(f"model '{MODEL}', stage drift_{MODEL}: ")
    return text


def test_empty_current_dataset(tmp_path: Path) -> None:
    ref, cur = frames(50, 0, shift=0.0)
    params(tmp_path, write(tmp_path, "ref.csv", ref), write(tmp_path, "cur.csv", cur))
    assert "data/cur.csv: the dataset has no rows" in run_error(tmp_path)


def test_empty_reference_parquet(tmp_path: Path) -> None:
    ref, cur = frames(0, 50, shift=0.0)
    params(tmp_path, write(tmp_path, "ref.parquet", ref), write(tmp_path, "cur.csv", cur))
    assert "data/ref.parquet: the dataset has no rows" in run_error(tmp_path)


@pytest.mark.parametrize("name", ["cur.csv", "cur.parquet"])
def test_missing_column_names_file_and_column(tmp_path: Path, name: str) -> None:
    ref, cur = frames(50, 50, shift=0.0)
    params(
        tmp_path, write(tmp_path, "ref.csv", ref), write(tmp_path, name, cur.drop(columns=["plan"]))
    )
    text = run_error(tmp_path)
    assert f"data/{name}: declared column 'plan' not in the file" in text
    assert "age" in text  # the hint lists the columns that are there


@pytest.mark.parametrize("name", ["ref.csv", "ref.parquet"])
def test_text_in_numeric_column(tmp_path: Path, name: str) -> None:
    ref, cur = frames(50, 50, shift=0.0)
    ref["age"] = ref["age"].astype(object)
    ref.loc[7, "age"] = "forty"
    if name.endswith(".parquet"):
        ref["age"] = ref["age"].astype(str)
    params(tmp_path, write(tmp_path, name, ref), write(tmp_path, "cur.csv", cur))
    text = run_error(tmp_path)
    assert f"data/{name}: column 'age' is declared numeric but holds" in text


def test_missing_dataset_file(tmp_path: Path) -> None:
    ref, _ = frames(50, 50, shift=0.0)
    params(tmp_path, write(tmp_path, "ref.csv", ref), "data/nope.parquet")
    assert "data/nope.parquet: dataset file not found" in run_error(tmp_path)


def test_not_a_parquet_file(tmp_path: Path) -> None:
    ref, _ = frames(50, 50, shift=0.0)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "bad.parquet").write_text("not parquet", encoding="utf-8")
    params(tmp_path, write(tmp_path, "ref.csv", ref), "data/bad.parquet")
    assert "data/bad.parquet: not a readable Parquet file" in run_error(tmp_path)


def test_no_drift_section(tmp_path: Path) -> None:
    ref, cur = frames(50, 50, shift=0.0)
    params(tmp_path, write(tmp_path, "ref.csv", ref), write(tmp_path, "cur.csv", cur))
    doc = yaml.safe_load((tmp_path / "params.yaml").read_text(encoding="utf-8"))
    del doc[MODEL]["drift"]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    assert "no churn.drift section" in run_error(tmp_path)


def test_no_params_file(tmp_path: Path) -> None:
    assert "params.yaml not found" in run_error(tmp_path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"method": "kl"}, "churn.drift.method: expected one of auto, psi"),
        ({"threshold": -1}, "churn.drift.threshold: expected a positive number"),
        ({"max_drifted_share": 2}, "churn.drift.max_drifted_share: expected a number from 0 to 1"),
        ({"columns": {"age": {"method": "t"}}}, "churn.drift.columns.age.method"),
        ({"current": {"format": "csv"}}, "churn.drift.current.path: expected a file path"),
        ({"columns": {"nope": {"ignore": True}}}, "columns that are not declared features: nope"),
        ({"method": "ks"}, "needs a numeric column, but column 'plan' is categorical"),
    ],
)
def test_bad_settings(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    ref, cur = frames(50, 50, shift=0.0)
    params(tmp_path, write(tmp_path, "ref.csv", ref), write(tmp_path, "cur.csv", cur), **change)
    assert message in run_error(tmp_path)


def test_every_column_ignored(tmp_path: Path) -> None:
    ref, cur = frames(50, 50, shift=0.0)
    ignore = {name: {"ignore": True} for name in ("age", "income", "visits", "plan")}
    params(
        tmp_path, write(tmp_path, "ref.csv", ref), write(tmp_path, "cur.csv", cur), columns=ignore
    )
    assert "no column left to compare" in run_error(tmp_path)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=40),
    st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=1, max_size=40),
    st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=40),
)
def test_step_matches_core_on_generated_files(
    tmp_path_factory: pytest.TempPathFactory,
    ref_age: list[float],
    cur_age: list[float],
    plan: list[str],
) -> None:
    from mlcode.drift.detect import CategoricalSample, ColumnSettings, NumericSample, column_drift

    root = tmp_path_factory.mktemp("gen")
    ref = pd.DataFrame(
        {"age": ref_age, "income": 1.0, "visits": 1, "plan": (plan * 40)[: len(ref_age)]}
    )
    cur = pd.DataFrame(
        {"age": cur_age, "income": 2.0, "visits": 1, "plan": (plan[::-1] * 40)[: len(cur_age)]}
    )
    params(root, write(root, "ref.parquet", ref), write(root, "cur.csv", cur))
    drift_step.run(root, MODEL)
    _, report = outputs(root)
    age = column_drift(
        "age", NumericSample.of(ref["age"].to_numpy(), cur["age"].to_numpy()), ColumnSettings()
    )
    plan_res = column_drift(
        "plan", CategoricalSample.of(ref["plan"], cur["plan"]), ColumnSettings()
    )
    for name, expected in (("age", age), ("plan", plan_res)):
        assert not hasattr(expected, "reason")
        got = report["columns"][name]
        assert got["drifted"] == expected.drifted  # type: ignore[union-attr]
        assert got["statistic"] == pytest.approx(expected.statistic, rel=1e-9, abs=1e-9)  # type: ignore[union-attr]


@pytest.mark.slow
def test_python_m_mlcode_steps_drift(tmp_path: Path) -> None:
    ref, cur = frames(100, 100, shift=0.0)
    params(tmp_path, write(tmp_path, "ref.csv", ref), write(tmp_path, "cur.csv", cur))
    ok = subprocess.run(
        [sys.executable, "-m", "mlcode.steps", "drift", MODEL],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=os.environ,
    )
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / METRICS).is_file()
    (tmp_path / "data" / "cur.csv").write_text("", encoding="utf-8")
    (tmp_path / METRICS).unlink()
    bad = subprocess.run(
        [sys.executable, "-m", "mlcode.steps", "drift", MODEL],
        check=False,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=os.environ,
    )
    assert bad.returncode == 3
    assert "Traceback" not in bad.stderr
    assert "data/cur.csv: declared columns" in bad.stderr


def test_report_holds_each_columns_plot_data(tmp_path: Path) -> None:
    ref, cur = frames(800, 600, shift=1.0, seed=1)
    params(tmp_path, write(tmp_path, "ref.parquet", ref), write(tmp_path, "cur.csv", cur))
    drift_step.run(tmp_path, MODEL)
    metrics, report = outputs(tmp_path)
    age = report["columns"]["age"]["plot"]
    assert age["type"] == "histogram"
    assert sum(age["reference"]) + sum(age["outside"]["reference"].values()) == 800
    assert sum(age["current"]) + sum(age["outside"]["current"].values()) == 600
    plan = report["columns"]["plan"]["plot"]
    assert plan["type"] == "categories"
    assert sorted(plan["categories"]) == ["basic", "pro", "team"]
    assert sum(plan["current"]) == 600
    assert "plot" not in json.dumps(metrics)  # the DVC metrics file keeps to the summary


def test_step_writes_the_html_report_beside_the_json(tmp_path: Path) -> None:
    ref, cur = frames(800, 600, shift=1.0, seed=1)
    params(tmp_path, write(tmp_path, "ref.parquet", ref), write(tmp_path, "cur.parquet", cur))
    drift_step.run(tmp_path, MODEL)
    page = (tmp_path / "build/churn/drift-report.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert "Dataset drift detected" in page
    assert page.count("<svg ") == 4
