"""GitLab CI: merge-request checks, continuous training and finalizing merged promotions in one
`.gitlab-ci.yml`.

`render(spec, stack)` returns `{".gitlab-ci.yml": text}`. Pure and deterministic. The template is
`templates/gitlab/mlcode.gitlab-ci.yml.j2`. Credentials are masked CI/CD variables named by the
stack, referenced by name only. The sticky MR note is posted by a short Python snippet in the job
(the image always has Python; it needs neither curl nor jq) through the GitLab API with the token
variable the stack's `forge.token_env` names; without that token the report stays a job artifact.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from mlcode.compile import render as _render
from mlcode.compile.header import with_header
from mlcode.compile.render import CiProject, Credential, RenderError, Trusted, parse_back, resolve
from mlcode.errors import UserError
from mlcode.spec.model import MlSpec
from mlcode.spec.stack import Stack

GITLAB_CI = ".gitlab-ci.yml"
_DEFAULT_TOKEN = "GITLAB_TOKEN"  # noqa: S105 - a variable name, not a secret
# A container image reference: registry/path:tag or @sha256:digest; no '$' (GitLab would expand it).
_IMAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,254}")
_TOP_KEYS = {
    "workflow",
    "stages",
    "default",
    "variables",
    ".mlcode-setup",
    "mlcode-retrain",
    "mlcode-finalize",
}


def image(p: CiProject, stack: Stack) -> str:
    """The job image: the stack's, or the official slim Python image of `ci.python`."""
    ref = stack.runner.image or f"python:{p.python}-slim"
    if not _IMAGE.fullmatch(ref):
        raise UserError(
            f"stack {stack.name!r}: runner image {ref!r} is not a container image reference"
        )
    return ref


def credential_line(cred: Credential) -> Trusted:
    """The shell line that puts one secret of the remote into `.dvc/config.local`."""
    option = shlex.quote(cred.option)
    if cred.is_file:
        path = f"/tmp/mlcode-remote-{cred.option}"  # noqa: S108 - private (umask 077), removed after
        return Trusted(
            f'umask 077; if [ -f "${cred.var}" ]; then cp "${cred.var}" {path}; '
            f"else printf '%s\\n' \"${cred.var}\" > {path}; fi; chmod 600 {path}; "
            f'dvc remote modify --local "$DVC_REMOTE" {option} {path}'
        )
    return Trusted(f'dvc remote modify --local "$DVC_REMOTE" {option} "${cred.var}"')


def context(spec: MlSpec, stack: Stack) -> dict[str, Any]:
    """The values the GitLab template renders."""
    p = resolve(spec, stack)
    # Pushes to a base branch: the finalize job always, the retrain job on data changes.
    base_rules = [
        Trusted(f'$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == "{base}"')
        for base in p.bases  # checked against a branch charset without '"' or '$'
    ]
    push_rules = base_rules if p.retrain_on_data_change else []
    return {
        "p": p,
        "image": image(p, stack),
        "credential_lines": [credential_line(c) for c in p.configured],
        "has_key_files": any(c.is_file for c in p.credentials),
        "base_rules": base_rules,
        "push_rules": push_rules,
        "multi": len(p.models) > 1,
        "grouped": p.groups is not None,
        "model_list": list(p.model_names),
        "token_env": p.token_env or _DEFAULT_TOKEN,
        "schedule_line": None
        if p.schedule is None
        else f"interval pattern {p.schedule}, cron timezone UTC, {schedule_targets(p, quote='')}.",
    }


def schedule_targets(p: CiProject, quote: str = "`") -> str:
    """The branch(es) a pipeline schedule of `ci.schedule` targets, in words: its base branch(es)."""
    if len(p.bases) == 1:
        return f"target branch {quote}{p.bases[0]}{quote}"
    return "one schedule for each base branch: " + ", ".join(f"{quote}{b}{quote}" for b in p.bases)


def schedule_note(spec: MlSpec, stack: Stack) -> str | None:
    """What apply cannot do for `ci.schedule` on GitLab (a pipeline schedule is a project setting,
    not part of .gitlab-ci.yml, and apply never calls the forge): the schedule to create."""
    if stack.ci != "gitlab" or spec.ci.schedule is None:
        return None
    p = resolve(spec, stack)
    return (
        f"ci.schedule runs the retrain job only once the GitLab project has a pipeline schedule "
        f"(a project setting, not part of {GITLAB_CI}; mlcode does not create it): in the "
        "project, Build → Pipeline schedules (CI/CD → Schedules on older GitLab) → New schedule, "
        f"interval pattern `{spec.ci.schedule}`, cron timezone UTC, {schedule_targets(p)}."
    )


def render(spec: MlSpec, stack: Stack) -> dict[str, str]:
    """`{".gitlab-ci.yml": text}`."""
    body = _render.render("gitlab/mlcode.gitlab-ci.yml.j2", context(spec, stack), "gitlab")
    check_pipeline(body, GITLAB_CI)
    return {GITLAB_CI: with_header(body)}


def check_pipeline(text: str, file: str) -> dict[Any, Any]:
    """Parse the rendered pipeline back and check its shape; RenderError if it is wrong."""
    data = parse_back(text, file)
    missing = _TOP_KEYS - set(data)
    if missing:
        raise RenderError(f"{file}: missing {', '.join(sorted(missing))}")
    for name, job in data.items():
        if not (isinstance(name, str) and name.startswith("mlcode-")):
            continue
        if not isinstance(job, dict) or not isinstance(job.get("script"), list):
            raise RenderError(f"{file}: job {name} has no script")
        if not all(isinstance(line, str) for line in job["script"]):
            raise RenderError(f"{file}: job {name} has a script line that is not a string")
    group = data["mlcode-retrain"].get("resource_group")
    if group not in ("mlcode-retrain", "mlcode-retrain-$MODELS", "mlcode-retrain-group-$GROUP"):
        raise RenderError(f"{file}: the retrain job must hold its model's retrain resource group")
    if data["mlcode-finalize"].get("resource_group") != "mlcode-finalize":
        raise RenderError(f"{file}: the finalize job must hold the finalize resource group")
    return data
