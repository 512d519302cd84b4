"""A failed DVC transfer (`dvc push`, `dvc pull`) as one readable error: what failed (which DVC
remote, where it points), DVC's cause once, and the command to rerun as the hint.

DVC's own output names the Python binary and its whole command line (through `proc.run`), and a
transfer that fails for every object repeats one error per object; people need the remote, the
first distinct reasons and what to run again. `cause` is pure; `remote_failure` reads DVC's config
for the remote's URL.
"""

from __future__ import annotations

import re
from pathlib import Path

from mlcode.errors import UserError

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_NOISE = ("having any troubles?", "hit us up at")
_PREFIXES = ("ERROR:", "error:")
_UNEXPECTED = "unexpected error - "
# what differs between the repeats of one error: quoted object names and URLs, hashes, counts
_VARYING = re.compile(r"'[^']*'|\"[^\"]*\"|[0-9a-f]{6,}|\d+")
MAX_LINES = 3
MAX_CHARS = 600


def _clean(line: str) -> str:
    line = _ANSI.sub("", line).strip()
    for prefix in _PREFIXES:
        if line.startswith(prefix):
            line = line[len(prefix) :].strip()
    if line.startswith(_UNEXPECTED):
        line = line[len(_UNEXPECTED) :]
    return line


def cause(output: str) -> str:
    """DVC's reason from its output: its error lines (all lines when none is marked ERROR), each
    distinct one once ("(and N more like it)" for repeats that differ only in hashes and
    numbers or quoted names), at most MAX_LINES lines and MAX_CHARS characters."""
    raw = [_ANSI.sub("", line).strip() for line in output.splitlines()]
    raw = [line for line in raw if line and not any(n in line.lower() for n in _NOISE)]
    marked = [line for line in raw if line.startswith(_PREFIXES)]
    lines = [_clean(line) for line in (marked or raw)]
    order: list[str] = []
    first: dict[str, str] = {}
    count: dict[str, int] = {}
    for line in lines:
        key = _VARYING.sub("#", line)
        if key not in first:
            order.append(key)
            first[key] = line
        count[key] = count.get(key, 0) + 1
    shown = []
    for key in order[:MAX_LINES]:
        more = count[key] - 1
        shown.append(first[key] + (f" (and {more} more like it)" if more else ""))
    if len(order) > MAX_LINES:
        shown[-1] += f" (and {len(order) - MAX_LINES} other error line(s))"
    text = "\n".join(shown)
    if len(text) > MAX_CHARS:
        text = text[: MAX_CHARS - 1] + "…"
    return text or "DVC gave no reason"


def remote_name(root: Path, args: list[str]) -> str | None:
    """The remote a DVC command works with: its `-r NAME` / `--remote NAME`, else DVC's default."""
    from mlcode.adapters.dvc_remote_objects import default_remote

    for i, arg in enumerate(args[:-1]):
        if arg in ("-r", "--remote"):
            return args[i + 1]
    return default_remote(root)


def describe_remote(root: Path, name: str | None) -> str:
    """ "the DVC remote 'NAME' (URL)", as DVC's config has it (local config first)."""
    from mlcode.adapters.dvc_remote_objects import config_value

    if name is None:
        return "the DVC remote (none is configured as the default)"
    url = config_value(root, f"'remote \"{name}\"'", "url") or config_value(
        root, f'remote "{name}"', "url"
    )
    return f"the DVC remote '{name}'" + (f" ({url})" if url else "")


def remote_failure(root: Path, args: list[str], output: str, exit_code: int) -> UserError:
    """The error for `dvc ARGS` (a push or pull) that failed with `output` on stderr."""
    verb = args[0]
    way = "to" if verb == "push" else "from"
    where = describe_remote(root, remote_name(root, args))
    return UserError(
        f"`dvc {verb}` {way} {where} failed (exit {exit_code}): {cause(output)}",
        hint=f"Check the remote and its credentials, then rerun: dvc {' '.join(args)}",
    )
