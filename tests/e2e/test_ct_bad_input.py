"""The issue's "Bad input" of continuous training, each through the real `mlcode retrain` on the
local stack (tests/e2e/ct_project.py's project, champions in the registry): a source that fails,
new data with another schema, the DVC remote gone in the middle of a run, a second retrain while
one runs, a runner killed in the middle of a stage. Each is a clear one-paragraph error in the
summary (never a traceback), nothing is promoted (no new branch or tag on the origin), and once
the cause is fixed a rerun completes and promotes once."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.ct_project import (
    land,
    sensor_batch,
    state,
    storage,
    summary_of,
    table_rows,
    upstream,
)
from tests.e2e.helpers import BIN, env, mlcode
from tests.e2e.promote_helpers import remote_refs

pytestmark = pytest.mark.slow

LOCK = ".mlcode/retrain.lock"


def _shifted() -> dict[str, str]:
    """The day's batch of sensor data, every feature's mean moved by 3 standard deviations."""
    return sensor_batch(seed=11, shift=3.0)


def _errors(result: subprocess.CompletedProcess[str], summary: dict[str, Any]) -> str:
    """Every error text the run reported: stderr, each model's error and failed step details."""
    texts = [result.stderr]
    for row in summary.get("models", []):
        texts.append(row.get("error") or "")
        texts += [s["detail"] for s in row.get("steps", {}).values() if s["status"] == "failed"]
    return "\n".join(t for t in texts if t)


def _one_paragraph(text: str, *needles: str) -> str:
    """The paragraph of `text` that holds every needle (lines wrapped anywhere); fails when there
    is none."""
    for paragraph in text.split("\n\n"):
        flat = " ".join(paragraph.split())
        if all(" ".join(n.split()) in flat for n in needles):
            return flat
    raise AssertionError(f"no paragraph names {needles}:\n{text}")


def _refused(repo: Path, *needles: str) -> None:
    """`mlcode retrain` fails early with exit 3, in JSON and as a table, naming `needles` in one
    paragraph, and changes nothing at all."""
    before = state(repo)
    result = mlcode(repo, "retrain", "--json")
    summary = summary_of(result)
    assert result.returncode == 3, result.stdout + result.stderr
    assert summary["outcome"] == "error"
    assert summary["exit_code"] == 3
    assert all(row["outcome"] != "promoted" for row in summary["models"])
    _one_paragraph(_errors(result, summary), *needles)
    assert state(repo) == before
    table = mlcode(repo, "retrain")
    assert table.returncode == 3, table.stdout + table.stderr
    assert "Traceback" not in table.stdout + table.stderr
    _one_paragraph(table.stdout + "\n\n" + table.stderr, *needles)
    (row,) = table_rows(table.stdout, "sensor")
    assert "error" in row  # the model's row, its outcome word
    assert state(repo) == before


def _promoted_once(repo: Path, before: dict[str, str]) -> dict[str, Any]:
    """A rerun promotes `sensor`, once: one new branch and one new tag on the origin."""
    result = mlcode(repo, "retrain", "--json")
    summary = summary_of(result)
    assert result.returncode == 0, result.stdout + result.stderr
    assert summary["outcome"] == "promoted"
    rows = {row["model"]: row for row in summary["models"]}
    assert rows["sensor"]["outcome"] == "promoted", rows["sensor"]
    assert rows["churn"]["outcome"] == "nothing to do", rows["churn"]
    version = rows["sensor"]["version"]
    after = remote_refs(repo)
    new = {name for name in after if before.get(name) != after[name]}
    assert new == {f"refs/heads/mlcode/promote/sensor/{version}", f"refs/tags/sensor@{version}"}
    return summary


def test_a_failing_source_then_another_schema_change_nothing_and_a_rerun_completes(
    ct_project: Path,
) -> None:
    repo = ct_project
    first = remote_refs(repo)
    batch = _shifted()
    land(repo, batch)
    # the upstream file is gone: the source fails
    gone = upstream(repo) / "sensor.csv"
    gone.unlink()
    _refused(repo, "'sensor'", "../upstream/sensor.csv")
    # it is back with another schema: a declared column gone, a number column turned to text
    lines = batch["sensor.csv"].splitlines()
    header = lines[0].split(",")
    dropped, texted = header.index("vibration"), header.index("pressure")
    broken = []
    for number, line in enumerate(lines):
        cells = line.split(",")
        if number:  # pressure now comes with its unit
            cells[texted] = f"{cells[texted]} bar"
        del cells[dropped]
        broken.append(",".join(cells))
    land(repo, {"sensor.csv": "\n".join(broken) + "\n"})
    _refused(repo, "'sensor'", "vibration", "pressure (number → text)")
    # the upstream fixed its export: the rerun completes
    land(repo, batch)
    _promoted_once(repo, first)


