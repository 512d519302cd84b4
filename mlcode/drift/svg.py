"""One drift-report column as an SVG chart, shared by the HTML and the Markdown reports (pure).

A chart is labelled on its own (column name, verdict, the statistic and the threshold it is compared
to, a legend with each side's row count), so the same picture reads inline in the HTML page and as an
image file linked from Markdown. Numeric columns get a histogram (reference and current side by side
in each bin, heights as shares of each side's rows, so sides of different sizes compare); categorical
columns get horizontal frequency bars. A drifted column's current bars are red, otherwise blue; the
reference is grey.

Every string taken from the data (column names, category values) is escaped, and characters XML
does not allow are replaced, so no value can inject markup or break the image. The chart loads
nothing: no fonts, no images, no scripts; `standalone=True` adds the XML namespace an `.svg` file
needs (inline SVG in HTML does not).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

REFERENCE_COLOR = "#94a3b8"
CURRENT_COLOR = "#2563eb"
DRIFTED_COLOR = "#dc2626"
TEXT_COLOR = "#0f172a"
MUTED_COLOR = "#64748b"
GRID_COLOR = "#e2e8f0"
OK_COLOR = "#15803d"
FONT = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica Neue, Arial, sans-serif"

WIDTH = 560
_TOP = 84  # header, subtitle and legend above the plot area
_LEFT = 52
_RIGHT = 16
_NAME_CHARS = 44
_CATEGORY_CHARS = 22
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

METHOD_LABELS = {
    "ks": "K-S p-value",
    "chi2": "chi-squared p-value",
    "z": "Z-test p-value",
    "wasserstein": "Wasserstein distance (normed)",
    "jensenshannon": "Jensen-Shannon distance",
    "psi": "PSI",
    "all_missing": "share missing",
}


def esc(text: object) -> str:
    """`text` safe inside XML/HTML text and quoted attributes (invalid characters replaced)."""
    return html.escape(_XML_INVALID.sub("\ufffd", str(text)), quote=True)


def fmt(value: object) -> str:
    """A statistic or threshold for people: 3 significant digits, scientific when tiny."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "–"
    if not math.isfinite(value):
        return str(value)
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.2e}"
    return f"{value:.3g}"


def rule(method: str, threshold: object) -> str:
    """When a column drifts, e.g. "drifts when p ≤ 0.05" or "drifts when ≥ 0.1"."""
    if method == "ks":
        return f"drifts when p ≤ {fmt(threshold)}"
    if method in ("chi2", "z"):
        return f"drifts when p < {fmt(threshold)}"
    return f"drifts when ≥ {fmt(threshold)}"


@dataclass(frozen=True)
class _Column:
    name: str
    method: str
    statistic: object
    threshold: object
    drifted: bool
    n_reference: int
    n_current: int

    @property
    def color(self) -> str:
        return DRIFTED_COLOR if self.drifted else CURRENT_COLOR


def column_chart(name: str, column: Mapping[str, object], *, standalone: bool = False) -> str:
    """The SVG chart of one column of a drift report (`column` as in the report JSON)."""
    col = _Column(
        name=name,
        method=str(column.get("method", "")),
        statistic=column.get("statistic"),
        threshold=column.get("threshold"),
        drifted=column.get("drifted") is True,
        n_reference=_int(column.get("n_reference")),
        n_current=_int(column.get("n_current")),
    )
    plot = column.get("plot")
    body: list[str]
    if isinstance(plot, Mapping) and plot.get("type") == "histogram" and plot.get("edges"):
        height, body = _histogram(col, plot)
    elif isinstance(plot, Mapping) and plot.get("type") == "categories":
        height, body = _categories(col, plot)
    else:
        height, body = _TOP + 40, [_text(_LEFT, _TOP + 20, "no plot data", MUTED_COLOR, 12)]
    size = f'width="{WIDTH}" height="{height}" ' if standalone else ""
    namespace = 'xmlns="http://www.w3.org/2000/svg" ' if standalone else ""
    label = f"{name}: {'drifted' if col.drifted else 'no drift'}"
    return (
        f'<svg {namespace}{size}viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{esc(label)}" font-family="{FONT}" class="chart">'
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>'
        + "".join(_header(col))
        + "".join(body)
        + "</svg>"
    )


