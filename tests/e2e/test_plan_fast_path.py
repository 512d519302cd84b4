"""plan's fast path (nothing changed since apply) yields exactly what compiling would."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlcode.compile import compile_project
from mlcode.project.workspace import compute_plan, open_workspace
from mlcode.resources import data_dir
from tests.e2e.helpers import env, mlcode

pytestmark = pytest.mark.slow


def test_fast_path_equals_compile(git_repo: Path) -> None:
    assert mlcode(git_repo, "init", "--example", "diabetes", "--stack", "github-s3").returncode == 0
    assert mlcode(git_repo, "apply", "--auto-approve").returncode == 0
    ws = open_workspace(git_repo)
    plan, compiled = compute_plan(ws, with_status=False)
    assert compiled == compile_project(ws.project.spec, ws.project.stack)
    assert not plan.changes
    # a hand edit leaves the fast path: the plan sees it
    params = git_repo / "params.yaml"
    params.write_text(params.read_text() + "# edit\n")
    plan, compiled = compute_plan(ws, with_status=False)
    assert compiled == compile_project(ws.project.spec, ws.project.stack)
    assert [c.path for c in plan.changes] == ["params.yaml"]
    assert plan.changes[0].hand_edited


# Runs the real `mlcode plan`; when it starts `dvc status` (the real DVC, in the background), it
# records whether pydantic was already imported.
STATUS_PROBE = """
import subprocess, sys
OUT = sys.argv[1]
_popen = subprocess.Popen.__init__
def _spy(self, args, *rest, **kwargs):
    if list(args)[1:4] == ["-m", "dvc", "status"]:
        with open(OUT, "w") as fh:
            fh.write("pydantic" if "pydantic" in sys.modules else "light")
    _popen(self, args, *rest, **kwargs)
subprocess.Popen.__init__ = _spy
from mlcode.cli import main
sys.argv = ["mlcode", "plan"]
main()
"""


def test_plan_starts_dvc_status_before_heavy_imports(git_repo: Path) -> None:
    """DVC's status (the long part of plan) overlaps loading pydantic and the spec, not after."""
    assert mlcode(git_repo, "init", "--example", "iris").returncode == 0
    assert mlcode(git_repo, "apply", "--auto-approve").returncode == 0
    out = git_repo.parent / "probe.txt"
    result = subprocess.run(
        [sys.executable, "-c", STATUS_PROBE, str(out)],
        cwd=git_repo,
        capture_output=True,
        text=True,
        env=env(),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert out.read_text() == "light"


def _private_mlcode(target: Path) -> Path:
    """A copy of this mlcode (package, templates, stacks) at `target`, to import with PYTHONPATH;
    its shipped data sits in `mlcode/_data/`, where an installed wheel keeps it."""
    import mlcode as package

    shutil.copytree(
        Path(package.__file__).resolve().parent,
        target / "mlcode",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for kind in ("templates", "stacks"):
        shutil.copytree(data_dir(kind), target / "mlcode" / "_data" / kind, dirs_exist_ok=True)
    return target


def test_a_template_changed_at_the_same_version_leaves_the_fast_path(
    git_repo: Path, tmp_path: Path
) -> None:
    """ml.yaml, the stack and the version are those of the last apply, but a shipped template is
    not: plan must compile and show the generated file it changes, not "No changes"."""
    copy = _private_mlcode(tmp_path / "pkg")
    run_env = {**env(), "PYTHONPATH": str(copy)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mlcode", *args],
            cwd=git_repo,
            capture_output=True,
            text=True,
            env=run_env,
            check=False,
        )

    assert run("init", "--example", "iris", "--stack", "github-s3").returncode == 0
    applied = run("apply", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert run("plan", "--no-status", "--detailed-exitcode").returncode == 0
    template = copy / "mlcode" / "_data" / "templates" / "github" / "mlcode-pr.yml.j2"
    template.write_text(template.read_text() + "# a template changed without a version bump\n")
    plan = run("plan", "--no-status", "--detailed-exitcode")
    assert plan.returncode == 2, plan.stdout + plan.stderr
    assert "~ .github/workflows/mlcode-pr.yml (update)" in plan.stdout
    assert "+# a template changed without a version bump" in plan.stdout
    applied = run("apply", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert run("plan", "--no-status", "--detailed-exitcode").returncode == 0
