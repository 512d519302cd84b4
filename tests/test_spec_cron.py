"""Five-field cron expressions as CI schedulers accept them."""

from __future__ import annotations

import pytest

from mlcode.spec.cron import cron_error


@pytest.mark.parametrize(
    "expr",
    [
        "0 3 * * 1",
        "*/15 * * * *",
        "0 0 1 1 *",
        "59 23 31 12 6",
        "0 0 * * 7",
        "0 9-17/2 * * mon-fri",
        "0,30 8 1,15 jan,jul SUN",
        "  0   3 * * 1 ",
    ],
)
def test_valid(expr: str) -> None:
    assert cron_error(expr) is None


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("", "expected 5 space-separated fields"),
        ("0 3 * *", "found 4"),
        ("0 3 * * * *", "found 6"),
        ("@daily", "macros such as @daily"),
        ("60 * * * *", "minute field '60': 60 is outside 0-59"),
        ("0 24 * * *", "hour field '24'"),
        ("0 0 0 * *", "day of month field '0': 0 is outside 1-31"),
        ("0 0 32 * *", "32 is outside 1-31"),
        ("0 0 * 13 *", "month field '13'"),
        ("0 0 * * 8", "day of week field '8'"),
        ("*/0 * * * *", "step '0' must be a positive number"),
        ("*/x * * * *", "step 'x'"),
        ("0 5-2 * * *", "range '5-2' runs backwards"),
        ("0 0 * foo *", "'foo' is not a number"),
        ("0,,5 * * * *", "empty list item"),
        ("-1 * * * *", "is not a number"),
        ("0 0 * * mon-sun", "runs backwards"),
    ],
)
def test_invalid(expr: str, fragment: str) -> None:
    err = cron_error(expr)
    assert err is not None
    assert fragment in err
