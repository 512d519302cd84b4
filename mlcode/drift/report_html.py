"""A drift report as one self-contained HTML page (pure: report dict in, text out).

The page holds the dataset verdict (drifted share against the gate's maximum), the table of columns
(kind, method, statistic, threshold, verdict) and one chart per column (`mlcode.drift.svg`), drifted
columns first and marked in red. It loads nothing when opened: inline CSS and inline SVG only, and a
Content-Security-Policy (`default-src 'none'`) that forbids every fetch should anything slip in.
Every string from the data is escaped. At most `MAX_CHARTS` charts are drawn (drifted first); the
table always lists every column.
"""

from __future__ import annotations

from collections.abc import Mapping

from mlcode.drift import reportview
from mlcode.drift.svg import (
    CURRENT_COLOR,
    DRIFTED_COLOR,
    OK_COLOR,
    REFERENCE_COLOR,
    column_chart,
    esc,
)

MAX_CHARTS = 200
CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

_CSS = f"""
*{{box-sizing:border-box}}
body{{margin:0;background:#f1f5f9;color:#0f172a;
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}}
main{{max-width:1160px;margin:0 auto;padding:28px 24px 48px}}
h1{{font-size:26px;margin:0 0 4px;letter-spacing:-0.01em}}
h2{{font-size:17px;margin:32px 0 12px}}
.files{{color:#475569;font-size:13px}}
code{{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#e2e8f0;
padding:1px 5px;border-radius:4px}}
.card{{background:#fff;border-radius:10px;box-shadow:0 1px 2px rgba(15,23,42,.08),
0 0 0 1px rgba(15,23,42,.05)}}
.summary{{margin-top:20px;padding:20px 24px;border-left:6px solid {OK_COLOR};display:flex;
gap:32px;align-items:center;flex-wrap:wrap}}
.summary.drift{{border-left-color:{DRIFTED_COLOR}}}
.verdict{{font-size:22px;font-weight:700;color:{OK_COLOR}}}
.drift .verdict{{color:{DRIFTED_COLOR}}}
.detail{{color:#334155}}
.meter{{flex:1;min-width:260px}}
.track{{position:relative;height:14px;background:#e2e8f0;border-radius:7px}}
.fill{{position:absolute;left:0;top:0;bottom:0;border-radius:7px;background:{CURRENT_COLOR}}}
.drift .fill{{background:{DRIFTED_COLOR}}}
.limit{{position:absolute;top:-5px;bottom:-5px;width:2px;background:#0f172a}}
.scale{{display:flex;justify-content:space-between;font-size:12px;color:#64748b;margin-top:6px}}
table{{width:100%;border-collapse:collapse;font-size:14px}}
th{{text-align:left;font-size:11.5px;text-transform:uppercase;letter-spacing:.05em;color:#64748b;
font-weight:600;padding:10px 14px;border-bottom:1px solid #e2e8f0}}
td{{padding:8px 14px;border-bottom:1px solid #f1f5f9}}
td.num{{text-align:right;font-variant-numeric:tabular-nums}}
th.num{{text-align:right}}
tr.drifted td{{background:#fef2f2}}
tr.drifted td.name{{font-weight:600}}
.pill{{display:inline-block;padding:1px 9px;border-radius:9px;font-size:12px;font-weight:600}}
.pill.yes{{background:{DRIFTED_COLOR};color:#fff}}
.pill.no{{background:#dcfce7;color:{OK_COLOR}}}
.note{{color:#64748b;font-size:12.5px}}
.charts{{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:16px}}
.chart-card{{padding:6px;overflow:hidden}}
.chart-card.drifted{{box-shadow:0 0 0 2px {DRIFTED_COLOR}}}
svg.chart{{display:block;width:100%;height:auto}}
.legend{{color:#64748b;font-size:13px;margin:-4px 0 12px}}
.swatch{{display:inline-block;width:11px;height:11px;vertical-align:-1px;margin:0 5px 0 12px}}
"""


