"""Each gate rule's verdict from numbers already read (pure: no files, no git).

- `min` / `max`: the metric must be at least / at most the bound.
- `vs_champion`: the bound comes from the champion's value. For a metric where higher is better,
  `min_improvement: a` asks `value >= champion + a` and `max_regression: a` asks
  `value >= champion - a`; where lower is better (`LOWER_IS_BETTER`: errors and losses) the signs
  turn: `value <= champion - a` and `value <= champion + a`. With `relative: true` the amount is
  `a * |champion|`.
- drift: the share of drifted columns must stay below `max_drifted_share` (the drift step's rule:
  the gate fails at `share >= max_drifted_share`).

Bounds are inclusive and compared with a tolerance of 1e-9 relative (1e-12 absolute), so a value
exactly on the bound passes although `0.88 - 0.02` is not exactly `0.86` in binary floating point.

A value that could not be read is a `Missing` with the reason: the rule fails closed, unless the
model's `fail_on_missing` is false, and then it passes, marked not evaluated, with the same reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from mlcode.gates.report import GateRow

# Metrics where a smaller value is the better model (the built-in ones, and common own names).
LOWER_IS_BETTER = frozenset({"rmse", "mae", "mse", "mape", "log_loss", "brier", "brier_score"})
_LOWER_HINTS = ("loss", "error")
_LOWER_SUFFIXES = ("_rmse", "_mae", "_mse", "_mape")
_REL_TOL = 1e-9
_ABS_TOL = 1e-12


@dataclass(frozen=True)
class Missing:
    """A value that could not be read, and why (names the file and the field)."""

    reason: str


Reading = float | Missing


@dataclass(frozen=True)
class ChampionRule:
    """A `vs_champion` rule: exactly one of the two amounts is set."""

    min_improvement: float | None = None
    max_regression: float | None = None
    relative: bool = False


@dataclass(frozen=True)
class DriftReading:
    """The drift step's result: the share and count of drifted columns, and which (when known)."""

    drifted_share: float
    drifted_columns: int
    columns: int
    names: tuple[str, ...] | None


def lower_is_better(metric: str) -> bool:
    """True for metrics where smaller is better: errors and losses (see `LOWER_IS_BETTER`)."""
    name = metric.lower()
    return (
        name in LOWER_IS_BETTER
        or any(h in name for h in _LOWER_HINTS)
        or name.endswith(_LOWER_SUFFIXES)
    )


def fmt(value: float) -> str:
    """A number as the table shows it (6 significant digits)."""
    return f"{value:.6g}"


def at_least(value: float, bound: float) -> bool:
    """`value >= bound`, counting a value within float rounding of the bound as on it."""
    return value >= bound or math.isclose(value, bound, rel_tol=_REL_TOL, abs_tol=_ABS_TOL)


def at_most(value: float, bound: float) -> bool:
    """`value <= bound`, counting a value within float rounding of the bound as on it."""
    return value <= bound or math.isclose(value, bound, rel_tol=_REL_TOL, abs_tol=_ABS_TOL)


def _not_evaluated(
    model: str,
    gate: Literal["metric", "vs_champion", "drift"],
    rule: str,
    expected: str,
    why: str,
    fail_on_missing: bool,
    *,
    metric: str | None,
    actual: str = "missing",
    champion: str | None = None,
    value: float | None = None,
    champion_value: float | None = None,
) -> GateRow:
    if fail_on_missing:
        return GateRow(
            model,
            gate,
            rule,
            expected,
            actual,
            champion,
            "fail",
            f"{why} (fail closed)",
            metric=metric,
            value=value,
            champion_value=champion_value,
            evaluated=False,
        )
    return GateRow(
        model,
        gate,
        rule,
        expected,
        actual,
        champion,
        "pass",
        f"not evaluated: {why}; passes because fail_on_missing is false",
        metric=metric,
        value=value,
        champion_value=champion_value,
        evaluated=False,
    )


def threshold_row(
    model: str,
    metric: str,
    kind: Literal["min", "max"],
    bound: float,
    reading: Reading,
    *,
    fail_on_missing: bool = True,
) -> GateRow:
    """The row of a `min` or `max` rule."""
    sign = ">=" if kind == "min" else "<="
    rule = f"{metric} {sign} {fmt(bound)}"
    expected = f"{sign} {fmt(bound)}"
    if isinstance(reading, Missing):
        return _not_evaluated(
            model, "metric", rule, expected, reading.reason, fail_on_missing, metric=metric
        )
    ok = at_least(reading, bound) if kind == "min" else at_most(reading, bound)
    word = "at least" if kind == "min" else "at most"
    reason = (
        f"{metric} {fmt(reading)} is {word} {fmt(bound)}"
        if ok
        else f"{metric} {fmt(reading)} is {'below' if kind == 'min' else 'above'} {fmt(bound)}"
    )
    return GateRow(
        model,
        "metric",
        rule,
        expected,
        fmt(reading),
        None,
        "pass" if ok else "fail",
        reason,
        metric=metric,
        value=reading,
        bound=bound,
    )


