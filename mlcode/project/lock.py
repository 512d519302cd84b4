"""A file lock that serializes concurrent mlcode runs on one repository (`mlcode apply` waits for
the one before it; `mlcode retrain` refuses at once while another holds its lock).

The lock file exists only while held: it is removed on release (and its folder, when the lock
created it and it is left empty), so an apply that refuses leaves the tree as it found it. A
waiter that wins the lock on a file already removed by its holder opens the new one and waits
again.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mlcode.errors import UserError


def _acquire(path: Path, deadline: float, timeout: float, holder: str) -> int:
    while True:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:  # the folder was removed by the previous holder: again
            continue
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    waited = f"waited {timeout:.0f} s" if timeout >= 1 else "not waiting"
                    raise UserError(
                        f"another {holder} holds the lock {path} ({waited}); let it finish and "
                        "try again"
                    ) from None
                time.sleep(0.05)
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # locked a file its holder already removed


@contextmanager
def exclusive(path: Path, *, timeout: float = 60.0, holder: str = "mlcode apply") -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if needed), waiting up to `timeout` seconds; the
    refusal names `holder`, the command that holds such a lock."""
    made_folder = not path.parent.exists()
    fd = _acquire(path, time.monotonic() + timeout, timeout, holder)
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        if made_folder:
            with contextlib.suppress(OSError):
                path.parent.rmdir()
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
