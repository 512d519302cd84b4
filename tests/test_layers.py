"""The layer rule holds: the import-linter contracts in pyproject.toml (what `lint-imports` checks
in CI and pre-commit) are kept by mlcode as it is, and each one breaks on a copy of mlcode with one
import that goes against it, so a cycle or a wrong-way import fails the suite too."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Run import-linter the way `lint-imports` does, on the checkout in the current folder.
LINT = (
    "import sys; from importlinter.cli import lint_imports; "
    "sys.exit(lint_imports(no_cache=True, no_logo=True, limit_to_contracts=tuple(sys.argv[1:])))"
)


def lint(checkout: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(checkout))
    return subprocess.run(
        [sys.executable, "-c", LINT, *contracts],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_mlcode_keeps_every_contract() -> None:
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package and its contracts, to break one import at a time."""
    copy = tmp_path_factory.mktemp("layers")
    shutil.copytree(ROOT / "mlcode", copy / "mlcode", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


@pytest.mark.parametrize(
    ("module", "bad_import", "contract", "says"),
    [
        # the foundation reaching up: errors → cli (and a cycle, since cli imports errors)
        (
            "mlcode/errors.py",
            "from mlcode.cli import boundary",
            "layers",
            "mlcode.errors is not allowed to import mlcode.cli",
        ),
        # a lower layer importing a higher one
        (
            "mlcode/spec/semantic.py",
            "from mlcode.project import plan",
            "layers",
            "mlcode.spec is not allowed to import mlcode.project",
        ),
        # a cycle inside one package: manifest ↔ plan (plan imports manifest)
        ("mlcode/project/manifest.py", "from mlcode.project import plan", "acyclic", "cycle"),
        # the old inversion: the workspace taking a predicate from the pre-commit module
        (
            "mlcode/project/workspace.py",
            "from mlcode.project import check",
            "shared",
            "mlcode.project.workspace is not allowed to import mlcode.project.check",
        ),
        # a pure core running a program
        (
            "mlcode/project/plan.py",
            "import subprocess",
            "pure",
            "mlcode.project.plan is not allowed to import subprocess",
        ),
        # one command importing another
        ("mlcode/cli/plan.py", "from mlcode.cli import apply", "commands", "mlcode.cli.plan"),
    ],
)
def test_a_wrong_way_import_breaks_its_contract(
    pristine: Path, tmp_path: Path, module: str, bad_import: str, contract: str, says: str
) -> None:
    checkout = tmp_path / "checkout"
    shutil.copytree(pristine, checkout)
    assert lint(checkout, contract).returncode == 0  # the copy keeps it before the edit
    target = checkout / module
    target.write_text(target.read_text() + f"\n{bad_import}  # noqa: E402\n")
    result = lint(checkout, contract)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert says in " ".join(result.stdout.split())
