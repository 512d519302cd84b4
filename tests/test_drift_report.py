"""The HTML and Markdown drift reports from a real drift result: every string from the data escaped,
nothing fetched from elsewhere, charts as well-formed SVG, Markdown links that resolve to the chart
files written beside it, and a Markdown size that stays under the pull-request body limit."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlcode.drift.detect import CategoricalSample, ColumnSettings, NumericSample, detect_drift
from mlcode.drift.plotdata import attach, plot_data
from mlcode.drift.report_html import CSP, render_html
from mlcode.drift.report_md import MAX_CHARS, chart_file_name, write_markdown
from mlcode.drift.svg import column_chart

EVIL = '<script>alert("x")</script>'
EVIL_VALUE = "<img src=x onerror=alert(1)> & \x00\x1b|`*"


def build_report(columns: dict[str, tuple[str, Any, Any]], share: float = 0.5) -> dict[str, Any]:
    """A drift report as the engine makes it: real samples, real verdicts, real plot data."""
    plots: dict[str, Any] = {}
    loaders = []
    for name, (kind, ref, cur) in columns.items():
        if kind == "numeric":
            sample: Any = NumericSample.of(ref, cur)
            sample.reference.sort()
            sample.current.sort()
        else:
            sample = CategoricalSample.of(ref, cur)
        plots[name] = plot_data(sample)
        loaders.append((name, kind, lambda s=sample: s))
    result = detect_drift(loaders, ColumnSettings(), {}, share)
    report = {"model": "m", "reference": "ref.csv", "current": "cur.csv", **result.report()}
    return attach(report, plots)


def evil_report() -> dict[str, Any]:
    rng = np.random.default_rng(0)
    same = rng.normal(0, 1, 400)
    return build_report(
        {
            EVIL: ("numeric", rng.normal(0, 1, 400), rng.normal(2, 1, 300)),
            "plan": (
                "categorical",
                [EVIL_VALUE, "a"] * 100,
                [EVIL_VALUE] * 150 + ["a"] * 10,
            ),
            "ok & <fine>": ("numeric", same, same[::-1][:300]),
        }
    )


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(page: str) -> _Collect:
    collect = _Collect()
    collect.feed(page)
    collect.close()
    return collect


def test_html_escapes_column_names_and_category_values() -> None:
    page = render_html(evil_report())
    seen = parsed(page)
    assert "script" not in seen.tags
    assert "img" not in seen.tags
    assert not any(name.startswith("on") for name, _ in seen.attrs)
    text = "".join(seen.text)
    assert EVIL in text  # shown as text, not run
    assert "<img src=x onerror=alert(1)> &" in text
    assert "\x00" not in page
    assert "\x1b" not in page


def test_html_is_self_contained() -> None:
    page = render_html(evil_report())
    seen = parsed(page)
    assert not re.search(r"https?://", page)
    assert "//" not in "".join(v or "" for _, v in seen.attrs if _ in ("src", "href", "content"))
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(seen.tags)
    assert not re.search(r"url\(|@import|@font-face", page)
    assert ("http-equiv", "Content-Security-Policy") in seen.attrs
    assert ("content", CSP) in seen.attrs
    assert "default-src 'none'" in CSP
    head = page.split("<style>", 1)[0]
    assert "Content-Security-Policy" in head  # before anything that could load


def test_html_shows_summary_table_and_one_chart_per_column() -> None:
    report = evil_report()
    page = render_html(report)
    assert "Dataset drift detected" in page  # 2 of 3 drifted >= 0.5
    assert "2 of 3 columns drifted" in page
    assert page.count("<svg ") == 3
    rows = re.findall(r'<tr class="(drifted|stable)">', page)
    assert rows == ["drifted", "drifted", "stable"]  # drifted columns first
    threshold = report["columns"][EVIL]["threshold"]
    assert f"drifts when p ≤ {threshold:.3g}" in page or "drifts when ≥" in page


def test_charts_are_well_formed_svg_whatever_the_names() -> None:
    report = evil_report()
    for name, column in report["columns"].items():
        svg = column_chart(name, column, standalone=True)
        root = ET.fromstring(svg)  # raises on any markup a value could inject
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        texts = "".join(root.itertext())
        assert "DRIFTED" in texts or "no drift" in texts
        assert not root.findall(".//{http://www.w3.org/2000/svg}script")


def test_markdown_links_resolve_to_chart_files(tmp_path: Path) -> None:
    out = tmp_path / "pr" / "drift.md"
    out.parent.mkdir()
    written = write_markdown(evil_report(), out)
    assert written[0] == out
    text = out.read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(links) == 3
    for link in links:
        assert not link.startswith(("/", "http"))
        target = out.parent / link
        assert target.is_file(), link
        assert target in written
        ET.fromstring(target.read_text(encoding="utf-8"))
    assert all(re.fullmatch(r"\d{3}-[A-Za-z0-9_.-]+\.svg", p.name) for p in written[1:])
    assert "<script" not in text
    assert "<img" not in text  # category values are not in the Markdown, names are escaped
    assert "&lt;script&gt;" in text


def test_markdown_rewrite_removes_stale_charts(tmp_path: Path) -> None:
    out = tmp_path / "drift.md"
    write_markdown(evil_report(), out)
    rng = np.random.default_rng(1)
    small = build_report({"x": ("numeric", rng.normal(0, 1, 50), rng.normal(0, 1, 50))})
    written = write_markdown(small, out)
    charts = sorted((tmp_path / "drift-plots").iterdir())
    assert charts == sorted(written[1:])
    assert [c.name for c in charts] == ["001-x.svg"]


@pytest.mark.parametrize("columns", [1, 40, 3000])
def test_markdown_stays_under_the_pull_request_limit(tmp_path: Path, columns: int) -> None:
    rng = np.random.default_rng(columns)
    data = {
        f"feature_{i:05d}_" + "w" * 70: (
            "numeric",
            rng.normal(i % 3, 1, 60),
            rng.normal(0, 1, 60),
        )
        for i in range(columns)
    }
    out = tmp_path / "drift.md"
    write_markdown(build_report(data), out)
    text = out.read_text(encoding="utf-8")
    assert len(text) <= MAX_CHARS < 65_536
    table_rows = [line for line in text.splitlines() if line.startswith("| feature")]
    if columns == 3000:
        assert "The table is cut" in text
        assert 0 < len(table_rows) < columns
    else:
        assert len(table_rows) == columns
        assert "The table is cut" not in text


def test_chart_file_names_are_safe_and_unique() -> None:
    names = [chart_file_name(i, n) for i, n in enumerate(["a/b", "../x", "é", "", "a b"], 1)]
    assert names == ["001-a_b.svg", "002-x.svg", "003-column.svg", "004-column.svg", "005-a_b.svg"]
    assert len(set(names)) == len(names)


def test_mlcode_drift_writes_charted_html_and_markdown(tmp_path: Path) -> None:
    """`mlcode drift` on two files: the HTML holds a chart per column, the Markdown links each
    chart file it wrote."""
    import pandas as pd

    from tests.e2e.helpers import mlcode

    rng = np.random.default_rng(3)
    pd.DataFrame(
        {"age": rng.normal(40, 9, 900), "plan": rng.choice(["a", "b", "c"], 900)}
    ).to_parquet(tmp_path / "ref.parquet")
    pd.DataFrame(
        {"age": rng.normal(48, 9, 700), "plan": rng.choice(["a", "b", "c"], 700)}
    ).to_parquet(tmp_path / "cur.parquet")
    done = mlcode(
        tmp_path,
        "drift",
        "--reference",
        "ref.parquet",
        "--current",
        "cur.parquet",
        "--html",
        "out/drift.html",
        "--markdown",
        "out/drift.md",
    )
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "out/drift.html").read_text(encoding="utf-8")
    assert page.count("<svg ") == 2
    assert "no plot data" not in page
    assert page.count('shape-rendering="crispEdges"') >= 20  # histogram and frequency bars
    text = (tmp_path / "out/drift.md").read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert sorted(links) == ["drift-plots/001-age.svg", "drift-plots/002-plan.svg"]
    for link in links:
        ET.fromstring((tmp_path / "out" / link).read_text(encoding="utf-8"))


def test_html_draws_at_most_max_charts_drifted_first() -> None:
    from mlcode.drift.report_html import MAX_CHARTS

    rng = np.random.default_rng(9)
    base = rng.normal(0, 1, 80)
    data = {
        f"c{i:03d}": ("numeric", base, base + (3.0 if i % 50 == 7 else 0.0))
        for i in range(MAX_CHARTS + 30)
    }
    page = render_html(build_report(data))
    assert page.count("<svg ") == MAX_CHARTS
    assert f"30 more columns are in the table; charts are drawn for the first {MAX_CHARTS}" in page
    assert page.count('<tr class="') == MAX_CHARTS + 30  # the table lists every column
    first = page.index("<svg ")
    assert page.index("c007", first) < page.index("c000", first)  # a drifted column's chart first
