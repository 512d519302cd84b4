"""The stack model: which CI provider, which DVC remote, which forge, which runner.

Stacks are data files (`stacks/*.yaml`, shipped in the wheel) or a team's own file named by path.
Credentials are environment variable names only; a value that looks like a secret is refused.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator
from pydantic_core import InitErrorDetails, ValidationError

from mlcode.spec.cinames import env_name, image_ref, ssh_url_problem
from mlcode.spec.dvc_options import REMOTE_OPTIONS
from mlcode.spec.model import INSTALL_DESCRIPTION, InstallSource, Name, Strict
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

EnvVar = Annotated[str, AfterValidator(env_name)]


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
            reason = ssh_url_problem(self.url)
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
    image: Annotated[str | None, AfterValidator(image_ref)] = Field(
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
    ci_install: InstallSource | None = Field(
        default=None, description=INSTALL_DESCRIPTION + " ml.yaml's `ci.install` wins."
    )

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
