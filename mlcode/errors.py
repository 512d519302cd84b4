"""The one exception hierarchy of mlcode and the exit code each kind maps to.

The core raises these and never prints; the CLI boundary (`mlcode.cli.boundary`) turns them into a
message and an exit code. Exit codes are part of the public interface (see README, "Exit codes").
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_USER_ERROR = 3
EXIT_BUG = 4
EXIT_INTERRUPTED = 130


class MlcodeError(Exception):
    """Base of every error mlcode raises on purpose."""

    exit_code: int = EXIT_USER_ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        """The one-paragraph text a person reads."""
        if self.hint:
            return f"{self.message}\n{self.hint}"
        return self.message


class UserError(MlcodeError):
    """Something the user can fix: bad input, missing file, dead remote, dirty tree."""

    exit_code = EXIT_USER_ERROR


class CheckFailed(MlcodeError):
    """A check or gate said no (not a malfunction)."""

    exit_code = EXIT_CHECK_FAILED


class UsageError(MlcodeError):
    """The command line itself is wrong."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True)
class Location:
    """A place in a source file; line and column are 1-based, 0 when unknown."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


@dataclass(frozen=True)
class Problem:
    """One located problem in a file: where, which field, what is wrong."""

    location: Location
    field: str
    message: str

    def __str__(self) -> str:
        where = str(self.location)
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"

    def to_json(self) -> dict[str, object]:
        """A plain dict for `--json` output."""
        return {
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "field": self.field,
            "message": self.message,
        }


class SpecError(UserError):
    """A file (ml.yaml or a stack) has one or more located problems."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = len(problems)
        noun = "problem" if count == 1 else "problems"
        head = f"{problems[0].location.file}: {count} {noun}" if problems else "invalid file"
        super().__init__(head + "\n" + "\n".join(f"  {p}" for p in problems))