def champion_rule_text(metric: str, rule: ChampionRule) -> str:
    """The rule as the table shows it, e.g. "accuracy regression vs champion <= 0.02"."""
    if rule.min_improvement is not None:
        what, sign, amount = "improvement", ">=", rule.min_improvement
    else:
        what, sign, amount = "regression", "<=", float(rule.max_regression or 0.0)
    shown = f"{fmt(amount * 100)}% of the champion" if rule.relative else fmt(amount)
    return f"{metric} {what} vs champion {sign} {shown}"


def champion_bound(metric: str, rule: ChampionRule, champion: float) -> tuple[float, str]:
    """The bound the candidate must meet, and its comparison (">=" or "<=")."""
    lower = lower_is_better(metric)
    if rule.min_improvement is not None:
        amount, toward_better = rule.min_improvement, True
    else:
        amount, toward_better = float(rule.max_regression or 0.0), False
    if rule.relative:
        amount *= abs(champion)
    # Higher is better: improvement adds, regression allowance subtracts; lower is better: flip.
    step = amount if toward_better else -amount
    if lower:
        return champion - step, "<="
    return champion + step, ">="


def champion_row(
    model: str,
    metric: str,
    rule: ChampionRule,
    reading: Reading,
    champion: Reading | None,
    *,
    require_champion: bool = False,
    fail_on_missing: bool = True,
    interval: tuple[float, float] | None = None,
) -> GateRow:
    """The row of a `vs_champion` rule. `champion` None: there is no champion yet."""
    text = champion_rule_text(metric, rule)
    if champion is None:
        if require_champion:
            return GateRow(
                model,
                "vs_champion",
                text,
                "a champion",
                _shown(reading),
                None,
                "fail",
                "no champion yet, and promotion.require_champion is true",
                metric=metric,
                value=_number(reading),
            )
        return GateRow(
            model,
            "vs_champion",
            text,
            "-",
            _shown(reading),
            None,
            "pass",
            "no champion yet: nothing to compare with (promotion.require_champion is false)",
            metric=metric,
            value=_number(reading),
            evaluated=False,
        )
    if isinstance(reading, Missing):
        return _not_evaluated(
            model,
            "vs_champion",
            text,
            "-",
            reading.reason,
            fail_on_missing,
            metric=metric,
            champion=_shown(champion),
            champion_value=_number(champion),
        )
    if isinstance(champion, Missing):
        return _not_evaluated(
            model,
            "vs_champion",
            text,
            "-",
            f"champion: {champion.reason}",
            fail_on_missing,
            metric=metric,
            actual=fmt(reading),
            champion="unreadable",
            value=reading,
        )
    bound, sign = champion_bound(metric, rule, champion)
    ok = at_least(reading, bound) if sign == ">=" else at_most(reading, bound)
    delta = reading - champion
    better = -delta if lower_is_better(metric) else delta
    change = (
        f"{'better' if better > 0 else 'worse'} than the champion by {fmt(abs(delta))}"
        if delta
        else "equal to the champion"
    )
    needed = f"needs {sign} {fmt(bound)}"
    reason = f"{metric} {fmt(reading)} is {change} ({fmt(champion)}); {needed}"
    return GateRow(
        model,
        "vs_champion",
        text,
        f"{sign} {fmt(bound)}",
        f"{fmt(reading)} ({delta:+.6g})",
        fmt(champion),
        "pass" if ok else "fail",
        reason,
        metric=metric,
        value=reading,
        bound=bound,
        champion_value=champion,
        interval=interval,
    )


def drift_row(
    model: str,
    max_drifted_share: float,
    reading: DriftReading | Missing,
    *,
    fail_on_missing: bool = True,
) -> GateRow:
    """The row of the drift gate: passes when drifted_share < max_drifted_share."""
    rule = f"drifted column share < {fmt(max_drifted_share)}"
    expected = f"< {fmt(max_drifted_share)}"
    if isinstance(reading, Missing):
        return _not_evaluated(
            model, "drift", rule, expected, reading.reason, fail_on_missing, metric=None
        )
    ok = reading.drifted_share < max_drifted_share
    actual = f"{fmt(reading.drifted_share)} ({reading.drifted_columns}/{reading.columns} columns)"
    if reading.names is None:
        named = "the drift report does not name the columns"
    elif reading.names:
        named = "drifted: " + ", ".join(reading.names)
    else:
        named = "no column drifted"
    reason = named if ok else f"too many columns drifted; {named}"
    return GateRow(
        model,
        "drift",
        rule,
        expected,
        actual,
        None,
        "pass" if ok else "fail",
        reason,
        value=reading.drifted_share,
        bound=max_drifted_share,
    )


def _number(reading: Reading | None) -> float | None:
    return reading if isinstance(reading, float) else None


def _shown(reading: Reading | None) -> str:
    return fmt(reading) if isinstance(reading, float) else "missing"
