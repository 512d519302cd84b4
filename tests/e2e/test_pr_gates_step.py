"""The PR workflow's gates step, run as GitHub would run it: its own `run:` script, with the env the
step declares, in a fresh clone of a trained project (the previous steps — validate, check,
reproduce — leave the tree as `mlcode run` does). It must pass on a good model and fail on a
gate breach, writing the Markdown report and the step outputs GitHub reads.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlcode.compile import compile_project
from mlcode.resources import stack_presets
from mlcode.spec.load import load_file, parse_spec, parse_stack
from mlcode.spec.yamlsource import parse
from tests.e2e.helpers import BIN, env, git, mlcode

pytestmark = pytest.mark.slow

STEP = "Evaluate the gates and write the report"


def _gates_step(repo: Path) -> dict[str, Any]:
    """The gates step of the PR workflow compiled from this project's ml.yaml on github-s3."""
    stack_path = stack_presets()["github-s3"]
    stack = parse_stack(load_file(str(stack_path), "stacks/github-s3.yaml"))
    text = (repo / "ml.yaml").read_text().replace("stack: local", "stack: github-s3")
    spec = parse_spec(parse(text, "ml.yaml"))
    workflow = yaml.safe_load(compile_project(spec, stack)[".github/workflows/mlcode-pr.yml"])
    (step,) = [s for s in workflow["jobs"]["check"]["steps"] if s.get("name") == STEP]
    return dict(step)


def _run_step(repo: Path, step: dict[str, Any], tmp: Path) -> tuple[int, str, dict[str, str]]:
    runner_temp = tmp / "runner-temp"
    runner_temp.mkdir(exist_ok=True)
    summary, output = tmp / "summary.md", tmp / "output.txt"
    for f in (summary, output):
        f.write_text("")
    e = env()
    for key, value in step.get("env", {}).items():
        # `${{ github.base_ref }}` is the PR's base branch; GitHub fills it in before the shell.
        e[key] = "main" if "github.base_ref" in str(value) else str(value)
    e.update(
        RUNNER_TEMP=str(runner_temp),
        GITHUB_STEP_SUMMARY=str(summary),
        GITHUB_OUTPUT=str(output),
    )
    proc = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", step["run"]],
        cwd=repo,
        env=e,
        capture_output=True,
        text=True,
        check=False,
    )
    outputs: dict[str, str] = {}
    for line in output.read_text().splitlines():
        if "=" in line and "<<" not in line:
            key, value = line.split("=", 1)
            outputs[key] = value
    return proc.returncode, summary.read_text() + proc.stdout + proc.stderr, outputs


def test_pr_gates_step_runs_green_then_flags_a_breach(trained_iris: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(trained_iris.parent / "origin.git"), str(clone))
    # The job's earlier steps pull the data and reproduce: here the local remote and `mlcode run`.
    subprocess.run([str(BIN / "dvc"), "push", "-q"], cwd=trained_iris, env=env(), check=True)
    remote = (trained_iris.parent / ".mlcode-storage" / "project").resolve()
    subprocess.run(
        [str(BIN / "dvc"), "remote", "modify", "--local", "local-storage", "url", str(remote)],
        cwd=clone,
        env=env(),
        check=True,
    )
    subprocess.run([str(BIN / "dvc"), "pull", "-q"], cwd=clone, env=env(), check=True)
    step = _gates_step(clone)
    code, text, outputs = _run_step(clone, step, tmp_path)
    assert code == 0, text
    assert outputs.get("gates") == "pass", text
    assert "## mlcode report" in text
    assert "accuracy" in text

    # A gate the model cannot meet: the step still writes the report, and says "fail".
    spec = (clone / "ml.yaml").read_text().replace("min: 0.85", "min: 0.999")
    (clone / "ml.yaml").write_text(spec)
    applied = mlcode(clone, "apply", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    code, text, outputs = _run_step(clone, _gates_step(clone), tmp_path)
    assert outputs.get("gates") == "fail", text
    assert "0.999" in text
