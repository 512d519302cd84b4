"""The HTML drift report as a person sees it: rendered by headless Chromium to a PNG, its charts
visible (bars of the reference, current and drifted colours counted in the pixels), and no network
request made by the page (Chromium's net log; a canary image from a real local HTTP server is
blocked by the report's Content-Security-Policy, and the same canary is fetched without it)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from mlcode.drift.detect import ColumnSettings
from mlcode.drift.files import DataFile, compare_files
from mlcode.drift.plotdata import PlotData, attach
from mlcode.drift.report_html import render_html
from mlcode.drift.svg import CURRENT_COLOR, DRIFTED_COLOR, REFERENCE_COLOR
from tests.e2e.chromium import chromium, read_png, screenshot, solid_pixels

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        chromium() is None,
        reason="headless Chromium is not installed (Debian package `chromium`; .ci/run installs it)",
    ),
]

NUMERIC = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def shifted_iris(folder: Path) -> dict[str, object]:
    """The iris data as reference, a sample with petal length stretched and more virginica as
    current, compared by the real engine; the report with its plot data."""
    from sklearn.datasets import load_iris

    iris = load_iris(as_frame=True)
    ref = iris.frame.drop(columns="target")
    ref.columns = NUMERIC
    ref["species"] = np.asarray(iris.target_names)[iris.target]
    cur = ref.sample(120, random_state=3).reset_index(drop=True)
    cur["petal_length"] = cur["petal_length"] * 1.25 + 0.4
    cur.loc[cur.index[:50], "species"] = "virginica"
    ref.to_csv(folder / "ref.csv", index=False)
    pd.DataFrame(cur).to_csv(folder / "cur.csv", index=False)
    plots: dict[str, PlotData] = {}
    result = compare_files(
        DataFile.at(folder, "ref.csv"),
        DataFile.at(folder, "cur.csv"),
        NUMERIC,
        ["species"],
        ColumnSettings(),
        {},
        0.5,
        plots=plots,
    )
    report = {"model": "iris", "reference": "ref.csv", "current": "cur.csv", **result.report()}
    return attach(report, plots)


class _Counter(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def canary() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1: an image URL and the list of requests it received."""
    hits: ClassVar[list[str]] = []
    handler = type("Handler", (_Counter,), {"hits": hits})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/canary.png", hits
    finally:
        server.shutdown()
        server.server_close()


def test_report_shows_its_charts_and_fetches_nothing(
    tmp_path: Path, canary: tuple[str, list[str]]
) -> None:
    url, hits = canary
    report = shifted_iris(tmp_path)
    assert report["dataset"]["drifted_columns"] == 2  # type: ignore[index]
    img = f'<img src="{url}" width="1" height="1" alt="">'

    # Control: the same canary on a page without the policy is fetched, and the net log shows it.
    control = tmp_path / "control.html"
    control.write_text(f"<!doctype html><html><body><p>control</p>{img}</body></html>")
    (tmp_path / "c").mkdir()
    assert screenshot(control, tmp_path / "control.png", tmp_path / "c") == [url]
    assert hits == ["/canary.png"]

    # The report, with the canary slipped in: its policy blocks it, and nothing else is fetched.
    hits.clear()
    page = render_html(report).replace("</main>", f"{img}</main>")
    html = tmp_path / "report.html"
    html.write_text(page, encoding="utf-8")
    (tmp_path / "r").mkdir()
    png = tmp_path / "report.png"
    assert screenshot(html, png, tmp_path / "r") == []
    assert hits == []

    image = read_png(png)
    assert image.shape == (2000, 1200, 3)
    # Histogram bars: solid blocks at least 20 px tall and 3 px wide; the drifted column's current
    # side is red, the stable columns' blue, the reference grey. Frequency bars: 6 px x 30 px.
    assert solid_pixels(image, REFERENCE_COLOR, (20, 3)) > 2000
    assert solid_pixels(image, CURRENT_COLOR, (20, 3)) > 2000
    assert solid_pixels(image, DRIFTED_COLOR, (20, 3)) > 500
    assert solid_pixels(image, REFERENCE_COLOR, (6, 30)) > 100  # species, reference side
    assert solid_pixels(image, DRIFTED_COLOR, (6, 30)) > 100  # species drifted: current side red
