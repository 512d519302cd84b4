"""ml.yaml and stack files are read with a bound fixed before reading: no FIFO hangs, no device
streams into memory, nothing but a regular file is read (fs.read_bounded and its callers)."""

from __future__ import annotations

import os
import resource
import subprocess
from pathlib import Path

import pytest

from mlcode.adapters import fs
from tests.e2e.helpers import mlcode

LIMIT_AS = 1 << 30  # 1 GiB of address space: a runaway read dies instead of eating the machine


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_AS, LIMIT_AS))


def _mlcode(cwd: Path, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return mlcode(cwd, *args, timeout=timeout, preexec_fn=_limited)


def test_reads_a_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"a: 1\n")
    assert fs.read_bounded(path, 5) == b"a: 1\n"


def test_refuses_a_file_over_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"x" * 6)
    with pytest.raises(fs.ReadRefused, match="6 bytes") as info:
        fs.read_bounded(path, 5)
    assert info.value.size == 6


def test_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "ml.yaml"
    os.mkfifo(fifo)  # no writer: a blocking open would wait forever
    with pytest.raises(fs.ReadRefused, match="FIFO"):
        fs.read_bounded(fifo, 100)


def test_refuses_a_symlink_to_a_device(tmp_path: Path) -> None:
    link = tmp_path / "ml.yaml"
    link.symlink_to("/dev/zero")
    with pytest.raises(fs.ReadRefused, match="character device"):
        fs.read_bounded(link, 100)


def test_refuses_a_directory(tmp_path: Path) -> None:
    with pytest.raises(fs.ReadRefused, match="directory"):
        fs.read_bounded(tmp_path, 100)


@pytest.fixture
def repo(git_repo: Path) -> Path:
    (git_repo / "ml.yaml").unlink(missing_ok=True)
    return git_repo


def test_validate_refuses_ml_yaml_linked_to_dev_zero(repo: Path) -> None:
    (repo / "ml.yaml").symlink_to("/dev/zero")
    result = _mlcode(repo, "validate")
    assert result.returncode == 1, result.stderr
    assert "ml.yaml: is a character device; expected a regular file" in result.stderr


def test_validate_refuses_a_fifo_ml_yaml_without_hanging(repo: Path) -> None:
    os.mkfifo(repo / "ml.yaml")
    result = _mlcode(repo, "validate", timeout=20)
    assert result.returncode == 1, result.stderr
    assert "ml.yaml: is a FIFO (named pipe); expected a regular file" in result.stderr


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda p: p.symlink_to("/dev/zero"), "a character device"),
        (os.mkfifo, "a FIFO (named pipe)"),
        (lambda p: p.mkdir(), "a directory"),
    ],
)
def test_validate_refuses_a_stack_file_that_is_not_a_regular_file(
    repo: Path, make: object, kind: str
) -> None:
    (repo / "ml.yaml").write_text("version: 1\nproject: demo\nstack: infra/stack.yaml\n")
    (repo / "infra").mkdir()
    make(repo / "infra" / "stack.yaml")  # type: ignore[operator]
    result = _mlcode(repo, "validate", timeout=20)
    assert result.returncode == 1, result.stderr
    assert f"infra/stack.yaml: is {kind}; expected a regular file" in result.stderr


def test_check_does_not_hang_on_a_fifo_ml_yaml(repo: Path) -> None:
    os.mkfifo(repo / "ml.yaml")
    result = _mlcode(repo, "check", timeout=5)
    assert result.returncode != 0
