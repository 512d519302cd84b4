"""The stack model: which CI provider, which DVC remote, which forge, which runner.

Stacks are data files (`stacks/*.yaml`, shipped in the wheel) or a team's own file named by path.
Credentials are environment variable names only; a value that looks like a secret is refused.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from mlcode.spec.model import INSTALL_DESCRIPTION, EnvVar, InstallSource, Name, Strict

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
    }
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

    @model_validator(mode="after")
    def _no_secrets(self) -> Remote:
        for key in self.options:
            if key.lower() in SECRET_OPTION_KEYS:
                raise ValueError(
                    f"option {key!r} is a credential: list it under `credentials` with the name "
                    "of the environment variable that holds it, never its value"
                )
        scheme = self.url.split("://", 1)[0] if "://" in self.url else "local"
        expected = {"local": "local", "s3": "s3", "ssh": "ssh", "gs": "gs", "azure": "azure"}
        if self.type in expected and scheme != expected[self.type]:
            raise ValueError(f"url {self.url!r} does not match remote type {self.type!r}")
        if (
            "@" in self.url.split("://", 1)[-1].split("/", 1)[0]
            and ":" in self.url.split("://", 1)[-1].split("@", 1)[0]
        ):
            raise ValueError("the url embeds a password; use `credentials` instead")
        return self


class Forge(Strict):
    """Where pull requests are opened."""

    type: Literal["none", "github", "gitlab"] = "none"
    api_url: str | None = Field(default=None, description="API base URL (for self-hosted forges).")
    token_env: EnvVar | None = Field(
        default=None, description="Environment variable holding the API token."
    )

    @model_validator(mode="after")
    def _token(self) -> Forge:
        if self.type != "none" and self.token_env is None:
            raise ValueError(f"forge {self.type!r} needs `token_env`")
        return self


class Runner(Strict):
    """Where CI jobs run."""

    label: str = Field(default="ubuntu-latest", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
    image: str | None = Field(
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
