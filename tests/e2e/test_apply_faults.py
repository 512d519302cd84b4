"""Fault injection over the real apply flow: SIGKILL and SIGINT at every checkpoint of apply (and
at a few wall-clock moments), then apply again. The repository must end exactly as one
uninterrupted apply leaves it, and `plan` / `check` must never call the half-applied state in sync.

The project is the iris example with its data committed to git (the usual way a team adopts
mlcode), so the run also takes the git → DVC migration path. Apply signals itself at a named
checkpoint through its documented test seam (`MLCODE_TEST_SIGNAL_AT`, see mlcode.project.apply).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlcode.project.apply import SIGNAL_SEAM
from tests.conftest import GIT_ENV
from tests.e2e.helpers import BIN, env, git, mlcode, snapshot

pytestmark = pytest.mark.slow

POINTS = (
    "start",
    "dvc-init",
    "autostage",
    "write:dvc.yaml",
    "write:params.yaml",
    "state-gitignore",
    "remote-add",
    "remote-default",
    "untrack",
    "rescue",
    "dvc-add",
    "git-add",
    "manifest-staged",
)

# Ctrl-C rolls back, so the state after it depends less on where it lands: fewer points.
INT_POINTS = ("start", "dvc-init", "remote-add", "untrack", "dvc-add", "manifest-staged")
CASES = [(p, "KILL") for p in POINTS] + [(p, "INT") for p in INT_POINTS]

State = tuple[dict[str, bytes], str, bytes | None]


def _state(root: Path) -> State:
    config = root / ".dvc" / "config"
    return (
        snapshot(root),
        git(root, "ls-files", "-s"),
        config.read_bytes() if config.is_file() else None,
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, State]]:
    """A committed iris project (data in git), and the state one uninterrupted apply leaves."""
    with pytest.MonkeyPatch.context() as mp:
        home = tmp_path_factory.mktemp("home")
        mp.setenv("HOME", str(home))
        mp.setenv("DVC_NO_ANALYTICS", "1")
        mp.setenv("DVC_SITE_CACHE_DIR", str(home / "dvc-site-cache"))
        for key, value in GIT_ENV.items():
            mp.setenv(key, value)
        base = tmp_path_factory.mktemp("template")
        repo = base / "repo"
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        assert mlcode(repo, "init", "--example", "iris").returncode == 0
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "data in git")
        reference = _copy(repo, tmp_path_factory.mktemp("reference"))
        done = mlcode(reference, "apply", "--auto-approve")
        assert done.returncode == 0, done.stdout + done.stderr
        yield repo, _state(reference)


def _copy(repo: Path, into: Path) -> Path:
    dest = into / "repo"
    shutil.copytree(repo, dest, symlinks=True)
    return dest


def _half_applied_is_visible(root: Path, reference: State) -> None:
    plan = mlcode(root, "plan", "--no-status", "--detailed-exitcode")
    assert plan.returncode == 2, plan.stdout + plan.stderr
    assert "No changes" not in plan.stdout
    check = mlcode(root, "check")
    if git(root, "ls-files", "-s") != reference[1]:
        # check judges what would be committed: unless the index already holds exactly what a
        # completed apply stages (a kill after staging the manifest, before writing it), it fails
        assert check.returncode == 1, check.stdout + check.stderr
        assert "ok" not in check.stdout


def _finish_and_compare(root: Path, reference: State) -> None:
    again = mlcode(root, "apply", "--auto-approve")
    assert again.returncode == 0, again.stdout + again.stderr
    assert _state(root) == reference
    assert mlcode(root, "plan", "--no-status", "--detailed-exitcode").returncode == 0


@pytest.mark.parametrize(("point", "sig"), CASES)
def test_signal_at_checkpoint_then_apply_again(
    template: tuple[Path, State], tmp_path: Path, point: str, sig: str
) -> None:
    repo, reference = template
    root = _copy(repo, tmp_path)
    before = _state(root)
    hurt = subprocess.run(
        [str(BIN / "mlcode"), "apply", "--auto-approve"],
        cwd=root,
        env={**env(), SIGNAL_SEAM: f"{point}:{sig}"},
        capture_output=True,
        text=True,
        check=False,
    )
    if sig == "KILL":
        assert hurt.returncode == -signal.SIGKILL, hurt.stdout + hurt.stderr
    else:
        assert hurt.returncode == 130, hurt.stdout + hurt.stderr
        assert "Traceback" not in hurt.stderr
        assert _state(root) == before  # Ctrl-C rolls everything back
    _half_applied_is_visible(root, reference)
    _finish_and_compare(root, reference)


def _group_alive(pgid: int) -> bool:
    """True while a process of group `pgid` still runs (zombies do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


@pytest.mark.parametrize(
    ("delay", "sig"), [(0.8, signal.SIGKILL), (1.6, signal.SIGKILL), (1.2, signal.SIGINT)]
)
def test_signal_after_a_delay_then_apply_again(
    template: tuple[Path, State], tmp_path: Path, delay: float, sig: signal.Signals
) -> None:
    """A kill at a wall-clock moment, inside DVC or git as likely as between steps. SIGKILL hits
    mlcode alone (its running DVC or git finishes as an orphan, as after `kill -9`); SIGINT hits
    the whole process group, as Ctrl-C in a terminal does."""
    repo, reference = template
    root = _copy(repo, tmp_path)
    proc = subprocess.Popen(
        [str(BIN / "mlcode"), "apply", "--auto-approve"],
        cwd=root,
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(delay)
    if sig == signal.SIGKILL:
        proc.kill()
    else:
        os.killpg(proc.pid, sig)
    code = proc.wait(timeout=120)
    deadline = time.monotonic() + 120
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if code != 0:
        _half_applied_is_visible(root, reference)
    _finish_and_compare(root, reference)


def test_dataset_removed_by_an_interrupted_dvc_add_comes_back(
    template: tuple[Path, State], tmp_path: Path
) -> None:
    """DVC's `add` deletes the data file and copies it back from its cache; killed in between,
    the data would only be in the cache. Apply keeps a hard link, and the next apply puts it back."""
    repo, reference = template
    root = _copy(repo, tmp_path)
    data = (root / "data" / "iris.csv").read_bytes()
    hurt = mlcode_with(root, {SIGNAL_SEAM: "rescue:KILL"})
    assert hurt.returncode == -signal.SIGKILL
    (root / "data" / "iris.csv").unlink()  # where DVC's relink would leave it
    plan = mlcode(root, "plan", "--no-status")
    assert "data/iris.csv (put back from .mlcode/rescue/" in plan.stdout, plan.stdout
    _finish_and_compare(root, reference)
    assert (root / "data" / "iris.csv").read_bytes() == data


def mlcode_with(root: Path, extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`mlcode apply --auto-approve` with extra environment variables."""
    return subprocess.run(
        [str(BIN / "mlcode"), "apply", "--auto-approve"],
        cwd=root,
        env={**env(), **extra},
        capture_output=True,
        text=True,
        check=False,
    )
