"""GitHub Actions workflows: checks on pull requests, continuous training (retrain + promote) and
finalizing merged promotions (`mlcode promote --finalize` on each push to a base branch).

`render(spec, stack)` returns the three workflow files. Pure and deterministic. The templates are
`templates/github/*.yml.j2`; this module prepares their values (secrets as `${{ secrets.NAME }}`
expressions built from validated names), renders them through `mlcode.compile.render` and checks
the result's structure before returning it: workflow-level `permissions: {}`, per-job permissions,
every action pinned by commit SHA, no `${{` inside any `run:`.
"""

from __future__ import annotations

import re
from typing import Any

from mlcode.compile import actions
from mlcode.compile import render as _render
from mlcode.compile.header import with_header
from mlcode.compile.render import CiProject, RenderError, Trusted, parse_back, resolve
from mlcode.errors import UserError
from mlcode.spec import names
from mlcode.spec.cinames import ssh_endpoint
from mlcode.spec.model import MlSpec
from mlcode.spec.stack import Stack

PR_WORKFLOW = ".github/workflows/mlcode-pr.yml"
RETRAIN_WORKFLOW = ".github/workflows/mlcode-retrain.yml"
FINALIZE_WORKFLOW = ".github/workflows/mlcode-finalize.yml"
WORKFLOWS = (PR_WORKFLOW, RETRAIN_WORKFLOW, FINALIZE_WORKFLOW)
_DEFAULT_TOKEN = "GITHUB_TOKEN"  # noqa: S105 - a variable name, not a secret
_USES = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}")


def secret(var: str) -> Trusted:
    """`${{ secrets.VAR }}` for a repository secret named like the environment variable."""
    if not names.ENV_VAR.fullmatch(var):  # pragma: no cover - the stack model checks names
        raise RenderError(f"{var!r} is not a secret name")
    if var.startswith("GITHUB_"):
        raise UserError(
            f"the stack names the credential variable {var!r}; GitHub secret names cannot start "
            "with GITHUB_, rename it (the workflow reads it from the secret of the same name)"
        )
    return Trusted("${{ secrets." + var + " }}")


def _token(p: CiProject) -> tuple[str, Trusted]:
    """The forge token's variable name and the expression that fills it in the workflow."""
    name = p.token_env or _DEFAULT_TOKEN
    if name == _DEFAULT_TOKEN:
        return name, Trusted("${{ github.token }}")
    return name, secret(name)


def ssh_context(stack: Stack, project: str) -> dict[str, Any] | None:
    """What the host-key step needs for an ssh remote (None for other remotes).

    DVC's ssh remote (asyncssh through dvc-ssh) switches host-key checking off. The workflow
    therefore routes DVC's connection through OpenSSH (`ProxyCommand ssh -W`), which checks the
    server's key strictly against the pinned known_hosts: a man in the middle fails the job.
    """
    remote = stack.remote
    if remote.type != "ssh" or remote.known_hosts_env is None:
        return None
    host, port, user = ssh_endpoint(remote.url.replace("{project}", project))
    option_port = remote.options.get("port")
    option_user = remote.options.get("user")
    port = port or (int(option_port) if isinstance(option_port, int | str) else None) or 22
    user = user or (str(option_user) if option_user is not None else None)
    keyfile = "keyfile" in remote.credentials
    return {
        "host": host,
        "port": str(port),
        "user": user or "",
        "known_hosts": secret(remote.known_hosts_env),
        "identity": "mlcode-remote-keyfile" if keyfile else "",
    }