# --- failures in the middle of a run -----------------------------------------------------------


def _stage_running(repo: Path, words: tuple[str, ...]) -> bool:
    """Whether a process runs in `repo` whose command line holds `words` in order (DVC's stage
    command, e.g. `mlcode step train sensor`)."""
    wanted = "\0".join(words)
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if (wanted in cmdline or " ".join(words) in cmdline) and Path(cwd) == repo:
            return True
    return False


@contextlib.contextmanager
def _training(repo: Path, log: Path) -> Iterator[subprocess.Popen[str]]:
    """`mlcode retrain --json` started in its own process group (output in `log`.out/.err),
    entered once the training stage of `sensor` runs; the group is killed on the way out if it
    still runs."""
    with log.with_suffix(".out").open("w") as out, log.with_suffix(".err").open("w") as err:
        proc = subprocess.Popen(
            [str(BIN / "mlcode"), "retrain", "--json"],
            cwd=repo,
            env=env(),
            stdout=out,
            stderr=err,
            text=True,
            start_new_session=True,
        )
        try:
            _wait_for_stage(proc, repo, log)
            yield proc
        finally:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _wait_for_stage(proc: subprocess.Popen[str], repo: Path, log: Path) -> None:
    """Until the training stage of `sensor` runs; fails when the run ends first."""
    deadline = time.monotonic() + 180
    while not _stage_running(repo, ("step", "train", "sensor")):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(
                f"the training stage never ran (exit {proc.poll()})\n"
                + log.with_suffix(".out").read_text()
                + log.with_suffix(".err").read_text()
            )
        time.sleep(0.02)


def _finished(proc: subprocess.Popen[str], log: Path) -> subprocess.CompletedProcess[str]:
    code = proc.wait(timeout=300)
    return subprocess.CompletedProcess(
        proc.args, code, log.with_suffix(".out").read_text(), log.with_suffix(".err").read_text()
    )


def test_the_remote_down_mid_run_promotes_nothing_and_a_rerun_completes(
    ct_project: Path,
    tmp_path: Path,
) -> None:
    repo = ct_project
    first = remote_refs(repo)
    land(repo, _shifted())
    remote = storage(repo)
    away = remote.with_name("ct.away")
    log = tmp_path / "run"
    with _training(repo, log) as proc:
        # the remote is a mount that went away while the model trains: the folder is gone and
        # its path points at nothing (DVC cannot recreate it)
        remote.rename(away)
        remote.symlink_to(tmp_path / "unmounted" / "ct")
        result = _finished(proc, log)
    summary = summary_of(result)
    assert result.returncode == 3, result.stdout + result.stderr
    assert summary["outcome"] == "error"
    row = {r["model"]: r for r in summary["models"]}["sensor"]
    assert row["outcome"] == "error"
    assert row["branch"] is None
    assert row["error"]
    assert "\n\n" not in row["error"].strip()  # one paragraph
    failed = [step for step, s in row["steps"].items() if s["status"] == "failed"]
    assert failed, row
    assert "dvc push" in row["error"]  # what failed: sending the data, before any pointer
    assert remote_refs(repo) == first  # so nothing was promoted

    remote.unlink()
    away.rename(remote)  # the remote is back
    _promoted_once(repo, first)


def _lock_free(repo: Path) -> bool:
    """Whether the retrain lock can be taken now (no file, or a file nobody holds)."""
    path = repo / LOCK
    if not path.exists():
        return True
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def test_a_second_retrain_refuses_and_a_killed_runner_leaves_a_rerun_that_completes(
    ct_project: Path,
    tmp_path: Path,
) -> None:
    repo = ct_project
    first = remote_refs(repo)
    land(repo, _shifted())
    log = tmp_path / "run"
    with _training(repo, log) as proc:
        assert not _lock_free(repo)
        # a second retrain in the same checkout refuses at once, naming the lock
        started = time.monotonic()
        second = mlcode(repo, "retrain", "--json", timeout=60)
        took = time.monotonic() - started
        assert second.returncode == 3, second.stdout + second.stderr
        assert "Traceback" not in second.stdout + second.stderr
        # a failure of the run as a whole: the message on stderr; JSON, if any, says error
        assert not second.stdout.strip() or json.loads(second.stdout)["outcome"] == "error"
        _one_paragraph(second.stdout + "\n\n" + second.stderr, LOCK)
        assert took < 20, took
        assert proc.poll() is None  # the first one goes on
        # the runner dies in the middle of the training stage
        os.killpg(proc.pid, signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL
    assert _lock_free(repo)
    assert remote_refs(repo) == first  # nothing promoted
    _promoted_once(repo, first)
