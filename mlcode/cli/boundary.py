"""The one place errors become messages and exit codes.

0 ok, 1 a check or gate said no, 2 usage, 3 user-fixable error, 4 internal bug, 130 interrupted.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import click

from mlcode import errors


@dataclass(frozen=True)
class Settings:
    """What the group passes to every command."""

    cwd: Path
    traceback: bool = False


def _wants_traceback(args: list[str]) -> bool:
    return "--traceback" in args


def run_guarded(group: click.Group, args: list[str]) -> int:
    """Run `group` on `args`; translate every failure to a message on stderr and an exit code."""
    try:
        result = group.main(args=args, prog_name="mlcode", standalone_mode=False)
    except errors.MlcodeError as exc:
        if _wants_traceback(args):
            raise
        click.secho(f"Error: {exc.render()}", err=True, fg="red" if _color() else None)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        return errors.EXIT_INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return errors.EXIT_USAGE
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return errors.EXIT_INTERRUPTED
    except BrokenPipeError:
        return errors.EXIT_OK
    except Exception as exc:
        if _wants_traceback(args):
            raise
        click.echo(
            f"Internal error (a bug in mlcode): {type(exc).__name__}: {exc}\n"
            "Run again with --traceback for details, and please report it.",
            err=True,
        )
        return errors.EXIT_BUG
    return result if isinstance(result, int) and not isinstance(result, bool) else errors.EXIT_OK


def _color() -> bool:
    return sys.stderr.isatty()


def settings(ctx: click.Context) -> Settings:
    """The group's settings (a default when a command is invoked on its own in tests)."""
    obj = ctx.find_root().obj
    if isinstance(obj, Settings):
        return obj
    return Settings(cwd=Path.cwd())
