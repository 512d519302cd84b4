"""A drift report as Markdown plus one SVG chart per column beside it (the I/O edge of the report).

`write_markdown(report, out_md)` writes `out_md` (summary, table, charts linked relatively) and the
charts as `<stem>-plots/NNN-<column>.svg` (`NNN` keeps names unique, the column part is cut to safe
characters). This is what a promotion pull request embeds, so the text stays under `MAX_CHARS`
(GitHub's pull-request body holds 65,536 characters; the rest of the body needs room too): past it
the table is cut, drifted columns first, with a note saying how many rows are left out and where the
full report is. At most `MAX_CHARTS` charts are linked. Charts left over from an earlier run in the
plots folder are removed, so the folder holds exactly what the Markdown links.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from mlcode.adapters.fs import atomic_write
from mlcode.drift import reportview
from mlcode.drift.svg import column_chart

MAX_CHARS = 40_000
MAX_CHARTS = 30
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")
_MD_CHARS = 80  # a value longer than this is cut in the Markdown (the JSON report has it whole)
_CHART_NAME = re.compile(r"^\d{3}-[A-Za-z0-9_.-]*\.svg$")


def write_markdown(
    report: Mapping[str, object], out_md: Path, *, max_chars: int = MAX_CHARS
) -> list[Path]:
    """Write `out_md` and its charts; return every file written (the Markdown file first)."""
    rows = reportview.rows(report)
    plots_dir = out_md.parent / f"{out_md.stem}-plots"
    charted = rows[:MAX_CHARTS]
    names = [chart_file_name(i, row.name) for i, row in enumerate(charted, start=1)]
    text = render_markdown(report, f"{out_md.stem}-plots", names, max_chars=max_chars)
    written = [out_md]
    plots_dir.mkdir(parents=True, exist_ok=True)
    for row, name in zip(charted, names, strict=True):
        target = plots_dir / name
        atomic_write(target, column_chart(row.name, row.entry, standalone=True) + "\n")
        written.append(target)
    for stale in plots_dir.iterdir():
        if _CHART_NAME.match(stale.name) and stale.name not in names:
            stale.unlink()
    atomic_write(out_md, text)
    return written


def chart_file_name(index: int, column: str) -> str:
    """`NNN-<column>.svg` with the column cut to letters, digits, `_`, `.` and `-`."""
    safe = _UNSAFE.sub("_", column).strip("._")[:60] or "column"
    return f"{index:03d}-{safe}.svg"


def render_markdown(
    report: Mapping[str, object], plots_dir: str, chart_names: list[str], *, max_chars: int
) -> str:
    """The Markdown text; `chart_names[i]` is the chart file of the i-th row (drifted first)."""
    summary = reportview.summary(report)
    rows = reportview.rows(report)
    title = "Data drift" + (f": {md(summary.model)}" if summary.model else "")
    verdict = "❌ " if summary.dataset_drift else "✅ "
    head = [
        f"### {title}",
        "",
        f"**{verdict}{summary.headline}**: {summary.detail}.",  # numbers only, no data text
    ]
    if summary.reference or summary.current:
        head.append(f"Reference {code(summary.reference)} → current {code(summary.current)}.")
    head += [
        "",
        "| Column | Kind | Method | Statistic | Threshold | Drifted |",
        "| --- | --- | --- | ---: | ---: | --- |",
    ]
    charts = [
        "",
        "<details open><summary>Distributions (reference grey, current blue or red)</summary>",
        "",
    ]
    for row, name in zip(rows, chart_names, strict=False):
        charts.append(f"![{md(row.name)}]({plots_dir}/{name})")
    if len(rows) > len(chart_names):
        charts.append("")
        charts.append(f"_Charts for the first {len(chart_names)} columns, drifted first._")
    charts += ["", "</details>"]
    skipped = [f"- {md(name)}: {md(reason)}" for name, reason in reportview.skipped(report)]
    tail = (["", "Not compared:", *skipped] if skipped else []) + charts
    fixed = len("\n".join(head + tail)) + 200  # room for the truncation note
    lines: list[str] = []
    used = 0
    for row in rows:
        line = (
            f"| {md(row.name)}{' (' + md(row.note) + ')' if row.note else ''} | {md(row.kind)} "
            f"| {md(row.method)} | {row.statistic} | {row.threshold} "
            f"| {'**drifted**' if row.drifted else 'no'} |"
        )
        if fixed + used + len(line) + 1 > max_chars:
            break
        lines.append(line)
        used += len(line) + 1
    if len(lines) < len(rows):
        lines += [
            "",
            f"_The table is cut: {len(rows) - len(lines)} of {len(rows)} columns are not listed "
            "(drifted columns come first); the JSON report lists them all._",
        ]
    return "\n".join(head + lines + tail) + "\n"


def code(text: str) -> str:
    """A file path as inline code, or escaped text when it holds a backtick or a line break."""
    if "`" in text or "\n" in text or not text:
        return md(text)
    return f"`{text}`"


def md(text: str) -> str:
    """`text` safe in a Markdown table cell or link text: one line, specials escaped, no HTML."""
    flat = " ".join(text.split())
    if len(flat) > _MD_CHARS:
        flat = flat[: _MD_CHARS - 1] + "…"
    escaped = _MD_SPECIAL.sub(r"\\\1", flat)
    return escaped.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