def context(spec: MlSpec, stack: Stack) -> dict[str, Any]:
    """The values the GitHub templates render."""
    p = resolve(spec, stack)
    token_env, token_expr = _token(p)
    # A PR opened with GITHUB_TOKEN gets no `pull_request` run: dispatch the checks ourselves.
    dispatch = p.opens_prs and p.forge == "github" and token_env == _DEFAULT_TOKEN
    creds = [
        {"option": c.option, "var": c.var, "secret": secret(c.var), "is_file": c.is_file}
        for c in p.configured
    ]
    native = [{"var": c.var, "secret": secret(c.var)} for c in p.native]
    matrix: list[dict[str, Any]] | None = None
    if p.groups is not None:
        # One job per group: the entry carries the group's models as one string the job's
        # command splits (`mlcode retrain $MODELS`); a group dispatches checks when one of its
        # models is promoted through a pull request.
        matrix = [
            {
                "group": g.name,
                "models": " ".join(g.model_names),
                "dispatch": dispatch and any(m.mode == "pr" for m in g.models),
            }
            for g in p.groups
        ]
    elif len(p.models) > 1:
        matrix = [
            {
                "model": m.name,
                "branch": m.branch,
                "dispatch": dispatch and m.mode == "pr",
            }
            for m in p.models
        ]
    elif p.models and p.models[0].mode != "pr":
        dispatch = False
    return {
        "p": p,
        "act": actions.pins(),
        "configured": creds,
        "native": native,
        "has_key_files": any(c.is_file for c in p.credentials) or stack.remote.type == "ssh",
        "matrix": matrix,
        "grouped": p.groups is not None,
        "dispatch": dispatch,
        "token_env": token_env,
        "token_expr": token_expr,
        "ssh": ssh_context(stack, spec.project),
    }


def render(spec: MlSpec, stack: Stack) -> dict[str, str]:
    """`{path: text}` of the pull-request, retrain and finalize workflows."""
    ctx = context(spec, stack)
    out = {}
    for path, template, caching in (
        (PR_WORKFLOW, "github/mlcode-pr.yml.j2", True),
        # The retrain workflow publishes (pushes versions and tags): no caches, so nothing another
        # run wrote can reach it (zizmor's cache-poisoning audit); the DVC remote is its cache.
        (RETRAIN_WORKFLOW, "github/mlcode-retrain.yml.j2", False),
        # Finalizing pushes stage tags: no caches either.
        (FINALIZE_WORKFLOW, "github/mlcode-finalize.yml.j2", False),
    ):
        body = _render.render(template, {**ctx, "caching": caching}, "github")
        check_workflow(body, path)
        out[path] = with_header(body)
    return out


def check_workflow(text: str, file: str) -> dict[Any, Any]:
    """Parse a rendered workflow back and check its shape and safety rules; RenderError if not."""
    data = parse_back(text, file)
    on = data.get("on", data.get(True))  # YAML 1.1 reads the key `on` as true
    if not isinstance(on, dict) or not on:
        raise RenderError(f"{file}: no triggers")
    if data.get("permissions") != {}:
        raise RenderError(f"{file}: the workflow must grant no permissions by default")
    jobs = data.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        raise RenderError(f"{file}: no jobs")
    for job_id, job in jobs.items():
        if not isinstance(job, dict) or not isinstance(job.get("permissions"), dict):
            raise RenderError(f"{file}: job {job_id} lacks its own `permissions:`")
        if not isinstance(job.get("timeout-minutes"), int):
            raise RenderError(f"{file}: job {job_id} lacks `timeout-minutes`")
        for step in job.get("steps", []):
            _check_step(step, f"{file}: job {job_id}")
    return data


def _check_step(step: Any, where: str) -> None:
    if not isinstance(step, dict):
        raise RenderError(f"{where}: a step is not a mapping")
    uses = step.get("uses")
    if uses is not None:
        if not isinstance(uses, str) or not _USES.fullmatch(uses):
            raise RenderError(f"{where}: action {uses!r} is not pinned by commit SHA")
        checkout = uses.startswith("actions/checkout@")
        if checkout and step.get("with", {}).get("persist-credentials") is not False:
            raise RenderError(f"{where}: checkout must not persist credentials")
    run = step.get("run")
    if run is not None and (not isinstance(run, str) or "${{" in run):
        raise RenderError(f"{where}: a `run:` holds an expression; pass values through `env:`")
