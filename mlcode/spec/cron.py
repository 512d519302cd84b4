"""Validation of five-field cron expressions, as GitHub Actions and GitLab schedules accept them."""

from __future__ import annotations

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    (
        "month",
        1,
        12,
        {m: i + 1 for i, m in enumerate(_MONTHS)},
    ),
    ("day of week", 0, 6, {d: i for i, d in enumerate(_DAYS)}),
)


def cron_error(expr: str) -> str | None:
    """None when `expr` is a valid 5-field cron expression, else what is wrong with it."""
    parts = expr.split()
    if expr.strip().startswith("@"):
        return "macros such as @daily are not accepted by CI schedulers; write the 5 fields"
    if len(parts) != 5:
        return (
            f"expected 5 space-separated fields (minute hour day-of-month month day-of-week), "
            f"found {len(parts)}"
        )
    for text, (name, lo, hi, names) in zip(parts, _FIELDS, strict=True):
        err = _field_error(text, lo, hi, names)
        if err:
            return f"{name} field {text!r}: {err}"
    return None


def _value(token: str, lo: int, hi: int, names: dict[str, int]) -> int | str:
    low = token.lower()
    if low in names:
        return names[low]
    if not token.isdigit():
        return f"{token!r} is not a number"
    value = int(token)
    if hi == 6 and value == 7:  # Sunday as 7 is accepted by cron
        return 0
    if not lo <= value <= hi:
        return f"{value} is outside {lo}-{hi}"
    return value


def _field_error(text: str, lo: int, hi: int, names: dict[str, int]) -> str | None:
    for item in text.split(","):
        if not item:
            return "empty list item"
        base, _, step = item.partition("/")
        if _ and (not step.isdigit() or int(step) == 0):
            return f"step {step!r} must be a positive number"
        if base == "*":
            continue
        lo_s, dash, hi_s = base.partition("-")
        first = _value(lo_s, lo, hi, names)
        if isinstance(first, str):
            return first
        if dash:
            last = _value(hi_s, lo, hi, names)
            if isinstance(last, str):
                return last
            if last < first:
                return f"range {base!r} runs backwards"
    return None
