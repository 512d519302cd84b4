"""Run a generated CI job the way its provider would, on this machine, for the end-to-end tests.

GitHub Actions (`run_github_job`): the workflow's and job's `env`, each step's `env`, `${{ }}`
expressions (tests/e2e/ci_expr.py: unknown contexts are refused), job and step `if:` evaluated,
`shell: bash` as GitHub runs it (`bash --noprofile --norc -eo pipefail {0}`, the script in a file),
`working-directory`, `continue-on-error`, and the GITHUB_OUTPUT / GITHUB_ENV / GITHUB_PATH /
GITHUB_STEP_SUMMARY files (`name=value` and `name<<DELIMITER` blocks). `uses:` steps are replaced by
their local equivalents: actions/checkout = `git clone` of the repository URL at the ref (git's
`url.<origin>.insteadOf`, given to every process through GIT_CONFIG_* variables, sends the
forge's URL to the test's bare origin), actions/setup-python = the test's venv already first on
PATH, actions/cache = nothing; any other action fails the run.

GitLab CI (`run_gitlab_job`): `workflow:rules` and the job's `rules:` (`if:` with `$VAR`, `==`,
`!=`, `=~`, `&&`, `||`, parentheses; `changes:` against the files the test says changed) for the
pipeline source the test gives, `extends:`, global + job `variables` (with `$VAR` expansion), the
project's CI/CD variables (the test's secrets), `parallel:matrix` entries, the CI_* predefined
variables the files use (any other CI_* reference is refused), `before_script` + `script` in one
`bash -eo pipefail` session with each command echoed, `after_script` in a new one.

Both: the line `python -m pip install "$MLCODE_REQUIREMENT"` is the only line not run: it is
replaced by a loud note after checking that the venv's mlcode is the pinned version and has the
modules of the pinned extras (the tests have no network, and must not change the shared venv).
Secrets are never masked in the returned log: the tests assert they never appear at all.
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.e2e.ci_expr import (
    Contexts,
    ExpressionError,
    Status,
    condition,
    interpolate,
    to_string,
    truthy,
)
from tests.e2e.helpers import BIN, env


class HarnessError(Exception):
    """The job uses something the harness does not play: the test must fail, never guess."""


INSTALL_LINE = 'python -m pip install "$MLCODE_REQUIREMENT"'
# pip extra → the module that proves the venv has it
EXTRA_MODULES = {"s3": "dvc_s3", "ssh": "dvc_ssh", "ml": "sklearn"}
LOCAL_ACTIONS = ("actions/checkout", "actions/setup-python", "actions/cache")
# Variables of the test process a runner would not have
_RUNNER_FREE = ("GITHUB_", "RUNNER_", "CI_", "GITLAB_", "GIT_AUTHOR_", "GIT_COMMITTER_")
_RUNNER_FREE_EXACT = ("CI", "GITHUB_ACTIONS", "GITLAB_CI", "GH_TOKEN", "GITHUB_TOKEN")


@dataclass
class StepResult:
    name: str
    outcome: str  # success | failure | skipped
    conclusion: str
    returncode: int | None
    log: str
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class JobResult:
    job: str
    status: str  # success | failure | skipped
    steps: list[StepResult]
    outputs: dict[str, str]
    summary: str
    log: str
    workspace: Path

    def step(self, name: str) -> StepResult:
        found = [s for s in self.steps if s.name == name]
        if len(found) != 1:
            raise KeyError(f"{len(found)} steps named {name!r}: {[s.name for s in self.steps]}")
        return found[0]

    @classmethod
    def skipped(cls, job: str, why: str, workspace: Path) -> JobResult:
        """A job the provider does not run (its `if:` or rules say no)."""
        return cls(job, "skipped", [], {}, "", why, workspace)


def _outcome(code: int) -> str:
    return "success" if code == 0 else "failure"


def _base_env(extra_path: list[Path]) -> dict[str, str]:
    out = {
        k: v
        for k, v in env().items()
        if not k.startswith(_RUNNER_FREE) and k not in _RUNNER_FREE_EXACT
    }
    out["PATH"] = os.pathsep.join([*(str(p) for p in extra_path), out["PATH"]])
    return out


def _git_rewrites(rewrites: Mapping[str, Path]) -> dict[str, str]:
    """GIT_CONFIG_* variables that send each URL prefix to a local bare repository (git takes
    the longest matching prefix: `X.git` is listed too, or `.git` would be appended)."""
    out = {"GIT_CONFIG_COUNT": str(len(rewrites))}
    for i, (prefix, origin) in enumerate(rewrites.items()):
        out[f"GIT_CONFIG_KEY_{i}"] = f"url.file://{origin}.insteadOf"
        out[f"GIT_CONFIG_VALUE_{i}"] = prefix
    return out


def _run(cmd: list[str], cwd: Path, environ: Mapping[str, str]) -> str:
    proc = subprocess.run(
        cmd, cwd=cwd, env=dict(environ), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise HarnessError(f"{' '.join(cmd)} failed in {cwd}:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def install_note(requirement: str, environ: Mapping[str, str]) -> str:
    """Check the venv satisfies `requirement` (version and extras); the note the log shows."""
    match = re.fullmatch(
        r"(?P<name>[A-Za-z0-9._-]+)(?:\[(?P<extras>[^\]]*)\])?(?:==(?P<v>\S+))?", requirement
    )
    if match is None:
        raise HarnessError(f"the harness cannot check the install requirement {requirement!r}")
    version = _run([str(BIN / "mlcode"), "--version"], Path.cwd(), environ).split()[-1]
    if match["v"] is not None and match["v"] != version:
        raise HarnessError(
            f"the job installs {requirement!r} but the test's venv has mlcode {version}"
        )
    extras = [e.strip() for e in (match["extras"] or "").split(",") if e.strip()]
    for extra in extras:
        module = EXTRA_MODULES.get(extra)
        if module is None:
            raise HarnessError(f"the harness does not know how to check the extra {extra!r}")
        _run([str(BIN / "python"), "-c", f"import {module}"], Path.cwd(), environ)
    return (
        f"harness: NOT RUN: {INSTALL_LINE} ({requirement}); the test's venv provides mlcode "
        f"{version}" + (f" with the extras {', '.join(extras)}" if extras else "")
    )


def _replace_install(script: str, environ: Mapping[str, str]) -> str:
    lines = script.split("\n")
    for i, line in enumerate(lines):
        if line.strip() == INSTALL_LINE:
            note = install_note(environ.get("MLCODE_REQUIREMENT", ""), environ)
            lines[i] = line.replace(INSTALL_LINE, "echo " + _sh_quote(note))
    return "\n".join(lines)


def _sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _run_script(
    argv: list[str], script: Path, cwd: Path, process_env: Mapping[str, str], timeout: float
) -> tuple[int, str]:
    """Run a script file the way both runners do (stderr into stdout); exit code and output."""
    proc = subprocess.run(
        [*argv, str(script)],
        cwd=cwd,
        env=dict(process_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    return proc.returncode, proc.stdout


def choose_entry(
    entries: list[dict[str, Any]] | None, matrix: Mapping[str, Any] | None, kind: str
) -> dict[str, Any] | None:
    """The one matrix entry (of `entries`; None: the job has no matrix) that `matrix` selects:
    every key given has the entry's value. A job with a matrix needs one, one without refuses it."""
    if entries is None:
        if matrix is not None:
            raise HarnessError(f"a matrix entry was given for a job without {kind}")
        return None
    chosen = [
        e for e in entries if matrix is not None and all(e.get(k) == v for k, v in matrix.items())
    ]
    if len(chosen) != 1:
        raise HarnessError(
            f"choose one of the {kind} entries {entries}: {matrix} selects {len(chosen)}"
        )
    return chosen[0]


