"""CLI behaviour: lazy commands, -C, exit codes, the error boundary."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from mlcode import __version__
from mlcode.cli import COMMANDS, cli
from mlcode.cli.boundary import run_guarded


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_help_lists_only_registered_commands() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    listed = {
        line.split()[0] for line in result.output.split("Commands:")[1].splitlines() if line.strip()
    }
    assert listed == set(COMMANDS)


def test_unknown_command_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_guarded(cli, ["frobnicate"]) == 2


def test_dash_c_acts_in_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_guarded(cli, ["-C", str(tmp_path), "init"]) == 0
    assert (tmp_path / "ml.yaml").is_file()
    assert run_guarded(cli, ["-C", str(tmp_path), "validate"]) == 0
    assert "is valid" in capsys.readouterr().out


def test_dash_c_missing_directory_is_usage_error(tmp_path: Path) -> None:
    assert run_guarded(cli, ["-C", str(tmp_path / "nope"), "validate"]) == 2


def test_user_error_exit_3_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ml.yaml").write_text("version: 1\nproject: x\n")
    assert run_guarded(cli, ["-C", str(tmp_path), "init"]) == 3
    err = capsys.readouterr().err
    assert "refusing to overwrite ml.yaml" in err
    assert "Traceback" not in err
    assert (tmp_path / "ml.yaml").read_text() == "version: 1\nproject: x\n"


def test_internal_error_is_exit_4_and_traceback_flag_reraises(
    capsys: pytest.CaptureFixture[str],
) -> None:
    @click.group()
    @click.option("--traceback", is_flag=True, hidden=True)
    def group(traceback: bool) -> None:
        pass

    @group.command()
    def boom() -> None:
        raise RuntimeError("kaboom")

    assert run_guarded(group, ["boom"]) == 4
    assert "kaboom" in capsys.readouterr().err
    with pytest.raises(RuntimeError):
        run_guarded(group, ["--traceback", "boom"])


def test_keyboard_interrupt_is_130() -> None:
    @click.command()
    def stop() -> None:
        raise KeyboardInterrupt

    group = click.Group(commands={"stop": stop})
    assert run_guarded(group, ["stop"]) == 130


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]0;pwned\x07", "\\x1b]0;pwned\\x07"),
        ("\x1b[2J", "\\x1b[2J"),
        ("a\rb\x00c\x7f\x9b", "a\\x0db\\x00c\\x7f\\x9b"),
        ("abc\u202edef\u2066", "abc\\u202edef\\u2066"),
        ("line\n\tindented → ok é", "line\n\tindented → ok é"),
    ],
)
def test_visible_escapes_terminal_controls(raw: str, shown: str) -> None:
    from mlcode.cli.boundary import visible

    assert visible(raw) == shown


def test_errors_and_output_show_controls_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    from mlcode.errors import UserError

    @click.group()
    def group() -> None:
        pass

    @group.command()
    def talk() -> None:
        click.echo("value \x1b]0;pwned\x07 here")
        raise UserError("bad value '\x1b[2J\u202e'")

    assert run_guarded(group, ["talk"]) == 3
    out, err = capsys.readouterr()
    assert out == "value \\x1b]0;pwned\\x07 here\n"
    assert "bad value '\\x1b[2J\\u202e'" in err
    assert "\x1b" not in out + err


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1MB", 1_000_000),
        ("500KB", 500_000),
        ("500kb", 500_000),
        ("1.5MiB", 1_572_864),
        (" 2 MB ", 2_000_000),
        ("2000000", 2_000_000),
        ("1", 1),
        ("100GB", 100 * 1000**3),
    ],
)
def test_check_max_file_size_parses(text: str, size: int) -> None:
    from mlcode.cli.check import parse_size

    assert parse_size(text) == size


@pytest.mark.parametrize(
    "text",
    [
        "0",
        "0KB",
        "0.0001",
        "-1",
        "-5MB",
        "nan",
        "NaN",
        "inf",
        "-inf",
        "1e400",
        "1e3",
        "101GB",
        "99999999999999999999",
        "garbage",
        "",
        "1XB",
        "1..5MB",
        "0x10",
        "1_000",
    ],
)
def test_check_max_file_size_refuses_nonsense(tmp_path: Path, text: str) -> None:
    """A usage error naming the option, before anything else is looked at (not even the repo)."""
    result = CliRunner().invoke(cli, ["-C", str(tmp_path), "check", f"--max-file-size={text}"])
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--max-file-size'" in result.output
    assert repr(text) in result.output
    assert "Traceback" not in result.output
