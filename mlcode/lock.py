"""A file lock that serializes concurrent `mlcode apply` runs on one repository."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mlcode.errors import UserError


@contextmanager
def exclusive(path: Path, *, timeout: float = 60.0) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if needed), waiting up to `timeout` seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise UserError(
                        f"another mlcode apply holds the lock {path} (waited {timeout:.0f} s); "
                        "let it finish and try again"
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
