"""The generated retrain jobs' glue around `mlcode retrain`, run as the CI would run it.

The GitHub step and the GitLab script are executed by bash / sh from the compiled files, in a real
git repository, with the environment the job declares. `mlcode retrain` itself is replaced by a
stand-in that prints a given JSON result and exits with a given code (the contract's exit codes):
what is under test is how the job reads them (exit 4 is a success, 1 fails the job, the summary
table, the promotion branches handed to the dispatch step). The real command runs in the tests of
helper `jobrun`, which execute whole jobs against an S3 remote.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlcode.compile import github, gitlab
from mlcode.resources import stack_presets
from mlcode.spec.load import load_file, parse_spec, parse_stack
from mlcode.spec.yamlsource import parse

SPEC = """\
version: 1
project: churn
stack: {stack}
data:
  customers: {path: data/c.csv, target: y, features: {numeric: [a]}}
models:
  churn: {task: classification, data: customers, estimator: sklearn.linear_model.LogisticRegression}
  churn-base:
    task: classification
    data: customers
    estimator: sklearn.linear_model.LogisticRegression
    promotion: {mode: commit}
ci:
  groups: {all: [churn, churn-base]}
"""

STAND_IN = """\
#!/usr/bin/env python3
import json, os, subprocess, sys
# What `mlcode promote` would see of the working tree (untracked files included, ignored not).
status = subprocess.run(
    ["git", "status", "--porcelain", "--untracked-files=all"], capture_output=True, text=True
).stdout
with open(os.environ["STAND_IN_ARGV"], "w", encoding="utf-8") as handle:
    json.dump(sys.argv[1:] + ([status] if status else []), handle)