def _header(col: _Column) -> list[str]:
    shown = col.name if len(col.name) <= _NAME_CHARS else col.name[: _NAME_CHARS - 1] + "…"
    badge, badge_color = ("DRIFTED", DRIFTED_COLOR) if col.drifted else ("no drift", OK_COLOR)
    badge_width = 74
    label = METHOD_LABELS.get(col.method, col.method)
    subtitle = f"{label} {fmt(col.statistic)} · {rule(col.method, col.threshold)}"
    return [
        f'<text x="12" y="24" font-size="16" font-weight="600" fill="{TEXT_COLOR}">'
        f"<title>{esc(col.name)}</title>{esc(shown)}</text>",
        f'<rect x="{WIDTH - 12 - badge_width}" y="9" width="{badge_width}" height="20" rx="10" '
        f'fill="{badge_color}"/>',
        f'<text x="{WIDTH - 12 - badge_width / 2}" y="23" font-size="11" font-weight="700" '
        f'fill="#ffffff" text-anchor="middle" letter-spacing="0.04em">{badge}</text>',
        _text(12, 46, subtitle, TEXT_COLOR if col.drifted else MUTED_COLOR, 12.5),
        f'<rect x="12" y="60" width="11" height="11" fill="{REFERENCE_COLOR}"/>',
        _text(28, 70, f"reference ({col.n_reference:,} rows)", MUTED_COLOR, 11.5),
        f'<rect x="200" y="60" width="11" height="11" fill="{col.color}"/>',
        _text(216, 70, f"current ({col.n_current:,} rows)", MUTED_COLOR, 11.5),
    ]


def _histogram(col: _Column, plot: Mapping[str, object]) -> tuple[int, list[str]]:
    edges = _floats(plot.get("edges"))
    ref = _ints(plot.get("reference"))
    cur = _ints(plot.get("current"))
    outside = plot.get("outside")
    outside = outside if isinstance(outside, Mapping) else {}
    bins = min(len(edges) - 1, len(ref), len(cur))
    note = _outside_note(outside)
    if plot.get("estimated") is True:  # the engine's sketched path (files.sketch_plot)
        note = "; ".join(filter(None, ["counts from quantile sketches (approximate)", note]))
    height = _TOP + (200 if note else 182)
    top, bottom = _TOP + 8, _TOP + 156
    left, right = _LEFT, WIDTH - _RIGHT
    n_ref = sum(ref) + _outside_total(outside, "reference")
    n_cur = sum(cur) + _outside_total(outside, "current")
    ref_share = [c / n_ref if n_ref else 0.0 for c in ref[:bins]]
    cur_share = [c / n_cur if n_cur else 0.0 for c in cur[:bins]]
    peak = max([*ref_share, *cur_share, 1e-9])
    y_ticks = _nice_ticks(0.0, peak, 4)
    y_max = max(y_ticks[-1], peak)
    lo, hi = edges[0], edges[bins] if bins >= 1 else edges[0] + 1

    def x(value: float) -> float:
        return left + (value - lo) / (hi - lo) * (right - left) if hi > lo else left

    def y(share: float) -> float:
        return bottom - share / y_max * (bottom - top)

    out = _y_grid(y_ticks, y, left, right, percent=True)
    for i in range(bins):
        x0, x1 = x(edges[i]), x(edges[i + 1])
        gap = min(1.5, (x1 - x0) * 0.12)
        mid = (x0 + x1) / 2
        for share, a, b, color in (
            (ref_share[i], x0 + gap, mid, REFERENCE_COLOR),
            (cur_share[i], mid, x1 - gap, col.color),
        ):
            if share > 0:
                out.append(_bar(a, y(share), b - a, bottom - y(share), color))
    out.append(
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{MUTED_COLOR}"/>'
    )
    for tick in _nice_ticks(lo, hi, 6):
        if lo <= tick <= hi:
            out.append(
                f'<line x1="{x(tick):.1f}" y1="{bottom}" x2="{x(tick):.1f}" y2="{bottom + 4}" '
                f'stroke="{MUTED_COLOR}"/>'
            )
            out.append(
                _text(x(tick), bottom + 17, _tick_label(tick, hi - lo), MUTED_COLOR, 11, "middle")
            )
    if note:
        out.append(_text(left, height - 8, note, MUTED_COLOR, 11))
    return height, out


