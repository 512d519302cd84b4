"""Choose and build the forge client a stack names, from plain values (kind, URLs, environment)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Literal

from mlcode.errors import UserError
from mlcode.forge import github, gitlab
from mlcode.forge.base import Forge
from mlcode.forge.http import HttpClient, RetryPolicy
from mlcode.forge.none import NoForge
from mlcode.forge.remote import parse_remote, redact_url

ForgeKind = Literal["none", "github", "gitlab"]
KINDS: tuple[str, ...] = ("none", "github", "gitlab")


def make_forge(
    kind: ForgeKind,
    *,
    api_url: str | None,
    token_env: str | None,
    remote_url: str,
    environ: Mapping[str, str],
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> Forge:
    """The forge client for `kind`: the repository from the git remote, the token from `environ`.

    `api_url` overrides the API base derived from the remote's host (github.com: api.github.com;
    another host: GitHub Enterprise's `https://HOST/api/v3` or GitLab's `https://HOST/api/v4`).
    """
    if kind == "none":
        return NoForge()
    if kind not in KINDS:
        raise UserError(f"unknown forge {kind!r}: expected one of {', '.join(KINDS)}")
    name = "GitHub" if kind == "github" else "GitLab"
    if not token_env:
        raise UserError(
            f"the forge {kind} needs a token, but the stack names no environment variable for it",
            hint="Name the variable in the stack's forge settings (its value stays in the environment).",
        )
    token = environ.get(token_env, "").strip()
    if not token:
        raise UserError(
            f"the environment variable {token_env} is not set (or empty): {name} needs a token from it",
            hint=f"Export {token_env} with a token that may open pull/merge requests on this repository.",
        )
    repo = parse_remote(remote_url)
    base = api_url.rstrip("/") if api_url else None
    if base is not None and not base.startswith(("https://", "http://")):
        raise UserError(f"the forge API URL {redact_url(base)!r} is not an http(s) URL")
    common = {
        "token_env": token_env,
        "secret": token,
        "policy": policy or RetryPolicy(),
        "sleep": sleep,
        "clock": clock,
        "repository": repo.path,
    }
    if kind == "github":
        parts = repo.path.split("/")
        if len(parts) != 2:
            raise UserError(
                f"the git remote {redact_url(remote_url)!r} does not name a GitHub repository OWNER/REPO"
            )
        http = HttpClient(
            name=name,
            base_url=base or github.api_url_for(repo.host, repo.web_origin),
            auth_headers=github.headers(token),
            extra_headers=github.EXTRA_HEADERS,
            rate_limit_wait=github.rate_limit_wait,
            permission_hint=github.permission_hint,
            **common,  # type: ignore[arg-type]
        )
        return github.GitHubForge(http, parts[0], parts[1], repo.web_origin)
    http = HttpClient(
        name=name,
        base_url=base or gitlab.api_url_for(repo.host, repo.web_origin),
        auth_headers=gitlab.headers(token),
        rate_limit_wait=gitlab.rate_limit_wait,
        **common,  # type: ignore[arg-type]
    )
    return gitlab.GitLabForge(http, repo.path, repo.web_origin)
