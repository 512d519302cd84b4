"""`mlcode drift --reference A --current B` on real CSV and Parquet files: a known injected shift is
flagged on exactly the shifted columns, exit codes, report files, and every bad input refused with
the file and column named and nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlcode.cli import cli
from mlcode.cli.boundary import run_guarded
from tests.e2e.helpers import mlcode, snapshot

SHIFTED = {"age", "score", "plan"}


def frames(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reference and current: `age`, `score` and `plan` shifted, the rest drawn alike."""
    rng = np.random.default_rng(seed)

    def frame(moved: bool) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "user_id": np.arange(rows),
                "ts": pd.date_range("2026-01-01", periods=rows, freq="min").astype(str),
                "age": rng.normal(45 if moved else 40, 10, rows),
                "income": rng.lognormal(10, 1, rows),
                "score": rng.uniform(0, 1.3 if moved else 1, rows),
                "visits": rng.integers(0, 4, rows),
                "plan": rng.choice(
                    ["basic", "pro", "team"], rows, p=[0.2, 0.3, 0.5] if moved else [0.5, 0.3, 0.2]
                ),
                "region": rng.choice(["n", "s", "e", "w"], rows),
            }
        )

    return frame(False), frame(True)


def write(path: Path, df: pd.DataFrame) -> Path:
    if path.suffix == ".csv":
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path, index=False)
    return path