def render_html(report: Mapping[str, object]) -> str:
    """The whole page for one drift report (the JSON the drift step or `mlcode drift` writes)."""
    summary = reportview.summary(report)
    rows = reportview.rows(report)
    title = "Data drift" + (f" · {summary.model}" if summary.model else "")
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>",
        f"<style>{_CSS}</style></head><body><main>",
        f"<h1>{esc(title)}</h1>",
        _files(summary),
        _summary(summary),
        "<h2>Columns</h2>",
        _table(rows),
        _skipped(reportview.skipped(report)),
        _charts(rows),
        "</main></body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


def _files(summary: reportview.Summary) -> str:
    if not (summary.reference or summary.current):
        return ""
    return (
        f'<div class="files">reference <code>{esc(summary.reference)}</code> → current '
        f"<code>{esc(summary.current)}</code></div>"
    )


def _summary(summary: reportview.Summary) -> str:
    share = min(max(summary.drifted_share, 0.0), 1.0)
    limit = ""
    scale = "<span>0%</span><span>100% of columns drifted</span>"
    if summary.max_drifted_share is not None:
        at = min(max(summary.max_drifted_share, 0.0), 1.0) * 100
        limit = f'<div class="limit" style="left:calc({at:.1f}% - 1px)"></div>'
        scale = (
            f"<span>drifted share {share * 100:.0f}%</span>"
            f"<span>gate maximum {summary.max_drifted_share * 100:.0f}%</span>"
        )
    return (
        f'<section class="card summary{" drift" if summary.dataset_drift else ""}">'
        f'<div><div class="verdict">{esc(summary.headline)}</div>'
        f'<div class="detail">{esc(summary.detail)}</div></div>'
        f'<div class="meter"><div class="track"><div class="fill" style="width:{share * 100:.1f}%">'
        f"</div>{limit}</div>"
        f'<div class="scale">{scale}</div></div></section>'
    )


def _table(rows: list[reportview.Row]) -> str:
    head = (
        "<tr><th>Column</th><th>Kind</th><th>Method</th><th class=num>Statistic</th>"
        "<th class=num>Threshold</th><th>Drifted</th></tr>"
    )
    body = []
    for row in rows:
        verdict = (
            '<span class="pill yes">drifted</span>'
            if row.drifted
            else ('<span class="pill no">no</span>')
        )
        note = f'<div class="note">{esc(row.note)}</div>' if row.note else ""
        body.append(
            f'<tr class="{"drifted" if row.drifted else "stable"}">'
            f'<td class="name">{esc(row.name)}{note}</td><td>{esc(row.kind)}</td>'
            f"<td>{esc(row.method)}</td><td class=num>{esc(row.statistic)}</td>"
            f"<td class=num>{esc(row.threshold)}</td><td>{verdict}</td></tr>"
        )
    return f'<div class="card"><table>{head}{"".join(body)}</table></div>'


def _skipped(skipped: list[tuple[str, str]]) -> str:
    if not skipped:
        return ""
    items = "".join(f"<li><b>{esc(name)}</b>: {esc(reason)}</li>" for name, reason in skipped)
    return f'<p class="note">Not compared:</p><ul class="note">{items}</ul>'


def _charts(rows: list[reportview.Row]) -> str:
    if not rows:
        return ""
    shown = rows[:MAX_CHARTS]
    cards = "".join(
        f'<figure class="card chart-card{" drifted" if row.drifted else ""}" style="margin:0">'
        f"{column_chart(row.name, row.entry)}</figure>"
        for row in shown
    )
    more = (
        f'<p class="note">{len(rows) - len(shown)} more columns are in the table; charts are '
        f"drawn for the first {len(shown)} (drifted first).</p>"
        if len(rows) > len(shown)
        else ""
    )
    legend = (
        f'<div class="legend">Bar heights are shares of each side\'s rows.'
        f'<span class="swatch" style="background:{REFERENCE_COLOR}"></span>reference'
        f'<span class="swatch" style="background:{CURRENT_COLOR}"></span>current'
        f'<span class="swatch" style="background:{DRIFTED_COLOR}"></span>current, drifted column'
        "</div>"
    )
    return f'<h2>Distributions</h2>{legend}<div class="charts">{cards}</div>{more}'
