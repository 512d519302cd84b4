"""What every command shares, declared once: the options (`-C DIR` on the group, `--json` on each
command that prints a result) and the pre-flight steps (find the repository root, open the
workspace).

The repository root is found one way for every command (`root`): the top of the git work tree
holding the folder mlcode runs in, so a command started in a subdirectory answers as it does at the
root. Outside any git repository `init`, `validate` and `step` work in that folder; the commands
that need git refuse.

Light: importing this module imports click only; the workspace (pydantic, the compiler) loads when
a command opens it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from mlcode.project.workspace import Workspace

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Settings:
    """What the group passes to every command."""

    cwd: Path
    traceback: bool = False


def _existing_dir(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    if value is not None and not value.is_dir():
        raise click.BadParameter(f"{value} is not a directory", ctx=ctx, param=param)
    return value


directory = click.option(
    "-C",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    callback=_existing_dir,
    help="Run as if mlcode was started in DIR.",
    metavar="DIR",
)


def json_output(help: str = "Print the result as JSON.") -> Callable[[F], F]:
    """The `--json` flag (parameter `as_json`) of a command that prints a result."""
    return click.option("--json", "as_json", is_flag=True, help=help)


def settings(ctx: click.Context) -> Settings:
    """The group's settings (a default when a command is invoked on its own in tests)."""
    obj = ctx.find_root().obj
    if isinstance(obj, Settings):
        return obj
    return Settings(cwd=Path.cwd())


def root(ctx: click.Context, *, needs_git: bool = True) -> Path:
    """The repository root the command works in (see the module docstring); a UserError outside
    any git repository unless the command can do without git (`needs_git=False`)."""
    from mlcode.adapters.repo import find_root

    return find_root(settings(ctx).cwd, needs_git=needs_git)


def workspace(ctx: click.Context) -> Workspace:
    """The project at the repository root, its ml.yaml and stack loaded and validated."""
    from mlcode.project.workspace import open_workspace

    return open_workspace(root(ctx))
