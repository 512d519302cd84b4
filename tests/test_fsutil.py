"""Atomic writes: a file is the old or the new version, never torn; no temp file is left."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlcode.adapters import fs


def test_write_creates_parents_and_content(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "f.txt"
    fs.atomic_write(target, "hello\n")
    assert target.read_text() == "hello\n"


def test_failure_mid_write_keeps_old_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.txt"
    target.write_text("old\n")

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        fs.atomic_write(target, "new\n" * 1000)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_keeps_existing_mode(tmp_path: Path) -> None:
    target = tmp_path / "x.sh"
    target.write_text("a")
    target.chmod(0o750)
    fs.atomic_write(target, "b")
    assert target.stat().st_mode & 0o777 == 0o750
