"""plan's fast path (nothing changed since apply) yields exactly what compiling would."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlcode.compile import compile_project
from mlcode.project.workspace import compute_plan, open_workspace
from tests.e2e.helpers import mlcode

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