def run(cwd: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """mlcode in this process (the same entry point as the console script), from `cwd`."""
    code = run_guarded(cli, ["-C", str(cwd), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize(
    ("ref_name", "cur_name"), [("ref.parquet", "cur.parquet"), ("ref.csv", "cur.parquet")]
)
def test_flags_the_shifted_columns_and_no_others(
    tmp_path: Path, ref_name: str, cur_name: str
) -> None:
    ref, cur = frames(3000)
    write(tmp_path / ref_name, ref)
    write(tmp_path / cur_name, cur)
    args = ["drift", "--reference", ref_name, "--current", cur_name, "--json"]
    result = mlcode(tmp_path, *args, "--id-column", "user_id", "--time-column", "ts")
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr  # stderr is not a terminal: no progress bar
    report = json.loads(result.stdout)
    drifted = {name for name, col in report["columns"].items() if col["drifted"]}
    assert drifted == SHIFTED
    assert set(report["columns"]) == {"age", "income", "score", "visits", "plan", "region"}
    kinds = {name: col["kind"] for name, col in report["columns"].items()}
    assert kinds["plan"] == kinds["region"] == "categorical"
    assert kinds["visits"] == kinds["age"] == "numeric"
    assert report["columns"]["visits"]["method"] == "jensenshannon"  # 4 distinct values
    assert report["columns"]["age"]["method"] == "wasserstein"
    assert report["dataset"]["drifted_share"] == 0.5
    assert report["dataset"]["dataset_drift"] is True


def test_exit_codes_and_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref, cur = frames(800, seed=1)
    write(tmp_path / "ref.parquet", ref)
    write(tmp_path / "cur.csv", cur)
    write(tmp_path / "same.parquet", ref)
    base = ["drift", "--reference", "ref.parquet", "--id-column", "user_id", "--time-column", "ts"]
    code, out, _ = run(tmp_path, *base, "--current", "cur.csv", capsys=capsys)
    assert code == 0  # drift, but no --fail-on-drift
    assert "3/6 columns drifted" in out
    assert "dataset drift" in out
    assert "ks" in out
    assert "chi2" in out
    code, _, _ = run(tmp_path, *base, "--current", "cur.csv", "--fail-on-drift", capsys=capsys)
    assert code == 1
    code, _, _ = run(
        tmp_path,
        *base,
        "--current",
        "cur.csv",
        "--fail-on-drift",
        "--max-drifted-share",
        "0.6",
        capsys=capsys,
    )
    assert code == 0  # 0.5 < 0.6
    code, out, _ = run(
        tmp_path, *base, "--current", "same.parquet", "--fail-on-drift", capsys=capsys
    )
    assert code == 0
    assert "0/6 columns drifted" in out
    code, out, _ = run(
        tmp_path,
        *base,
        "--current",
        "cur.csv",
        "--columns",
        "age,income",
        "--method",
        "psi",
        "--threshold",
        "0.2",
        "--json",
        capsys=capsys,
    )
    report = json.loads(out)
    assert set(report["columns"]) == {"age", "income"}
    assert {c["method"] for c in report["columns"].values()} == {"psi"}
    assert {c["threshold"] for c in report["columns"].values()} == {0.2}


def test_writes_html_and_markdown_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ref, cur = frames(500, seed=2)
    write(tmp_path / "ref.parquet", ref.drop(columns=["ts"]))
    write(tmp_path / "cur.parquet", cur.drop(columns=["ts"]))
    args = [
        "drift",
        "--reference",
        "ref.parquet",
        "--current",
        "cur.parquet",
        "--id-column",
        "user_id",
    ]
    code, _, err = run(
        tmp_path, *args, "--html", "out/r.html", "--markdown", "out/r.md", capsys=capsys
    )
    assert code == 0, err
    html = (tmp_path / "out" / "r.html").read_text(encoding="utf-8")
    assert "<html" in html
    assert "age" in html
    assert "http://" not in html
    assert "https://" not in html
    markdown = (tmp_path / "out" / "r.md").read_text(encoding="utf-8")
    assert "| age |" in markdown or "age" in markdown


def _bad(tmp_path: Path, case: str) -> tuple[str, str, list[str]]:
    """Write the files of one bad-input case; return (reference, current, words the error names)."""
    ref, cur = frames(300, seed=3)
    ref, cur = ref.drop(columns=["ts"]), cur.drop(columns=["ts"])
    if case == "different columns":
        write(tmp_path / "ref.parquet", ref)
        write(tmp_path / "cur.parquet", cur.drop(columns=["income"]).assign(extra=1))
        return (
            "ref.parquet",
            "cur.parquet",
            ["'income'", "only in ref.parquet", "'extra'", "cur.parquet"],
        )
    if case == "different dtypes":
        write(tmp_path / "ref.parquet", ref)
        write(tmp_path / "cur.csv", cur.assign(age=["x"] * len(cur)))
        return (
            "ref.parquet",
            "cur.csv",
            ["'age'", "numeric", "categorical", "ref.parquet", "cur.csv"],
        )
    if case == "text late in a CSV column":
        write(tmp_path / "ref.csv", ref)
        late = cur.astype({"score": object})
        late.loc[len(late) - 1, "score"] = "n/a?"
        write(tmp_path / "cur.csv", late)
        return "ref.csv", "cur.csv", ["'score'", "cur.csv", "categorical"]
    if case == "empty file":
        write(tmp_path / "ref.parquet", ref)
        (tmp_path / "cur.csv").write_bytes(b"")
        return "ref.parquet", "cur.csv", ["cur.csv", "empty"]
    if case == "header only":
        write(tmp_path / "ref.parquet", ref)
        (tmp_path / "cur.csv").write_text(",".join(cur.columns) + "\n", encoding="utf-8")
        return "ref.parquet", "cur.csv", ["cur.csv", "no rows"]
    if case == "all missing on one side":
        write(tmp_path / "ref.parquet", ref)
        write(tmp_path / "cur.parquet", cur.assign(income=np.nan))
        return "ref.parquet", "cur.parquet", ["cur.parquet", "'income'", "no value"]
    if case == "not csv or parquet":
        write(tmp_path / "ref.parquet", ref)
        (tmp_path / "cur.json").write_text(cur.to_json(), encoding="utf-8")
        return "ref.parquet", "cur.json", ["cur.json", "not a CSV or Parquet"]
    if case == "csv named parquet":
        write(tmp_path / "ref.csv", ref)
        write(tmp_path / "cur.csv", cur)
        (tmp_path / "cur.csv").rename(tmp_path / "cur.parquet")
        return "ref.csv", "cur.parquet", ["cur.parquet", "not a Parquet file"]
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "different columns",
        "different dtypes",
        "text late in a CSV column",
        "empty file",
        "header only",
        "all missing on one side",
        "not csv or parquet",
        "csv named parquet",
    ],
)
def test_bad_input_is_refused_naming_file_and_column(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    reference, current, words = _bad(tmp_path, case)
    before = snapshot(tmp_path)
    code, out, err = run(
        tmp_path,
        "drift",
        "--reference",
        reference,
        "--current",
        current,
        "--id-column",
        "user_id",
        "--html",
        "report.html",
        "--markdown",
        "report.md",
        "--json",
        capsys=capsys,
    )
    assert code == 3, (out, err)
    assert out == ""
    assert "Traceback" not in err
    for word in words:
        assert word in err, (word, err)
    assert snapshot(tmp_path) == before  # nothing written, no half-written report


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(tmp_path, "drift", "--reference", "a.csv", capsys=capsys)
    assert code == 2
    assert "--current" in err
    code, _, err = run(tmp_path, "drift", "m", "--reference", "a.csv", capsys=capsys)
    assert code == 2
    assert "not with MODEL" in err
    code, _, err = run(
        tmp_path,
        "drift",
        "--reference",
        "a.csv",
        "--current",
        "b.csv",
        "--max-drifted-share",
        "0",
        capsys=capsys,
    )
    assert code == 2
    assert "(0, 1]" in err


def test_csv_kinds_are_inferred_over_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlcode.drift import sources

    monkeypatch.setattr(sources, "_CSV_BLOCK", 1 << 10)  # many blocks in a small file
    rows = [f"{i},{i * 0.5},x" for i in range(2000)] + ["2000,n/a?,y"]
    path = tmp_path / "late.csv"
    path.write_text("n,score,tag\n" + "\n".join(rows) + "\n", encoding="utf-8")
    types = sources.schema(sources.data_file(path))
    assert types == {"n": "int64", "score": "string", "tag": "string"}


def test_sketch_path_gives_the_exact_verdicts(tmp_path: Path) -> None:
    ref, cur = frames(3000, seed=4)
    write(tmp_path / "ref.parquet", ref.drop(columns=["ts"]))
    write(tmp_path / "cur.csv", cur.drop(columns=["ts"]))
    args = ["drift", "--reference", "ref.parquet", "--current", "cur.csv", "--json"]
    args += ["--id-column", "user_id"]
    exact = json.loads(mlcode(tmp_path, *args).stdout)["columns"]
    run_sketched = mlcode(tmp_path, *args, "--exact-limit", "0", "--html", "r.html")
    sketched = json.loads(run_sketched.stdout)["columns"]
    assert sketched["age"]["plot"]["estimated"] is True  # histogram from the sketch's quantiles
    assert sum(sketched["age"]["plot"]["reference"]) == pytest.approx(3000, abs=40)
    assert "<svg" in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert {n for n, c in sketched.items() if c["drifted"]} == SHIFTED
    for name, col in exact.items():
        other = sketched[name]
        assert (other["method"], other["drifted"]) == (col["method"], col["drifted"])
        bound = other.get("estimate_bound", 0.0)
        assert abs(other["statistic"] - col["statistic"]) <= bound + 1e-12
    assert "quantile sketches" in sketched["age"]["note"]
    assert "estimate_bound" not in exact["age"]


def test_progress_bar_after_a_delay() -> None:
    import io

    from mlcode.cli.drift import Progress

    quick = io.StringIO()
    bar = Progress(quick, after=3600.0)
    bar(1, 4, "age")
    bar.close()
    assert quick.getvalue() == ""  # nothing for work shorter than the delay
    slow = io.StringIO()
    bar = Progress(slow, after=0.0)
    bar(2, 4, "income")
    assert "[###############               ] 2/4 columns income" in slow.getvalue()
    bar.close()
    assert slow.getvalue().endswith("\r")  # the line is cleared


def test_booleans_and_dates_are_categorical(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ref, cur = frames(400, seed=5)
    for df in (ref, cur):
        df["active"] = df["visits"] > 1
    write(tmp_path / "ref.csv", ref)
    write(tmp_path / "cur.csv", cur)
    code, out, err = run(
        tmp_path, "drift", "--reference", "ref.csv", "--current", "cur.csv", "--json", capsys=capsys
    )
    assert code == 0, err
    kinds = {n: c["kind"] for n, c in json.loads(out)["columns"].items()}
    assert kinds["active"] == kinds["ts"] == "categorical"
    assert kinds["user_id"] == "numeric"  # not named as the id column: compared like any other


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    import os
    import pty
    import subprocess

    from tests.e2e.helpers import BIN, env

    ref, cur = frames(300, seed=6)
    write(tmp_path / "ref.parquet", ref)
    write(tmp_path / "cur.parquet", cur)
    args = [str(BIN / "mlcode"), "drift", "--reference", "ref.parquet", "--current", "cur.parquet"]

    def stderr_on_a_tty(*extra: str) -> bytes:
        leader, follower = pty.openpty()
        proc = subprocess.Popen(
            [*args, "--progress-after", "0", *extra],
            cwd=tmp_path,
            env=env(),
            stdout=subprocess.DEVNULL,
            stderr=follower,
        )
        os.close(follower)
        out = b""
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            out += data
        os.close(leader)
        assert proc.wait(timeout=60) == 0
        return out

    shown = stderr_on_a_tty()
    assert b"\r[" in shown  # a real carriage return, not the text \x0d
    assert b"columns" in shown
    assert b"\\x0d" not in shown
    assert stderr_on_a_tty("--quiet") == b""
