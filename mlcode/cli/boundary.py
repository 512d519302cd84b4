"""The one place errors become messages and exit codes, and output becomes safe to show.

0 ok, 1 a check or gate said no, 2 usage, 3 user-fixable error, 4 internal bug, 130 interrupted.

Everything a command prints passes `visible`: ml.yaml values, paths and file names can hold
terminal control sequences (an OSC that retitles the window, a CSI that clears the screen, a
bidi override that reorders what the reader sees); they are shown as `\x1b`, `\u202e`... text,
never sent to the terminal as controls.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from collections.abc import Iterator
from typing import Any

import click

from mlcode import errors

# C0 controls except newline and tab, DEL, C1 controls, and the Unicode bidi controls.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every terminal control character written out as an escape (`\x1b`)."""
    return _CONTROL.sub(_escape, text)


class VisibleStream(io.TextIOBase):
    """A text stream that writes through `visible` to the stream it wraps."""

    def __init__(self, inner: Any) -> None:
        super().__init__()
        self._inner = inner

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self._inner, "encoding", None) or "utf-8")

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._inner, "errors", None)

    def write(self, text: str) -> int:
        self._inner.write(visible(text))
        return len(text)

    def flush(self) -> None:
        self._inner.flush()

    def isatty(self) -> bool:
        return bool(self._inner.isatty())

    def fileno(self) -> int:
        return int(self._inner.fileno())

    def writable(self) -> bool:
        return True


@contextlib.contextmanager
def visible_output() -> Iterator[None]:
    """Route sys.stdout and sys.stderr through `visible` while a command runs."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = VisibleStream(saved[0]), VisibleStream(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def _wants_traceback(args: list[str]) -> bool:
    return "--traceback" in args


def run_guarded(group: click.Group, args: list[str]) -> int:
    """Run `group` on `args`; translate every failure to a message on stderr and an exit code."""
    try:
        with visible_output():
            result = group.main(args=args, prog_name="mlcode", standalone_mode=False)
    except errors.MlcodeError as exc:
        if _wants_traceback(args):
            raise
        click.secho(f"Error: {visible(exc.render())}", err=True, fg="red" if _color() else None)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        return errors.EXIT_INTERRUPTED
    except click.ClickException as exc:
        with visible_output():
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
            f"Internal error (a bug in mlcode): {type(exc).__name__}: {visible(str(exc))}\n"
            "Run again with --traceback for details, and please report it.",
            err=True,
        )
        return errors.EXIT_BUG
    return result if isinstance(result, int) and not isinstance(result, bool) else errors.EXIT_OK


def _color() -> bool:
    return sys.stderr.isatty()
