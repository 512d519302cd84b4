"""`mlcode drift` holds about one column pair at a time: its peak memory (max RSS of the process,
measured by a launcher that waits for it) stays well under the size of the data, on the exact path
and on the sketch path. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.e2e.helpers import BIN, env

ROWS = 400_000
NUMERIC = 20
DATA_MB = 2 * ROWS * NUMERIC * 8 / 2**20  # both files' numeric values as float64: 122 MB
LAUNCHER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
    "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def max_rss_mb(*command: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *command],
        capture_output=True,
        text=True,
        env=env(),
        check=True,
    ).stdout.split()
    assert out[0] == "0"
    return int(out[1]) / 1024


def write(path: Path, seed: int, shift: float, rows: int = ROWS) -> None:
    rng = np.random.default_rng(seed)
    table = pa.table(
        {
            **{f"x{i}": rng.normal(shift if i < 3 else 0.0, 1, rows) for i in range(NUMERIC)},
            "c": pa.array(rng.choice(np.array(["a", "b", "c"], dtype=object), rows)),
        }
    )
    pq.write_table(table, path, row_group_size=100_000)


def command(root: Path, ref: str, cur: str) -> list[str]:
    return [str(BIN / "mlcode"), "-C", str(root), "drift", "--reference", ref, "--current", cur]


@pytest.mark.slow
def test_peak_memory_is_about_one_column_pair(tmp_path: Path) -> None:
    write(tmp_path / "ref.parquet", 0, 0.0)
    write(tmp_path / "cur.parquet", 1, 0.5)
    write(tmp_path / "tiny-ref.parquet", 2, 0.0, rows=2_000)
    write(tmp_path / "tiny-cur.parquet", 3, 0.0, rows=2_000)
    # the same command on tiny files: imports and everything that does not grow with the data
    baseline = max_rss_mb(*command(tmp_path, "tiny-ref.parquet", "tiny-cur.parquet"), "-q")
    big = [*command(tmp_path, "ref.parquet", "cur.parquet"), "-q"]
    exact = max_rss_mb(*big) - baseline
    sketched = max_rss_mb(*big, "--exact-limit", "0") - baseline
    # All the numeric data at once would be DATA_MB (122 MB) more; one column pair is 6.4 MB, and
    # its merge blocks and the Arrow reads add a few MB (measured: about 25 and 21 MB).
    assert exact < DATA_MB / 2.5, (exact, baseline)
    assert sketched < DATA_MB / 2.5, (sketched, baseline)
    report = subprocess.run(
        [*big, "--json"], capture_output=True, text=True, env=env(), check=True
    ).stdout
    drifted = {n for n, c in json.loads(report)["columns"].items() if c["drifted"]}
    assert drifted == {"x0", "x1", "x2"}
