"""Which repository a git remote URL names: host, port and path, for a forge's API.

Understands https/http URLs, ssh:// URLs and scp-like `user@host:path`. Credentials written in a
URL (`https://user:token@host/...`) are dropped and never shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from mlcode.errors import UserError

_SCP = re.compile(r"^(?:[^@/\s]+@)?(?P<host>[^:/\s]+):(?P<path>(?!/)[^\s]+)$")


@dataclass(frozen=True)
class RemoteRepo:
    """A repository on a forge host: `path` is "owner/name" (GitLab: "group/sub/name")."""

    scheme: str  # "https", "http" or "ssh"
    host: str
    port: int | None
    path: str

    @property
    def web_origin(self) -> str:
        """The https origin of the forge's web (and API) server for this repository."""
        if self.scheme in ("https", "http") and self.port is not None:
            return f"{self.scheme}://{self.host}:{self.port}"
        scheme = "http" if self.scheme == "http" else "https"
        return f"{scheme}://{self.host}"


def redact_url(url: str) -> str:
    """The URL with any user information (a name, a password, a token) replaced by `***`."""
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^@/]*@", r"\1***@", url.strip())


def parse_remote(url: str) -> RemoteRepo:
    """The forge repository a git remote URL points at; a clear error for a local path."""
    text = url.strip()
    if "://" in text:
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        if scheme in ("git+ssh", "ssh+git"):
            scheme = "ssh"
        if scheme not in ("https", "http", "ssh", "git") or not parts.hostname:
            raise _not_a_forge(url)
        try:
            port = parts.port
        except ValueError as error:
            raise _not_a_forge(url) from error
        host, path = parts.hostname, parts.path
        scheme = "ssh" if scheme == "git" else scheme
    else:
        match = _SCP.match(text)
        if match is None:
            raise _not_a_forge(url)
        scheme, host, port, path = "ssh", match["host"], None, match["path"]
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[: -len(".git")]
    if path.count("/") < 1 or any(not part for part in path.split("/")):
        raise _not_a_forge(url)
    return RemoteRepo(scheme=scheme, host=host.lower(), port=port, path=path)


def _not_a_forge(url: str) -> UserError:
    return UserError(
        f"the git remote {redact_url(url)!r} does not name a repository on a forge host "
        "(expected https://HOST/OWNER/REPO, ssh://git@HOST/OWNER/REPO or git@HOST:OWNER/REPO)",
        hint="A local or file:// remote goes with the forge `none`.",
    )
