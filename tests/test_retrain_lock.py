"""The project lock names who holds it: `mlcode retrain` refuses at once (timeout 0) with its own
message; `mlcode apply` keeps waiting and naming itself."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mlcode.errors import UserError
from mlcode.project.lock import exclusive


def test_retrain_lock_refuses_at_once_naming_retrain(tmp_path: Path) -> None:
    lock = tmp_path / ".mlcode" / "retrain.lock"
    with exclusive(lock, timeout=0, holder="mlcode retrain"):
        start = time.monotonic()
        with (
            pytest.raises(UserError, match="another mlcode retrain holds the lock") as caught,
            exclusive(lock, timeout=0, holder="mlcode retrain"),
        ):
            pass
        assert time.monotonic() - start < 5  # not the minute apply would wait
        assert str(lock) in caught.value.message
        assert "not waiting" in caught.value.message
    assert not lock.exists()
    assert not lock.parent.exists()  # the folder it made is gone too


def test_apply_lock_keeps_its_message(tmp_path: Path) -> None:
    lock = tmp_path / "apply.lock"
    with (
        exclusive(lock),
        pytest.raises(UserError, match=r"another mlcode apply holds the lock .*waited 1 s"),
        exclusive(lock, timeout=1),
    ):
        pass
