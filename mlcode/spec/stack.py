"""The stack model: which CI provider, which DVC remote, which forge, which runner.

Stacks are data files (`stacks/*.yaml`, shipped in the wheel) or a team's own file named by path.
Credentials are environment variable names only; a value that looks like a secret is refused.
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import InitErrorDetails, ValidationError

from mlcode.spec import names
from mlcode.spec.dvc_options import REMOTE_OPTIONS
from mlcode.spec.model import Name, Strict
from mlcode.spec.urls import credential_in_url

# Option keys that carry secrets: never allowed as plain values in a stack.
SECRET_OPTION_KEYS = frozenset(
    {
        "access_key_id",
        "secret_access_key",
        "session_token",
        "password",
        "token",
        "key",
        "passphrase",
        "account_key",
        "sas_token",
        "connection_string",
        "client_secret",
        "credentialpath",
        "sse_customer_key",
    }
)
_GITHUB_TOKEN = "GITHUB_TOKEN"  # noqa: S105 - a variable name, not a secret
# Remote types whose URL may name a login user (`ssh://dvc@host/path`): a name, not a secret.
USER_IN_URL_OK = frozenset({"ssh", "hdfs"})

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


def _env_name(value: str) -> str:
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


EnvVar = Annotated[str, AfterValidator(_env_name)]

# A container image reference: [registry[:port]/]path[:tag][@sha256:digest]. Nothing a shell or
# GitLab would interpret ($, spaces, quotes, ;) can match.
_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_REF = re.compile(
    rf"(?:{_HOST}(?::[0-9]{{1,5}})?/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?"
)


def _image(value: str | None) -> str | None:
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


def _ssh_url_problem(url: str) -> str | None:
    """Why an ssh URL's host, user or port cannot be used (they go into ssh's own config)."""
    try:
        ssh_endpoint(url)
    except ValueError as exc:
        return str(exc)
    return None


def _located(title: str, errors: list[tuple[tuple[str | int, ...], Any, str]]) -> ValidationError:
    """A ValidationError whose errors sit at `loc` below the field being validated."""
    return ValidationError.from_exception_data(
        title,
        [
            InitErrorDetails(
                type="value_error", loc=loc, input=value, ctx={"error": ValueError(msg)}
            )
            for loc, value, msg in errors
        ],
    )


def _option_problem(remote_type: str, key: str) -> str | None:
    """Why `key` is not a DVC option of `remote_type` (None when it is)."""
    known = REMOTE_OPTIONS.get(remote_type)
    if known is None or key in known:
        return None
    close = difflib.get_close_matches(key, sorted(known - {"url"}), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return (
        f"{key!r} is not an option of DVC {remote_type!r} remotes{hint} "
        f"(DVC would refuse it; known: {', '.join(sorted(known - {'url'}))})"
    )


REMOTE_TYPES = ("local", "s3", "ssh", "gs", "azure", "http", "https", "webdav", "webdavs", "hdfs")


class Remote(Strict):
    """The DVC remote data and models are pushed to."""

    name: Name = Field(default="storage", description="DVC remote name.")
    type: Literal["local", "s3", "ssh", "gs", "azure", "http", "https", "webdav", "webdavs", "hdfs"]
    url: str = Field(
        min_length=1,
        description="Remote URL. '{project}' is replaced by the project name. A local path is "
        "relative to the repository root.",
    )
    options: dict[str, str | int | bool] = Field(
        default_factory=dict, description="Non-secret `dvc remote modify` options."
    )
    credentials: dict[str, EnvVar] = Field(
        default_factory=dict,
        description="DVC option → environment variable holding its value (never the value).",
    )
    known_hosts_env: EnvVar | None = Field(
        default=None,
        description="ssh remotes: the CI secret (environment variable) holding the server's "
        "known_hosts lines. The generated workflow pins them and checks the host key strictly.",
    )

    @field_validator("url")
    @classmethod
    def _url_has_no_credentials(cls, value: str, info: ValidationInfo) -> str:
        reason = credential_in_url(value, user_ok=info.data.get("type") in USER_IN_URL_OK)
        if reason:
            raise ValueError(f"the url {reason}")
        return value

    @field_validator("options")
    @classmethod
    def _known_options_no_secrets(
        cls, value: dict[str, str | int | bool], info: ValidationInfo
    ) -> dict[str, str | int | bool]:
        remote_type = info.data.get("type")
        errors: list[tuple[tuple[str | int, ...], Any, str]] = []
        for key, option in value.items():
            if key.lower() in SECRET_OPTION_KEYS:
                errors.append(
                    (
                        (key, "[key]"),
                        key,
                        f"option {key!r} is a credential: list it under `credentials` with the "
                        "name of the environment variable that holds it, never its value",
                    )
                )
                continue
            if key == "url":
                errors.append(((key, "[key]"), key, "the url is set by `remote.url`, not here"))
                continue
            unknown = _option_problem(str(remote_type), key) if remote_type else None
            if unknown:
                errors.append(((key, "[key]"), key, unknown))
                continue
            reason = credential_in_url(option) if isinstance(option, str) else None
            if reason:
                errors.append(((key,), None, f"the value of {key!r} {reason}"))
        if errors:
            raise _located("Remote", errors)
        return value

    @field_validator("credentials")
    @classmethod
    def _credentials_are_options(
        cls, value: dict[str, str], info: ValidationInfo
    ) -> dict[str, str]:
        remote_type = info.data.get("type")
        errors: list[tuple[tuple[str | int, ...], Any, str]] = []
        for key in value:
            unknown = _option_problem(str(remote_type), key) if remote_type else None
            if key == "url":
                unknown = "the url is not a credential; set it with `remote.url`"
            if unknown:
                errors.append(((key, "[key]"), key, unknown))
        if errors:
            raise _located("Remote", errors)
        return value

    @model_validator(mode="after")
    def _no_secrets(self) -> Remote:
        if self.known_hosts_env is not None and self.type != "ssh":
            raise _located(
                "Remote",
                [(("known_hosts_env",), self.known_hosts_env, "only an ssh remote has host keys")],
            )
        if self.type == "ssh" and "://" in self.url:
            reason = _ssh_url_problem(self.url)
            if reason:
                raise _located("Remote", [(("url",), self.url, f"the url {reason}")])
        scheme = self.url.split("://", 1)[0] if "://" in self.url else "local"
        expected = {"local": "local", "s3": "s3", "ssh": "ssh", "gs": "gs", "azure": "azure"}
        if self.type in expected and scheme != expected[self.type]:
            raise ValueError(f"url {self.url!r} does not match remote type {self.type!r}")
        return self


class Forge(Strict):
    """Where pull requests are opened."""

    type: Literal["none", "github", "gitlab"] = "none"
    api_url: str | None = Field(default=None, description="API base URL (for self-hosted forges).")
    token_env: EnvVar | None = Field(
        default=None, description="Environment variable holding the API token."
    )

    @field_validator("api_url")
    @classmethod
    def _api_url_has_no_credentials(cls, value: str | None) -> str | None:
        reason = credential_in_url(value) if value else None
        if reason:
            raise ValueError(f"the api_url {reason}")
        return value

    @model_validator(mode="after")
    def _token(self) -> Forge:
        if self.type != "none" and self.token_env is None:
            raise ValueError(f"forge {self.type!r} needs `token_env`")
        return self


class Runner(Strict):
    """Where CI jobs run."""

    label: str = Field(default="ubuntu-latest", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
    image: Annotated[str | None, AfterValidator(_image)] = Field(
        default=None, description="Container image (GitLab); default python:<version>-slim."
    )


class Stack(Strict):
    """A named preset of infrastructure."""

    name: Name
    description: str = ""
    ci: Literal["none", "github", "gitlab"] = "none"
    forge: Forge = Field(default_factory=Forge)
    remote: Remote
    git_remote: str = Field(
        default="origin",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
        description="Git remote name.",
    )
    runner: Runner = Field(default_factory=Runner)

    @model_validator(mode="after")
    def _ci_variable_names(self) -> Stack:
        """Names the CI provider would refuse or that would clash, found before anything renders."""
        errors: list[tuple[tuple[str | int, ...], Any, str]] = []
        token = self.forge.token_env
        if self.ci == "github":
            for option, var in self.remote.credentials.items():
                if var.startswith("GITHUB_"):
                    errors.append(
                        (
                            ("remote", "credentials", option),
                            var,
                            f"{var!r}: GitHub secret names cannot start with GITHUB_ (the "
                            "workflow reads the secret of the same name); rename it",
                        )
                    )
            if token is not None and token.startswith("GITHUB_") and token != _GITHUB_TOKEN:
                errors.append(
                    (
                        ("forge", "token_env"),
                        token,
                        f"{token!r}: GitHub secret names cannot start with GITHUB_; use "
                        "GITHUB_TOKEN (the workflow's own token) or another name",
                    )
                )
        if (
            self.remote.type == "ssh"
            and self.ci == "github"
            and self.remote.known_hosts_env is None
        ):
            errors.append(
                (
                    ("remote", "type"),
                    self.remote.type,
                    "an ssh remote used from GitHub Actions needs `known_hosts_env`: the secret "
                    "holding the server's known_hosts lines (from `ssh-keyscan HOST`, checked "
                    "against the server's own key), so CI never trusts an unknown host key",
                )
            )
        if self.remote.known_hosts_env is not None and self.ci == "gitlab":
            errors.append(
                (
                    ("remote", "known_hosts_env"),
                    self.remote.known_hosts_env,
                    "host-key pinning is generated for GitHub Actions only so far",
                )
            )
        if token is not None:
            for option, var in self.remote.credentials.items():
                if var == token:
                    errors.append(
                        (
                            ("remote", "credentials", option),
                            var,
                            f"{var!r} is also the forge token (`forge.token_env`); one variable "
                            "cannot hold two secrets",
                        )
                    )
        if errors:
            raise _located("Stack", errors)
        return self
