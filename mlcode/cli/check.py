"""`mlcode check`: the pre-commit hook. ml.yaml valid, generated files in sync, no large file
staged into git. Fast: when ml.yaml and the stack are unchanged since the last apply and every
generated file still has the hash the manifest recorded, nothing is parsed or compiled.
"""

from __future__ import annotations

import click

from mlcode.cli import options
from mlcode.errors import CheckFailed

_UNITS = {
    "": 1,
    "B": 1,
    "K": 1000,
    "KB": 1000,
    "M": 1000**2,
    "MB": 1000**2,
    "G": 1000**3,
    "GB": 1000**3,
    "KIB": 1024,
    "MIB": 1024**2,
    "GIB": 1024**3,
}
MAX_LIMIT = 100 * 1000**3  # no single file in a git commit is meant to be larger than this
_SIZE = r"(\d{1,30}(?:\.\d{1,9})?)\s*([A-Za-z]*)"


def parse_size(text: str) -> int:
    """Bytes from a size like `500KB`, `1MB`, `1.5MiB` or `2000000`; ValueError naming the
    accepted form for anything else (negative, zero, NaN, infinity, over 100GB, garbage)."""
    import re
    from decimal import Decimal

    m = re.fullmatch(_SIZE, text.strip())
    unit = m.group(2).upper() if m else ""
    if m is None or unit not in _UNITS:
        raise ValueError(
            f"{text!r} is not a size: give a positive number with an optional unit "
            "(B, KB, MB, GB, KiB, MiB, GiB), like 500KB or 1MB"
        )
    size = int(Decimal(m.group(1)) * _UNITS[unit])
    if size < 1 or size > MAX_LIMIT:
        raise ValueError(f"{text!r} is out of range: the limit must be between 1 byte and 100GB")
    return size


def _size_option(ctx: click.Context, param: click.Parameter, value: str) -> int:
    try:
        return parse_size(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


@click.command("check")
@click.option(
    "--max-file-size",
    default="1MB",
    show_default=True,
    callback=_size_option,
    help="Largest file allowed to be staged into git (data belongs in DVC), 1 byte to 100GB.",
)
@click.pass_context
def command(ctx: click.Context, max_file_size: int) -> None:
    """Pre-commit check: ml.yaml valid, generated files in sync, no large file staged in git."""
    from mlcode.project.check import run_check

    report = run_check(options.root(ctx), max_file_size)
    if report.problems:
        raise CheckFailed("mlcode check failed:\n" + "\n".join(f"  - {p}" for p in report.problems))
    click.echo(f"mlcode check: ok ({report.mode}).")
