"""`mlcode check`: the pre-commit hook. ml.yaml valid, generated files in sync, no large file
staged into git. Fast: when ml.yaml and the stack are unchanged since the last apply and every
generated file still has the hash the manifest recorded, nothing is parsed or compiled.
"""

from __future__ import annotations

import click

from mlcode.cli.boundary import settings
from mlcode.errors import CheckFailed


def _parse_size(text: str) -> int:
    units = {"": 1, "B": 1, "K": 1000, "KB": 1000, "M": 1000**2, "MB": 1000**2, "G": 1000**3}
    units.update({"KIB": 1024, "MIB": 1024**2, "GIB": 1024**3, "GB": 1000**3})
    raw = text.strip().upper()
    num = raw.rstrip("KMGIB")
    unit = raw[len(num) :]
    try:
        return int(float(num) * units[unit])
    except (ValueError, KeyError):
        raise click.BadParameter(f"{text!r} is not a size like 500KB or 1MB") from None


@click.command("check")
@click.option(
    "--max-file-size",
    default="1MB",
    show_default=True,
    help="Largest file allowed to be staged into git (data belongs in DVC).",
)
@click.pass_context
def command(ctx: click.Context, max_file_size: str) -> None:
    """Pre-commit check: ml.yaml valid, generated files in sync, no large file staged in git."""
    from mlcode.checks import run_check

    limit = _parse_size(max_file_size)
    report = run_check(settings(ctx).cwd, limit)
    if report.problems:
        raise CheckFailed("mlcode check failed:\n" + "\n".join(f"  - {p}" for p in report.problems))
    click.echo(f"mlcode check: ok ({report.mode}).")
