"""User text echoed by the CLI (ml.yaml values, paths, file names) shows terminal escape sequences
as visible text; nothing reaches the terminal as a control sequence (OSC title, CSI clear, BEL)."""

from __future__ import annotations

import os
import pty
import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.helpers import BIN, env, git, mlcode

pytestmark = pytest.mark.slow

OSC = "\x1b]0;pwned\x07"
CSI = "\x1b[2J"
BIDI = "\u202e"
# Every C0 control but newline and tab, DEL, C1, and the bidi overrides/isolates.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("visible") / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    assert mlcode(root, "init", "--example", "iris").returncode == 0
    name = f"data/{OSC}{CSI}{BIDI}.csv"
    (root / name).write_bytes((root / "data" / "iris_latest.csv").read_bytes())
    spec = root / "ml.yaml"
    spec.write_text(
        spec.read_text().replace(
            "path: data/iris_latest.csv", 'path: "data/\\e]0;pwned\\a\\e[2J\\u202e.csv"'
        )
    )
    return root


def _in_terminal(cwd: Path, *args: str) -> tuple[int, str]:
    """Run mlcode with stdout and stderr on a pseudo-terminal (where escapes would act)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [str(BIN / "mlcode"), *args], cwd=cwd, env=env(), stdout=slave, stderr=slave
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode("utf-8", "replace")


def _assert_visible(text: str, *, csi: bool = True) -> None:
    # A terminal adds \r to each \n; the only control left must be that pairing.
    assert not CONTROL.search(text.replace("\r\n", "\n")), repr(text)
    assert "\\x1b]0;pwned\\x07" in text
    if csi:  # click drops CSI sequences itself when the output is not a terminal
        assert "\\x1b[2J" in text
    assert "\\u202e" in text


def test_plan_shows_an_escape_laden_path_as_text(project: Path) -> None:
    result = mlcode(project, "plan", "--no-status")
    assert result.returncode == 0, result.stderr
    _assert_visible(result.stdout, csi=False)
    assert "→" in result.stdout  # printable non-ASCII text is left alone
    code, shown = _in_terminal(project, "plan", "--no-status")
    assert code == 0, shown
    _assert_visible(shown)


def test_an_error_naming_a_file_shows_escapes_as_text(project: Path) -> None:
    spec = project / "ml.yaml"
    original = spec.read_text()
    stack = f"infra/{OSC}{CSI}{BIDI}.yaml"
    (project / "infra").mkdir(exist_ok=True)
    (project / stack).write_text(
        "name: t\nremote: {type: s3, url: 's3://b', options: {password: x}}\n"
    )
    try:
        spec.write_text(
            original.replace("stack: local ", 'stack: "infra/\\e]0;pwned\\a\\e[2J\\u202e.yaml" ')
        )
        for command in ("validate", "plan"):
            result = (
                mlcode(project, command, "--no-status")
                if command == "plan"
                else mlcode(project, command)
            )
            assert result.returncode in (1, 3), result.stdout + result.stderr
            assert "is a credential" in result.stderr
            _assert_visible(result.stderr)
    finally:
        spec.write_text(original)