def parse_command_file(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT / GITHUB_ENV: `name=value` lines and `name<<DELIMITER` ... `DELIMITER`."""
    out: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            continue
        heredoc = re.fullmatch(r"([^=<]+)<<(.+)", line)
        if heredoc is not None and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = heredoc[1], heredoc[2]
            body: list[str] = []
            while i < len(lines) and lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise HarnessError(f"{name}<<{delimiter}: the delimiter never closes the value")
            i += 1
            out[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            out[name] = value
        else:
            raise HarnessError(f"GitHub rejects this command-file line: {line!r}")
    return out


# ---------------------------------------------------------------------------------------------
# GitHub Actions


@dataclass
class GitHubEvent:
    """What GitHub would know about the run: event, ref, repository, secrets, variables."""

    origin: Path  # the bare repository that plays the GitHub repository's git side
    event_name: str
    ref: str  # refs/heads/<branch>, refs/pull/<n>/merge, ...
    checkout: str | None = None  # the commit checked out (default: the tip of `ref` on origin)
    repository: str = "octo-org/models"
    server_url: str = "https://github.com"
    api_url: str = "https://api.github.com"
    base_ref: str = ""
    head_ref: str = ""
    event: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    vars: dict[str, str] = field(default_factory=dict)
    tools: list[Path] = field(default_factory=list)  # extra PATH entries (e.g. the gh shim)
    timeout: float = 900.0

    @property
    def ref_name(self) -> str:
        for prefix in ("refs/heads/", "refs/tags/"):
            if self.ref.startswith(prefix):
                return self.ref[len(prefix) :]
        return self.ref.removeprefix("refs/")

    @property
    def clone_url(self) -> str:
        return f"{self.server_url}/{self.repository}"


def load_workflow(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _github_context(ev: GitHubEvent, workspace: Path, runner_temp: Path) -> dict[str, Any]:
    return {
        "token": ev.secrets.get("GITHUB_TOKEN", ""),
        "repository": ev.repository,
        "repository_owner": ev.repository.split("/")[0],
        "ref": ev.ref,
        "ref_name": ev.ref_name,
        "base_ref": ev.base_ref,
        "head_ref": ev.head_ref,
        "event": ev.event,
        "event_name": ev.event_name,
        "sha": ev.checkout or "",
        "workspace": str(workspace),
        "server_url": ev.server_url,
        "api_url": ev.api_url,
        "run_id": "1",
        "actor": "mlcode-tests",
        "workflow": "",
        "job": "",
    }


def run_github_job(
    workflow: Mapping[str, Any],
    job_id: str,
    ev: GitHubEvent,
    work: Path,
    *,
    matrix: Mapping[str, Any] | None = None,
    needs: Mapping[str, Any] | None = None,
) -> JobResult:
    """Run one job of a parsed workflow for the event; `work` is a fresh folder for the runner."""
    jobs = workflow.get("jobs", {})
    if job_id not in jobs:
        raise HarnessError(f"the workflow has no job {job_id!r}: {sorted(jobs)}")
    job: dict[str, Any] = jobs[job_id]
    loose: dict[Any, Any] = dict(workflow)
    trigger = loose.get("on", loose.get(True))  # YAML 1.1 reads the key `on` as true
    if not isinstance(trigger, dict) or ev.event_name not in trigger:
        raise HarnessError(f"the workflow does not run on {ev.event_name!r}: {trigger}")
    entry = choose_entry(include_entries(job), matrix, "strategy: matrix:")
    work.mkdir(parents=True, exist_ok=True)
    workspace = work / "workspace" / ev.repository.split("/")[1]
    runner_temp = work / "runner-temp"
    runner_temp.mkdir(parents=True, exist_ok=True)
    workspace.mkdir(parents=True, exist_ok=True)  # GitHub creates it, checked out or not
    summary_all: list[str] = []
    log: list[str] = []
    github = _github_context(ev, workspace, runner_temp)
    github["job"] = job_id
    github["workflow"] = str(workflow.get("name", ""))
    values: dict[str, Any] = {
        "github": github,
        "secrets": dict(ev.secrets),
        "vars": dict(ev.vars),
        "runner": {"temp": str(runner_temp), "os": "Linux", "arch": "X64"},
        "needs": dict(needs or {}),
        "env": {},
        "steps": {},
        "inputs": {},
    }
    keys = frozenset(entry) if entry is not None else None
    if entry is not None:
        values["matrix"] = dict(entry)
    status = Status()
    ctx = Contexts(values, status, keys)
    try:
        if not condition(job.get("if"), ctx):
            why = f"job {job_id}: skipped (if: {job.get('if')!r} is false)"
            return JobResult.skipped(job_id, why, workspace)
        env_values: dict[str, str] = {}
        for scope in (workflow.get("env") or {}, job.get("env") or {}):
            for key, value in scope.items():
                values["env"] = dict(env_values)
                env_values[str(key)] = to_string(interpolate(str(value), ctx))
    except ExpressionError as error:
        raise HarnessError(f"job {job_id}: {error}") from error

    event_path = runner_temp / "event.json"
    event_path.write_text(json.dumps(ev.event), encoding="utf-8")
    base = _base_env(ev.tools)
    base.update(_git_rewrites({f"{ev.clone_url}.git": ev.origin, ev.clone_url: ev.origin}))
    base.update(
        CI="true",
        GITHUB_ACTIONS="true",
        GITHUB_REPOSITORY=ev.repository,
        GITHUB_REPOSITORY_OWNER=ev.repository.split("/")[0],
        GITHUB_EVENT_NAME=ev.event_name,
        GITHUB_EVENT_PATH=str(event_path),
        GITHUB_REF=ev.ref,
        GITHUB_REF_NAME=ev.ref_name,
        GITHUB_BASE_REF=ev.base_ref,
        GITHUB_HEAD_REF=ev.head_ref,
        GITHUB_WORKSPACE=str(workspace),
        GITHUB_SERVER_URL=ev.server_url,
        GITHUB_API_URL=ev.api_url,
        GITHUB_JOB=job_id,
        GITHUB_RUN_ID="1",
        RUNNER_TEMP=str(runner_temp),
        RUNNER_OS="Linux",
    )
    added_env: dict[str, str] = {}
    added_path: list[str] = []
    defaults = {
        **(workflow.get("defaults") or {}).get("run", {}),
        **(job.get("defaults") or {}).get("run", {}),
    }
    results: list[StepResult] = []
    for index, step in enumerate(job.get("steps", [])):
        name = str(step.get("name") or step.get("uses") or step.get("run", "").split("\n")[0])
        step_env_scope = {**env_values, **added_env}
        values["env"] = dict(step_env_scope)
        try:
            if not condition(step.get("if"), ctx):
                results.append(StepResult(name, "skipped", "skipped", None, ""))
                log.append(f"--- step {name}: skipped (if: {step.get('if')!r})")
                continue
            step_env = dict(step_env_scope)
            for key, value in (step.get("env") or {}).items():
                values["env"] = dict(step_env)
                step_env[str(key)] = to_string(interpolate(str(value), ctx))
            values["env"] = dict(step_env)
            raw = step.get("continue-on-error", False)
            continue_on_error = truthy(interpolate(raw, ctx) if isinstance(raw, str) else raw)
        except ExpressionError as error:
            raise HarnessError(f"step {name!r}: {error}") from error
        files = {
            key: runner_temp / f"{key.lower()}-{index}"
            for key in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")
        }
        for path in files.values():
            path.write_text("", encoding="utf-8")
        process_env = {**base, **step_env, **{k: str(v) for k, v in files.items()}}
        process_env["PATH"] = os.pathsep.join([*reversed(added_path), base["PATH"]])
        if "uses" in step:
            code, text = _use(step, ctx, ev, workspace, process_env)
        elif "run" in step:
            code, text = _run_step(
                step, defaults, ctx, workspace, runner_temp, process_env, ev.timeout
            )
        else:
            raise HarnessError(f"step {name!r} has neither run: nor uses:")
        outputs = parse_command_file(files["GITHUB_OUTPUT"].read_text(encoding="utf-8"))
        added_env.update(parse_command_file(files["GITHUB_ENV"].read_text(encoding="utf-8")))
        added_path += [
            line
            for line in files["GITHUB_PATH"].read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        summary = files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8")
        if summary:
            summary_all.append(summary)
        outcome = _outcome(code)
        conclusion = "success" if continue_on_error else outcome
        if conclusion == "failure":
            status.failed = True
        log.append(f"--- step {name}: {outcome} (exit {code})\n{text}")
        results.append(StepResult(name, outcome, conclusion, code, text, outputs))
        if step.get("id"):
            values["steps"][str(step["id"])] = {
                "outputs": outputs,
                "outcome": outcome,
                "conclusion": conclusion,
            }
    try:
        job_outputs = {
            str(k): to_string(interpolate(str(v), ctx))
            for k, v in (job.get("outputs") or {}).items()
        }
    except ExpressionError as error:
        raise HarnessError(f"job {job_id} outputs: {error}") from error
    return JobResult(
        job_id,
        "failure" if status.failed else "success",
        results,
        job_outputs,
        "".join(summary_all),
        "\n".join(log),
        workspace,
    )


def include_entries(job: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The entries of a GitHub job's `strategy: matrix: include:` list (None: no matrix)."""
    spec = (job.get("strategy") or {}).get("matrix")
    if spec is None:
        return None
    if set(spec) - {"include"}:
        raise HarnessError(f"the harness plays only `matrix: include:` lists, not {sorted(spec)}")
    return [dict(e) for e in spec["include"]]


def _use(
    step: Mapping[str, Any],
    ctx: Contexts,
    ev: GitHubEvent,
    workspace: Path,
    process_env: Mapping[str, str],
) -> tuple[int, str]:
    uses = str(step["uses"])
    action = uses.split("@", 1)[0]
    if action not in LOCAL_ACTIONS:
        raise HarnessError(f"the harness has no local equivalent of {uses}")
    if action == "actions/cache":
        return 0, f"harness: {uses} replaced by nothing (no cache between local runs)"
    try:
        given = {
            str(k): interpolate(v, ctx) if isinstance(v, str) else v
            for k, v in (step.get("with") or {}).items()
        }
    except ExpressionError as error:
        raise HarnessError(f"{uses}: {error}") from error
    if action == "actions/setup-python":
        return 0, (
            f"harness: {uses} (python-version {given.get('python-version')}) replaced by the "
            f"test's venv first on PATH ({BIN})"
        )
    if given.get("persist-credentials") not in (False, "false"):
        raise HarnessError("the harness plays checkout only with persist-credentials: false")
    depth = int(str(given.get("fetch-depth", 1)))
    if workspace.exists():
        shutil.rmtree(workspace)
    workspace.mkdir(parents=True)
    ref = str(given.get("ref") or "") or ev.ref
    branch = ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else None
    if ev.checkout is None and branch is None:
        raise HarnessError(f"checkout of {ref!r} needs the commit (GitHubEvent.checkout)")
    target = ev.checkout or f"refs/heads/{branch}"
    # What actions/checkout runs: init, add the remote, fetch (all refs and tags at depth 0, else
    # only the commit at that depth), check out (the branch for a branch ref, else detached).
    git_steps = [["git", "init", "-q"], ["git", "remote", "add", "origin", ev.clone_url]]
    if depth == 0:
        git_steps.append(
            [
                "git",
                "fetch",
                "-q",
                "--prune",
                "--tags",
                "origin",
                "+refs/heads/*:refs/remotes/origin/*",
                "+refs/tags/*:refs/tags/*",
            ]
        )
    else:
        git_steps.append(["git", "fetch", "-q", "--no-tags", f"--depth={depth}", "origin", target])
    if branch is not None and ev.checkout is None:
        start_point = f"refs/remotes/origin/{branch}" if depth == 0 else "FETCH_HEAD"
        git_steps.append(["git", "checkout", "-q", "-B", branch, start_point])
    else:
        git_steps.append(
            ["git", "checkout", "-q", "--detach", target if depth == 0 else "FETCH_HEAD"]
        )
    out = "".join(_run(cmd, workspace, process_env) for cmd in git_steps)
    head = _run(["git", "rev-parse", "HEAD"], workspace, process_env).strip()
    return 0, (
        f"harness: {uses} replaced by git init + fetch (depth {depth or 'all'}) of "
        f"{ev.clone_url} at {ref} ({head})\n{out}"
    )


def _run_step(
    step: Mapping[str, Any],
    defaults: Mapping[str, Any],
    ctx: Contexts,
    workspace: Path,
    runner_temp: Path,
    process_env: Mapping[str, str],
    timeout: float,
) -> tuple[int, str]:
    shell = step.get("shell", defaults.get("shell"))
    if shell == "bash":
        argv = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
    elif shell is None:
        argv = ["bash", "-e"]
    else:
        raise HarnessError(f"the harness plays only bash steps, not shell: {shell}")
    try:
        script = to_string(interpolate(str(step["run"]), ctx))
    except ExpressionError as error:
        raise HarnessError(f"step {step.get('name')!r}: {error}") from error
    script = _replace_install(script, process_env)
    path = runner_temp / f"step-{abs(hash(script))}.sh"
    path.write_text(script, encoding="utf-8")
    cwd = workspace / str(step.get("working-directory", defaults.get("working-directory", ".")))
    return _run_script(argv, path, cwd, process_env, timeout)


# ---------------------------------------------------------------------------------------------
# GitLab CI

# The predefined variables the harness fills in; a file using another CI_* is refused.
GITLAB_PREDEFINED = frozenset(
    {
        "CI",
        "GITLAB_CI",
        "CI_PIPELINE_SOURCE",
        "CI_PIPELINE_ID",
        "CI_JOB_ID",
        "CI_JOB_NAME",
        "CI_JOB_TOKEN",
        "CI_PROJECT_DIR",
        "CI_PROJECT_PATH",
        "CI_PROJECT_ID",
        "CI_SERVER_URL",
        "CI_SERVER_HOST",
        "CI_API_V4_URL",
        "CI_REPOSITORY_URL",
        "CI_COMMIT_SHA",
        "CI_COMMIT_REF_NAME",
        "CI_COMMIT_BRANCH",
        "CI_DEFAULT_BRANCH",
        "CI_MERGE_REQUEST_IID",
        "CI_MERGE_REQUEST_PROJECT_ID",
        "CI_MERGE_REQUEST_SOURCE_PROJECT_ID",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
    }
)
_JOB_KEYS = frozenset(
    {
        "extends",
        "stage",
        "timeout",
        "rules",
        "variables",
        "before_script",
        "script",
        "after_script",
        "parallel",
        "resource_group",
        "artifacts",
        "cache",
        "image",
        "needs",
        "interruptible",
    }
)


@dataclass
class GitLabPipeline:
    """What GitLab would know about the pipeline: source, commit, project, CI/CD variables."""

    origin: Path
    source: str  # merge_request_event | schedule | web | push
    ref: str  # the branch the pipeline runs for (MR: the source branch)
    checkout: str | None = None  # commit (default: the tip of `ref` on origin)
    project_path: str = "ml-group/vision/models"
    project_id: int = 7
    server_url: str = "https://gitlab.com"
    api_url: str = "https://gitlab.com/api/v4"
    default_branch: str = "main"
    merge_request: dict[str, Any] | None = None  # iid, target, source_project_id
    variables: dict[str, str] = field(default_factory=dict)  # the project's CI/CD variables
    changed_files: list[str] | None = None
    job_token: str = "glcbt-sentinel-job-token-4e1f"
    timeout: float = 900.0

    @property
    def repo_url(self) -> str:
        host = self.server_url.split("://", 1)[1]
        return f"https://gitlab-ci-token:{self.job_token}@{host}/{self.project_path}.git"


def _predefined(pl: GitLabPipeline, job: str, workspace: Path, sha: str) -> dict[str, str]:
    out = {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_PIPELINE_SOURCE": pl.source,
        "CI_PIPELINE_ID": "1",
        "CI_JOB_ID": "1",
        "CI_JOB_NAME": job,
        "CI_JOB_TOKEN": pl.job_token,
        "CI_PROJECT_DIR": str(workspace),
        "CI_PROJECT_PATH": pl.project_path,
        "CI_PROJECT_ID": str(pl.project_id),
        "CI_SERVER_URL": pl.server_url,
        "CI_SERVER_HOST": pl.server_url.split("://", 1)[1].split("/")[0],
        "CI_API_V4_URL": pl.api_url,
        "CI_REPOSITORY_URL": pl.repo_url,
        "CI_COMMIT_SHA": sha,
        "CI_COMMIT_REF_NAME": pl.ref,
        "CI_DEFAULT_BRANCH": pl.default_branch,
    }
    if pl.merge_request is None:
        out["CI_COMMIT_BRANCH"] = pl.ref
    else:
        mr = pl.merge_request
        out.update(
            CI_MERGE_REQUEST_IID=str(mr["iid"]),
            CI_MERGE_REQUEST_PROJECT_ID=str(pl.project_id),
            CI_MERGE_REQUEST_SOURCE_PROJECT_ID=str(mr.get("source_project_id", pl.project_id)),
            CI_MERGE_REQUEST_SOURCE_BRANCH_NAME=pl.ref,
            CI_MERGE_REQUEST_TARGET_BRANCH_NAME=str(mr["target"]),
        )
    return out


def _expand(text: str, variables: Mapping[str, str]) -> str:
    """GitLab's expansion of `$VAR` / `${VAR}` in a variable's value (unknown: empty)."""
    return re.sub(r"\$(?:\{(\w+)\}|(\w+))", lambda m: variables.get(m[1] or m[2], ""), text)


_RULE_TOKEN = re.compile(
    r"\s*(?:(?P<var>\$\w+)|(?P<string>\"[^\"]*\"|'[^']*')|(?P<regex>/(?:\\/|[^/])*/i?)"
    r"|(?P<op>==|!=|=~|!~|&&|\|\||[()])|(?P<null>null))"
)


def rule_if(expression: str, variables: Mapping[str, str]) -> bool:
    """A `rules: - if:` expression of GitLab against the pipeline's variables."""
    toks: list[tuple[str, str]] = []
    pos = 0
    text = expression.strip()
    while pos < len(text):
        match = _RULE_TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise HarnessError(f"the harness cannot read the rule {expression!r} at {text[pos:]!r}")
        kind = match.lastgroup
        assert kind is not None
        toks.append((kind, match[kind]))
        pos = match.end()
    for kind, value in toks:
        if kind == "var" and value[1:].startswith("CI_") and value[1:] not in GITLAB_PREDEFINED:
            raise HarnessError(
                f"the rule {expression!r} reads {value}, which the harness does not set"
            )
    index = 0

    def value_of(tok: tuple[str, str]) -> str | None:
        kind, text = tok
        if kind == "var":
            return variables.get(text[1:])
        if kind == "string":
            return text[1:-1]
        if kind == "null":
            return None
        raise HarnessError(f"unexpected {text!r} in the rule {expression!r}")

    def atom() -> bool:
        nonlocal index
        tok = toks[index]
        index += 1
        if tok == ("op", "("):
            result = or_()
            if toks[index] != ("op", ")"):
                raise HarnessError(f"unbalanced parentheses in {expression!r}")
            index += 1
            return result
        if (
            index < len(toks)
            and toks[index][0] == "op"
            and toks[index][1] in ("==", "!=", "=~", "!~")
        ):
            op = toks[index][1]
            right = toks[index + 1]
            index += 2
            left = value_of(tok)
            if op in ("=~", "!~"):
                if right[0] != "regex":
                    raise HarnessError(f"{op} needs a /regex/ in {expression!r}")
                pattern = right[1]
                flags = re.IGNORECASE if pattern.endswith("i") else 0
                body = pattern.rstrip("i")[1:-1]
                found = left is not None and re.search(body, left, flags) is not None
                return found if op == "=~" else not found
            equal = left == value_of(right)
            return equal if op == "==" else not equal
        if tok[0] == "var":
            return bool(variables.get(tok[1][1:]))
        raise HarnessError(f"unexpected {tok[1]!r} in the rule {expression!r}")

    def chain(op: str, operand: Callable[[], bool]) -> bool:
        """`operand (op operand)*`, left to right; every operand is read (no short circuit)."""
        nonlocal index
        result = operand()
        while index < len(toks) and toks[index] == ("op", op):
            index += 1
            right = operand()
            result = (result and right) if op == "&&" else (result or right)
        return result

    def and_() -> bool:
        return chain("&&", atom)

    def or_() -> bool:
        return chain("||", and_)

    result = or_()
    if index != len(toks):
        raise HarnessError(f"the harness cannot read the rule {expression!r}")
    return result


def _rules(
    rules: list[Mapping[str, Any]], variables: Mapping[str, str], pl: GitLabPipeline
) -> bool:
    for rule in rules:
        unknown = set(rule) - {"if", "changes", "when"}
        if unknown:
            raise HarnessError(f"the harness does not play the rule keys {sorted(unknown)}")
        if "if" in rule and not rule_if(str(rule["if"]), variables):
            continue
        if "changes" in rule:
            if pl.changed_files is None:
                raise HarnessError("a rule has `changes:`: give GitLabPipeline.changed_files")
            globs = [str(g) for g in rule["changes"]]
            if not any(_glob(f, g) for f in pl.changed_files for g in globs):
                continue
        return str(rule.get("when", "on_success")) != "never"
    return False


def _glob(path: str, pattern: str) -> bool:
    if pattern.startswith("**/"):
        return fnmatch.fnmatch(path, pattern[3:]) or fnmatch.fnmatch(path, pattern)
    return fnmatch.fnmatch(path, pattern)


def _resolved(config: Mapping[str, Any], name: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    job = dict(config[name])
    parents = job.pop("extends", [])
    parents = [parents] if isinstance(parents, str) else list(parents)
    merged: dict[str, Any] = {}
    for parent in parents:
        if parent in seen:
            raise HarnessError(f"extends loops through {parent}")
        merged = _merge(merged, _resolved(config, parent, (*seen, name)))
    return _merge(merged, job)


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def matrix_entries(job: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """Every variable set `parallel:matrix` expands to (None: the job has none)."""
    parallel = job.get("parallel")
    if parallel is None:
        return None
    if not isinstance(parallel, dict) or set(parallel) != {"matrix"}:
        raise HarnessError(f"the harness plays only `parallel: matrix:`, not {parallel!r}")
    out: list[dict[str, Any]] = []
    for item in parallel["matrix"]:
        keys = list(item)
        lists = [v if isinstance(v, list) else [v] for v in item.values()]
        for combo in itertools.product(*lists):
            out.append({k: str(v) for k, v in zip(keys, combo, strict=True)})
    return out


def run_gitlab_job(
    config_path: Path,
    job_name: str,
    pl: GitLabPipeline,
    work: Path,
    *,
    matrix: Mapping[str, str] | None = None,
) -> JobResult:
    """Run one job of a .gitlab-ci.yml for the pipeline; `work` is a fresh folder."""
    text = config_path.read_text(encoding="utf-8")
    for used in sorted(set(re.findall(r"\$\{?(CI_\w+)", text))):
        if used not in GITLAB_PREDEFINED:
            raise HarnessError(f"the file reads ${used}, which the harness does not set")
    config: dict[str, Any] = yaml.safe_load(text)
    if job_name not in config or job_name.startswith("."):
        raise HarnessError(f"no job {job_name!r} in {config_path.name}")
    job = _resolved(config, job_name)
    unknown = set(job) - _JOB_KEYS
    if unknown:
        raise HarnessError(f"the harness does not play the job keys {sorted(unknown)}")
    work.mkdir(parents=True, exist_ok=True)
    workspace = work / "builds" / pl.project_path
    log: list[str] = []
    base = _base_env([])
    base.update(
        _git_rewrites(
            {
                pl.repo_url: pl.origin,
                f"{pl.server_url}/{pl.project_path}.git": pl.origin,
                f"{pl.server_url}/{pl.project_path}": pl.origin,
            }
        )
    )
    sha = pl.checkout or _run(["git", "rev-parse", f"refs/heads/{pl.ref}"], pl.origin, base).strip()
    variables = _predefined(pl, job_name, workspace, sha)
    for scope in (config.get("variables") or {}, job.get("variables") or {}):
        for key, value in scope.items():
            variables[str(key)] = _expand(str(value), variables)
    variables.update(choose_entry(matrix_entries(job), matrix, "parallel:matrix") or {})
    variables.update(pl.variables)
    workflow_rules = (config.get("workflow") or {}).get("rules")
    if workflow_rules is not None and not _rules(workflow_rules, variables, pl):
        return JobResult.skipped(job_name, "workflow:rules create no pipeline", workspace)
    if "rules" in job and not _rules(job["rules"], variables, pl):
        return JobResult.skipped(job_name, f"{job_name}: no rule matches", workspace)
    process_env = {**base, **variables}
    # The runner's checkout: a clone at the commit, detached (GIT_DEPTH 0 here: every commit).
    if workspace.exists():
        shutil.rmtree(workspace)
    workspace.parent.mkdir(parents=True, exist_ok=True)
    out = _run(["git", "clone", "-q", pl.repo_url, str(workspace)], workspace.parent, process_env)
    out += _run(["git", "checkout", "-q", "--detach", sha], workspace, process_env)
    log.append(f"harness: the runner's checkout replaced by git clone at {sha}\n{out}")
    if not job.get("script"):
        raise HarnessError(f"{job_name} has no script")
    sessions = {
        "script": [*(job.get("before_script") or []), *job["script"]],
        "after_script": job.get("after_script") or [],
    }
    steps: list[StepResult] = []
    for name, lines in sessions.items():
        if lines:
            code, text = _gitlab_shell(lines, workspace, work, process_env, pl.timeout, name)
            steps.append(StepResult(name, _outcome(code), "", code, text))
            log.append(text)
    # the job's status is its script's: after_script runs whatever, and changes nothing
    return JobResult(job_name, steps[0].outcome, steps, {}, "", "\n".join(log), workspace)


def _gitlab_shell(
    lines: list[str],
    workspace: Path,
    work: Path,
    process_env: Mapping[str, str],
    timeout: float,
    name: str,
) -> tuple[int, str]:
    """The lines in one bash session as GitLab's runner writes it: each echoed, then run."""
    body = ["set -eo pipefail", "set +o noclobber"]
    for line in lines:
        text = _replace_install(str(line), process_env)
        body.append(f"printf '%s\\n' {_sh_quote('$ ' + str(line))}")
        body.append(text)
    path = work / f"{name}.sh"
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    return _run_script(["bash", "--noprofile", "--norc"], path, workspace, process_env, timeout)
