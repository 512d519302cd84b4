"""The DVC remote a stack asks for, and the one `.dvc/config` has. Pure: the workspace reads the
file.

DVC stores a relative local remote path relative to the `.dvc/` folder; stacks write it relative
to the repository root, so the desired value is translated the same way DVC would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from mlcode.project.plan import RemoteChange
from mlcode.spec.stack import Stack

_SECTION = re.compile(r"""^\s*\[\s*'?remote\s+"([^"]+)"'?\s*\]\s*$""")
_CORE = re.compile(r"^\s*\[\s*'?core'?\s*\]\s*$")
_KV = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*=\s*(.*?)\s*$")


@dataclass(frozen=True)
class RemoteConfig:
    """Remotes (name → options incl. url) and the default remote of a DVC config."""

    remotes: dict[str, dict[str, str]]
    default: str | None


def desired_url(stack: Stack, project: str) -> str:
    """The remote URL as DVC stores it in `.dvc/config`."""
    url = stack.remote.url.replace("{project}", project)
    if stack.remote.type == "local" and not PurePosixPath(url).is_absolute():
        return str(PurePosixPath("..") / url)
    return url


def parse_config(text: str) -> RemoteConfig:
    """The remote part of a DVC config file (configobj syntax)."""
    remotes: dict[str, dict[str, str]] = {}
    default: str | None = None
    section: str | None = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _SECTION.match(line)
        if m:
            section = f"remote:{m.group(1)}"
            remotes.setdefault(m.group(1), {})
            continue
        if _CORE.match(line):
            section = "core"
            continue
        if line.lstrip().startswith("["):
            section = None
            continue
        kv = _KV.match(line)
        if not kv or section is None:
            continue
        key, value = kv.group(1), kv.group(2).strip("'\"")
        if section == "core" and key == "remote":
            default = value
        elif section.startswith("remote:"):
            remotes[section[len("remote:") :]][key] = value
    return RemoteConfig(remotes, default)


def _as_str(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def remote_change(stack: Stack, project: str, current: RemoteConfig) -> RemoteChange | None:
    """What must change in `.dvc/config` for the stack's remote; None when nothing."""
    name = stack.remote.name
    url = desired_url(stack, project)
    have = current.remotes.get(name, {})
    options = {
        k: _as_str(v) for k, v in sorted(stack.remote.options.items()) if have.get(k) != _as_str(v)
    }
    old_url = have.get("url")
    make_default = current.default != name
    if old_url == url and not options and not make_default:
        return None
    return RemoteChange(name, old_url, url, options, make_default)


def credential_hint(stack: Stack) -> str | None:
    """What to run so this machine can reach the remote, as lines that work exactly as printed.

    Options the remote's client reads from the environment by itself (AWS_* for s3) are named;
    every other credential gets the `dvc remote modify --local` line that stores it in the
    git-ignored `.dvc/config.local`, reading the value from the variable the stack names.
    """
    import shlex

    from mlcode.compile.render import FILE_OPTIONS, NATIVE_ENV

    remote = stack.remote
    if not remote.credentials:
        return None
    native = sorted(
        var
        for option, var in remote.credentials.items()
        if NATIVE_ENV.get((remote.type, option)) == var
    )
    lines = []
    if native:
        lines.append(
            f"The DVC remote {remote.name!r} reads {', '.join(native)} from the environment: set "
            "them in your shell before `dvc push` / `dvc pull`."
        )
    configured = sorted(
        (option, var)
        for option, var in remote.credentials.items()
        if NATIVE_ENV.get((remote.type, option)) != var
    )
    if configured:
        lines.append(
            f"Give the DVC remote {remote.name!r} its credentials on this machine (stored in the "
            "git-ignored .dvc/config.local), with each variable set:"
        )
        for option, var in configured:
            what = "the path of the key file" if option in FILE_OPTIONS else "the value"
            lines.append(
                f"  dvc remote modify --local {shlex.quote(remote.name)} {shlex.quote(option)} "
                f'"${var}"  # {var}: {what}'
            )
    return "\n".join(lines)
