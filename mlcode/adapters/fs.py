"""Safe file I/O: atomic writes (old or new version, never half-written) and bounded reads.

`read_bounded` is how mlcode reads files a user controls (ml.yaml, a stack file): it opens without
blocking, refuses anything but a regular file (a FIFO would hang the pre-commit hook, `/dev/zero`
would grow memory without end) and never reads more than the limit allows.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class ReadRefused(Exception):
    """A file mlcode will not read: not a regular file, or larger than the limit."""

    def __init__(self, reason: str, *, size: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.size = size


def read_bounded(path: Path | str, limit: int) -> bytes:
    """The bytes of the regular file `path` (symlinks followed), at most `limit` of them.

    Raises FileNotFoundError (and other OSErrors) as `open` does, and ReadRefused for a directory,
    FIFO, device or socket, or a file over `limit` bytes; the check is made on the opened file,
    so a swap between check and read cannot slip a device in, and at most `limit + 1` bytes are
    ever read (a file that grows while being read is refused too).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise ReadRefused(f"is {kind}; expected a regular file")
        size = os.fstat(fd).st_size
        if size > limit:
            raise ReadRefused(f"is {size:,} bytes (the limit is {limit:,})", size=size)
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 16, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise ReadRefused(f"is more than {limit:,} bytes (the limit)", size=total)
        return b"".join(chunks)
    finally:
        os.close(fd)


def atomic_write(path: Path, content: bytes | str, *, mode: int | None = None) -> None:
    """Write `content` to `path` through a temp file in the same folder, fsync, then rename."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        elif path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
