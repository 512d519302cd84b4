"""The fast commands stay light: `mlcode --help` and `mlcode validate` import no heavy library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlcode.cli import cli
from mlcode.cli.boundary import run_guarded

HEAVY = ("dvc", "pandas", "sklearn", "scipy", "matplotlib")

# Runs the real entry point and, at exit, writes the top-level names of every loaded module.
WRAPPER = """
import atexit, json, sys
OUT = sys.argv[1]
def _dump():
    with open(OUT, "w") as fh:
        json.dump(sorted({name.split(".")[0] for name in sys.modules}), fh)
atexit.register(_dump)
from mlcode.cli import main
sys.argv = ["mlcode", *sys.argv[2:]]
main()
"""


def _loaded(tmp_path: Path, *args: str) -> tuple[int, set[str]]:
    out = tmp_path / "modules.json"
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(out), *args],
        capture_output=True,
        text=True,
        env=os.environ,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, set(json.loads(out.read_text()))


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [["--help"], ["--version"], ["validate"], ["validate", "--json"], ["schema"]],
)
def test_light_commands_import_nothing_heavy(tmp_path: Path, args: list[str]) -> None:
    project = tmp_path / "project"
    project.mkdir()
    assert run_guarded(cli, ["-C", str(project), "init", "--example", "iris"]) == 0
    code, modules = _loaded(tmp_path, "-C", str(project), *args)
    assert code == 0
    assert "mlcode" in modules
    heavy = sorted(set(HEAVY) & modules)
    assert heavy == [], f"mlcode {' '.join(args)} imported {heavy}"


@pytest.mark.slow
def test_failing_validate_imports_nothing_heavy(tmp_path: Path) -> None:
    (tmp_path / "ml.yaml").write_text("version: 1\nprojct: x\n")
    code, modules = _loaded(tmp_path, "-C", str(tmp_path), "validate")
    assert code == 1
    assert set(HEAVY) & modules == set()


@pytest.mark.slow
def test_wrapper_detects_heavy_imports(tmp_path: Path) -> None:
    """The probe itself works: `validate --deep` imports scikit-learn for real."""
    project = tmp_path / "project"
    project.mkdir()
    assert run_guarded(cli, ["-C", str(project), "init", "--example", "iris"]) == 0
    code, modules = _loaded(tmp_path, "-C", str(project), "validate", "--deep")
    assert code == 0
    assert "sklearn" in modules