sys.stdout.write(os.environ["STAND_IN_STDOUT"])
sys.exit(int(os.environ["STAND_IN_EXIT"]))
"""


def _result(outcome: str, branches: dict[str, str | None]) -> str:
    step = {"status": "done", "detail": "ok | fine"}
    models = [
        {
            "model": model,
            "outcome": outcome,
            "decision": {"when": "data_changed", "retrain": True, "why": "data changed"},
            "steps": dict.fromkeys(("refresh", "drift", "run", "gates", "promote"), step),
            "branch": branch,
            "version": "v1.0.0" if branch else None,
            "error": None,
        }
        for model, branch in branches.items()
    ]
    return json.dumps({"outcome": outcome, "exit_code": 0, "refresh": [], "models": models})


def _compiled(stack_name: str) -> dict[str, str]:
    stack = parse_stack(load_file(str(stack_presets()[stack_name]), f"stacks/{stack_name}.yaml"))
    spec = parse_spec(parse(SPEC.replace("{stack}", stack_name), "ml.yaml"))
    module = github if stack.ci == "github" else gitlab
    return module.render(spec, stack)


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in ("mlcode", "gh"):
        path = folder / name
        path.write_text(STAND_IN)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return folder


def _run(
    shell: str,
    script: str,
    repo: Path,
    env: dict[str, str],
    bin_dir: Path,
    stdout: str,
    code: int,
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    argv = repo.parent / "argv.json"
    full = {
        **os.environ,
        **env,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "STAND_IN_ARGV": str(argv),
        "STAND_IN_STDOUT": stdout,
        "STAND_IN_EXIT": str(code),
    }
    args = (
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]
        if shell == "bash"
        else ["sh", "-c"]
    )
    proc = subprocess.run(
        [*args, script], cwd=repo, env=full, capture_output=True, text=True, check=False
    )
    called = json.loads(argv.read_text()) if argv.exists() else []
    return proc, called


def _github_step(job: dict[str, Any], step_id: str) -> dict[str, Any]:
    return dict(next(s for s in job["steps"] if s.get("id") == step_id))


@pytest.fixture
def github_job() -> dict[str, Any]:
    workflow = yaml.safe_load(_compiled("github-s3")[github.RETRAIN_WORKFLOW])
    return dict(workflow["jobs"]["retrain"])


def _github_env(job: dict[str, Any], step: dict[str, Any], tmp: Path) -> dict[str, str]:
    (tmp / "runner").mkdir(exist_ok=True)
    for name in ("summary.md", "output.txt"):
        (tmp / name).write_text("")
    env = {k: str(v) for k, v in step.get("env", {}).items() if "${{" not in str(v)}
    (entry,) = job["strategy"]["matrix"]["include"]
    env.update(
        MODELS=entry["models"],  # `${{ matrix.models }}`, as GitHub fills it in
        MLCODE_PUSH_TOKEN="t",
        RUNNER_TEMP=str(tmp / "runner"),
        GITHUB_STEP_SUMMARY=str(tmp / "summary.md"),
        GITHUB_OUTPUT=str(tmp / "output.txt"),
    )
    return env


@pytest.mark.parametrize(
    ("code", "outcome", "passes"),
    [(0, "promoted", True), (4, "nothing to do", True), (1, "gates said no", False)],
)
def test_github_retrain_step_reads_the_exit_code_and_the_json(
    git_repo: Path,
    tmp_path: Path,
    bin_dir: Path,
    github_job: dict[str, Any],
    code: int,
    outcome: str,
    passes: bool,
) -> None:
    step = _github_step(github_job, "retrain")
    env = _github_env(github_job, step, tmp_path)
    branches = {"churn": "mlcode/promote/churn-v1.0.0", "churn-base": "main"}
    if code == 4:
        branches = {"churn": None, "churn-base": None}
    proc, called = _run(
        "bash", step["run"], git_repo, env, bin_dir, _result(outcome, branches), code
    )
    assert called == ["retrain", "churn", "churn-base", "--pull", "--push", "--json"]
    assert (proc.returncode == 0) is passes, proc.stdout + proc.stderr
    if not passes:
        assert proc.returncode == 1
        assert "::error::A gate said no" in proc.stdout
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith(f"## mlcode retrain: {outcome}\n")
    assert "| model | decision | refresh | drift | run | gates | promote | outcome |" in summary
    assert "| churn | data changed | done: ok \\| fine |" in summary
    assert '"outcome"' in summary  # the whole JSON, folded
    if code == 4:
        assert "Nothing to do: no model needed retraining." in summary
        assert "Nothing to do" in proc.stdout
    # The branches for checks: the pull-request branches of promoted models, never the base
    # promote committed to, nor a branch whose model the gates refused.
    output = (tmp_path / "output.txt").read_text()
    expected = "mlcode/promote/churn-v1.0.0" if code == 0 else ""
    assert output == f"branches={expected}\n"
    helper = subprocess.run(
        ["git", "config", "credential.helper"],
        cwd=git_repo,
        capture_output=True,
        text=True,
        check=True,
    )
    assert helper.stdout.startswith("!f()")


def test_github_retrain_step_hands_only_promoted_branches_to_the_dispatch(
    git_repo: Path, tmp_path: Path, bin_dir: Path, github_job: dict[str, Any]
) -> None:
    """A re-run before the pull request is merged reports the model's branch with "nothing to
    do": its checks already ran, so only a model promoted by this run gets them started."""
    step = _github_step(github_job, "retrain")
    env = _github_env(github_job, step, tmp_path)
    rerun = json.loads(_result("nothing to do", {"churn": "mlcode/promote/churn-v1.0.0"}))
    fresh = json.loads(_result("promoted", {"churn-new": "mlcode/promote/churn-new-v1.0.0"}))
    failed = json.loads(_result("error", {"churn-odd": "mlcode/promote/churn-odd-v1.0.0"}))
    rerun["models"] += fresh["models"] + failed["models"]
    proc, _ = _run("bash", step["run"], git_repo, env, bin_dir, json.dumps(rerun), 0)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    output = (tmp_path / "output.txt").read_text()
    assert output == "branches=mlcode/promote/churn-new-v1.0.0\n"


def test_github_retrain_step_without_json_reports_the_error(
    git_repo: Path, tmp_path: Path, bin_dir: Path, github_job: dict[str, Any]
) -> None:
    step = _github_step(github_job, "retrain")
    env = _github_env(github_job, step, tmp_path)
    proc, _ = _run("bash", step["run"], git_repo, env, bin_dir, "", 3)
    assert proc.returncode == 3
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("## mlcode retrain: error\n")
    assert "printed no JSON result (exit code 3)" in summary
    assert (tmp_path / "output.txt").read_text() == "branches=\n"