def _categories(col: _Column, plot: Mapping[str, object]) -> tuple[int, list[str]]:
    labels = [str(v) for v in _list(plot.get("categories"))]
    ref = _ints(plot.get("reference"))
    cur = _ints(plot.get("current"))
    other = plot.get("other")
    other = other if isinstance(other, Mapping) else {}
    rows = [
        (label, ref[i] if i < len(ref) else 0, cur[i] if i < len(cur) else 0)
        for i, label in enumerate(labels)
    ]
    other_values = _int(other.get("values"))
    if other_values:
        rows.append(
            (
                f"other ({other_values:,} values)",
                _int(other.get("reference")),
                _int(other.get("current")),
            )
        )
    n_ref = sum(r for _, r, _ in rows) or 1
    n_cur = sum(c for _, _, c in rows) or 1
    row_height = 28
    top = _TOP + 12
    height = top + row_height * max(len(rows), 1) + 30
    left, right = 176, WIDTH - 58
    peak = max([r / n_ref for _, r, _ in rows] + [c / n_cur for _, _, c in rows] + [1e-9])
    ticks = _nice_ticks(0.0, peak, 4)
    x_max = max(ticks[-1], peak)

    def x(share: float) -> float:
        return left + share / x_max * (right - left)

    bottom = top + row_height * len(rows)
    out: list[str] = []
    for tick in ticks:
        out.append(
            f'<line x1="{x(tick):.1f}" y1="{top - 4}" x2="{x(tick):.1f}" y2="{bottom}" '
            f'stroke="{GRID_COLOR}"/>'
        )
        out.append(_text(x(tick), bottom + 16, _percent(tick, x_max), MUTED_COLOR, 11, "middle"))
    for i, (label, r, c) in enumerate(rows):
        y0 = top + i * row_height
        shown = label if len(label) <= _CATEGORY_CHARS else label[: _CATEGORY_CHARS - 1] + "…"
        italic = ' font-style="italic"' if other_values and i == len(rows) - 1 else ""
        out.append(
            f'<text x="{left - 8}" y="{y0 + 15}" font-size="12" fill="{TEXT_COLOR}" '
            f'text-anchor="end"{italic}><title>{esc(label)}</title>{esc(shown)}</text>'
        )
        for share, dy, color in ((r / n_ref, 2, REFERENCE_COLOR), (c / n_cur, 12, col.color)):
            if share > 0:
                out.append(_bar(left, y0 + dy, x(share) - left, 9, color))
            out.append(_text(x(share) + 4, y0 + dy + 8.5, f"{share * 100:.1f}%", MUTED_COLOR, 9.5))
    out.append(
        f'<line x1="{left}" y1="{top - 4}" x2="{left}" y2="{bottom}" stroke="{MUTED_COLOR}"/>'
    )
    return height, out


def _y_grid(
    ticks: Sequence[float], y: Callable[[float], float], left: float, right: float, *, percent: bool
) -> list[str]:
    top = ticks[-1] if ticks else 1.0
    out = []
    for tick in ticks:
        out.append(
            f'<line x1="{left}" y1="{y(tick):.1f}" x2="{right}" y2="{y(tick):.1f}" '
            f'stroke="{GRID_COLOR}"/>'
        )
        label = _percent(tick, top) if percent else fmt(tick)
        out.append(_text(left - 6, y(tick) + 4, label, MUTED_COLOR, 11, "end"))
    return out


def _bar(x: float, y: float, width: float, height: float, color: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0.8):.1f}" '
        f'height="{max(height, 0.8):.1f}" fill="{color}" shape-rendering="crispEdges"/>'
    )


def _text(x: float, y: float, text: str, color: str, size: float, anchor: str = "start") -> str:
    align = f' text-anchor="{anchor}"' if anchor != "start" else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{color}"{align}>{esc(text)}</text>'
    )


def _outside_note(outside: Mapping[str, object]) -> str:
    parts = []
    for side in ("reference", "current"):
        counts = outside.get(side)
        if isinstance(counts, Mapping):
            below, above = _int(counts.get("below")), _int(counts.get("above"))
            if below or above:
                counted = [
                    f"{n:,} {where}" for n, where in ((below, "below"), (above, "above")) if n
                ]
                parts.append(f"{side} {' and '.join(counted)}")
    return ("not drawn, far outside the bulk: " + "; ".join(parts)) if parts else ""


def _outside_total(outside: Mapping[str, object], side: str) -> int:
    counts = outside.get(side)
    if not isinstance(counts, Mapping):
        return 0
    return _int(counts.get("below")) + _int(counts.get("above"))


def _nice_ticks(lo: float, hi: float, count: int) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) covering [lo, hi]."""
    span = hi - lo
    if not math.isfinite(span) or span <= 0:
        return [lo]
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks: list[float] = []
    value = first
    while value <= hi + step * 1e-9 and len(ticks) < 4 * count:
        ticks.append(round(value, 12))
        value += step
    if ticks and ticks[-1] < hi - step * 1e-9 and lo == 0:  # a y axis ends at or above the peak
        ticks.append(round(ticks[-1] + step, 12))
    return ticks or [lo]


def _tick_label(value: float, span: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e5 or abs(value) < 1e-3:
        return f"{value:.3g}"
    decimals = max(0, 2 - math.floor(math.log10(span))) if span > 0 else 2
    return f"{value:.{min(decimals, 6)}f}".rstrip("0").rstrip(".") if decimals else f"{value:.0f}"


def _percent(share: float, top: float) -> str:
    decimals = 0 if top >= 0.05 else 1 if top >= 0.005 else 2
    return f"{share * 100:.{decimals}f}%"


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []


def _floats(value: object) -> list[float]:
    return [
        float(v) for v in _list(value) if isinstance(v, int | float) and not isinstance(v, bool)
    ]


def _ints(value: object) -> list[int]:
    return [_int(v) for v in _list(value)]


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0
