"""Names and references a stack hands to a CI job: variable names, container images, ssh endpoints.

Each value ends up in a workflow's `env:`, a job's `image:` or ssh's own configuration, so only
plain, well-formed values pass: pure functions raising ValueError with the reason.
"""

from __future__ import annotations

import re

from mlcode.spec import names

# Variables a credential or token must not be named after: setting them to a secret changes what
# programs in the CI job do (PATH, LD_PRELOAD, PIP_INDEX_URL, GIT_SSH_COMMAND...), or the CI system
# or mlcode's own workflow steps already use them.
RESERVED_ENV = frozenset(
    {
        "PATH",
        "HOME",
        "SHELL",
        "USER",
        "IFS",
        "ENV",
        "BASH_ENV",
        "CDPATH",
        "PS4",
        "PROMPT_COMMAND",
        "TMPDIR",
        "SSH_ASKPASS",
        "SSH_AUTH_SOCK",
        "NODE_OPTIONS",
        "PERL5OPT",
        "PERL5LIB",
        "RUBYOPT",
        "JAVA_TOOL_OPTIONS",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "REQUESTS_CA_BUNDLE",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "CURL_CA_BUNDLE",
        "GITLAB_CI",
        "GITLAB_FEATURES",
        # names the generated workflow steps set themselves
        "DVC_REMOTE",
        "OPTION",
        "SECRET_FILE",
        "SECRET_VALUE",
        "MODEL",
        "MODELS",
        "BASE_REF",
        "DEFAULT_BASE",
        "BRANCH",
        "GH_REPO",
        "PROMOTION_BRANCH",
        "PR_NUMBER",
        "REPORT",
        "KNOWN_HOSTS",
    }
)
RESERVED_ENV_PREFIXES = (
    "LD_",
    "DYLD_",
    "PYTHON",
    "PIP_",
    "GIT_",
    "BASH_FUNC_",
    "RUNNER_",
    "ACTIONS_",
    "CI_",
    "GITLAB_USER_",
    "MLCODE_",
)


def env_name(value: str) -> str:
    """A variable name a CI job can hold a secret in: well formed and not reserved."""
    if not names.ENV_VAR.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an environment variable name (expected e.g. AWS_ACCESS_KEY_ID: "
            "uppercase letters, digits and '_'); credentials are given by variable name only"
        )
    if value in RESERVED_ENV or value.startswith(RESERVED_ENV_PREFIXES):
        raise ValueError(
            f"{value!r} is a reserved environment variable (the shell, Python, pip, git, the CI "
            "system or mlcode's own workflow steps use it); setting it to a secret would change "
            "what the CI job runs: choose another name"
        )
    return value


# A container image reference: [registry[:port]/]path[:tag][@sha256:digest]. Nothing a shell or
# GitLab would interpret ($, spaces, quotes, ;) can match.
_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_REF = re.compile(
    rf"(?:{_HOST}(?::[0-9]{{1,5}})?/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?"
)


def image_ref(value: str | None) -> str | None:
    if value is not None and (len(value) > 255 or not IMAGE_REF.fullmatch(value)):
        raise ValueError(
            f"{value!r} is not a container image reference (expected e.g. python:3.11-slim or "
            "registry.example.com/team/image:tag@sha256:<digest>; no shell syntax)"
        )
    return value


_SSH_HOST = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*"
)
_SSH_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}")


def ssh_endpoint(url: str) -> tuple[str, int | None, str | None]:
    """(host, port, user) of an ssh URL; ValueError naming what ssh could not take."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise ValueError("has a port that is not a number from 0 to 65535") from None
    host = parts.hostname or ""
    if not _SSH_HOST.fullmatch(host):
        raise ValueError("has no usable host name (letters, digits, '.' and '-', or [IPv6])")
    user = parts.username
    if user is not None and not _SSH_USER.fullmatch(user):
        raise ValueError("has a user name ssh cannot take (letters, digits, '.', '_' and '-')")
    return host, port, user


def ssh_url_problem(url: str) -> str | None:
    """Why an ssh URL's host, user or port cannot be used (they go into ssh's own config)."""
    try:
        ssh_endpoint(url)
    except ValueError as exc:
        return str(exc)
    return None