def test_github_retrain_step_shows_a_whole_run_error_and_each_hint(
    git_repo: Path, tmp_path: Path, bin_dir: Path, github_job: dict[str, Any]
) -> None:
    """retrain's JSON keeps an error's message and its hint apart: the summary shows both, for
    a whole-run error (no model rows) and for a model's failed step."""
    step = _github_step(github_job, "retrain")
    env = _github_env(github_job, step, tmp_path)
    whole = {
        "outcome": "error",
        "exit_code": 3,
        "refresh": [],
        "models": [],
        "error": "the DVC remote 'storage' cannot be used for --pull: PermissionError: Forbidden",
        "hint": "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.",
    }
    proc, _ = _run("bash", step["run"], git_repo, env, bin_dir, json.dumps(whole), 3)
    assert proc.returncode == 3
    summary = (tmp_path / "summary.md").read_text()
    assert "Error: the DVC remote 'storage' cannot be used for --pull" in summary
    assert "Hint: Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY." in summary
    (tmp_path / "summary.md").unlink()
    one = json.loads(_result("error", {"churn": None}))
    one["models"][0]["error"] = "promote failed: no token"
    one["models"][0]["hint"] = "Export GITLAB_TOKEN."
    proc, _ = _run("bash", step["run"], git_repo, env, bin_dir, json.dumps(one), 3)
    summary = (tmp_path / "summary.md").read_text()
    assert "| promote failed: no token Hint: Export GITLAB_TOKEN. |" in summary


def test_github_dispatch_step_starts_checks_on_each_pushed_branch(
    git_repo: Path, tmp_path: Path, bin_dir: Path, github_job: dict[str, Any]
) -> None:
    dispatch = next(s for s in github_job["steps"] if "gh workflow run" in s.get("run", ""))
    assert dispatch["env"]["PROMOTION_BRANCHES"] == "${{ steps.retrain.outputs.branches }}"
    env = {"GH_REPO": "org/churn", "PROMOTION_BRANCHES": "mlcode/promote/churn-v1.0.0"}
    proc, called = _run("bash", dispatch["run"], git_repo, env, bin_dir, "", 0)
    assert proc.returncode == 0, proc.stderr
    # The stand-in records its last call: the dispatch after the branch was found.
    assert called == ["workflow", "run", "mlcode-pr.yml", "--ref", "mlcode/promote/churn-v1.0.0"]
    proc, called = _run("bash", dispatch["run"], git_repo, env, bin_dir, "", 1)
    assert proc.returncode == 0
    assert called[:1] == ["api"]  # the branch is missing: no dispatch
    assert "no checks to start" in proc.stdout


@pytest.mark.parametrize(("code", "passes"), [(0, True), (4, True), (1, False), (3, False)])
def test_gitlab_retrain_script_reads_the_exit_code(
    git_repo: Path, bin_dir: Path, code: int, passes: bool
) -> None:
    data = yaml.safe_load(_compiled("gitlab-s3")[gitlab.GITLAB_CI])
    job = data["mlcode-retrain"]
    (entry,) = job["parallel"]["matrix"]
    assert entry == {"GROUP": "all", "MODELS": "churn churn-base"}
    # The job's script after checkout and git config: the exclude line, then the retrain block.
    script = "\n".join(job["script"][-2:])
    env = {"MODELS": entry["MODELS"]}
    # pip's cache inside the project directory, as `.mlcode-setup` places it.
    (git_repo / ".cache" / "pip").mkdir(parents=True)
    (git_repo / ".cache" / "pip" / "wheel").write_text("x")
    branches = {"churn": "mlcode/promote/churn-v1.0.0", "churn-base": "main"}
    proc, called = _run("sh", script, git_repo, env, bin_dir, _result("x", branches), code)
    assert called == ["retrain", "churn", "churn-base", "--pull", "--push", "--json"]
    assert (proc.returncode == 0) is passes
    assert proc.returncode in (0, code)
    assert json.loads((git_repo / "mlcode-retrain.json").read_text())["models"][0]["model"] == (
        "churn"
    )
    assert job["artifacts"]["paths"] == ["mlcode-retrain.json"]
