"""The plot data of a drift report: histogram counts on shared edges that agree with numpy, the
outlier tails counted apart, categories folded into "other", and a size that does not grow with
the data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlcode.drift.detect import CategoricalSample, NumericSample
from mlcode.drift.plotdata import (
    MAX_BINS,
    MAX_LABEL,
    TOP_CATEGORIES,
    PlotData,
    attach,
    categorical_plot,
    numeric_plot,
    plot_data,
)


def _sorted(values: np.ndarray) -> np.ndarray:
    return np.sort(np.asarray(values, dtype=np.float64))


def test_histogram_counts_match_numpy_on_the_same_edges() -> None:
    rng = np.random.default_rng(0)
    ref = _sorted(rng.normal(0, 1, 5000))
    cur = _sorted(rng.normal(0.8, 1.3, 3000))
    plot = numeric_plot(ref, cur)
    edges = np.array(plot["edges"])
    assert plot["type"] == "histogram"
    assert np.all(np.diff(edges) > 0)
    assert 5 <= edges.size - 1 <= MAX_BINS
    for name, side in (("reference", ref), ("current", cur)):
        inside = side[(side >= edges[0]) & (side <= edges[-1])]
        assert plot[name] == np.histogram(inside, edges)[0].tolist()
        outside = plot["outside"][name]  # type: ignore[index]
        assert outside["below"] == int(np.sum(side < edges[0]))
        assert outside["above"] == int(np.sum(side > edges[-1]))
        assert sum(plot[name]) + outside["below"] + outside["above"] == side.size  # type: ignore[arg-type]


def test_one_far_outlier_does_not_squash_the_range() -> None:
    ref = _sorted(np.concatenate([np.linspace(0, 1, 2000), [1e9]]))
    cur = _sorted(np.linspace(0.2, 1.2, 2000))
    plot = numeric_plot(ref, cur)
    edges = plot["edges"]
    assert edges[-1] < 2  # type: ignore[index]
    assert plot["outside"]["reference"]["above"] >= 1  # type: ignore[index]


def test_shifted_current_is_inside_the_range() -> None:
    ref = _sorted(np.random.default_rng(1).normal(0, 1, 1000))
    cur = ref + 10.0
    plot = numeric_plot(ref, cur)
    assert plot["edges"][0] < ref[10]  # type: ignore[index]
    assert plot["edges"][-1] > cur[-10]  # type: ignore[index]
    assert sum(plot["current"]) >= 0.99 * cur.size  # type: ignore[arg-type]


def test_small_integer_range_gets_one_bin_per_value() -> None:
    ref = _sorted(np.array([0, 1, 1, 0, 1] * 40))
    cur = _sorted(np.array([1, 1, 1, 1, 0] * 30))
    plot = numeric_plot(ref, cur)
    assert plot["edges"] == [-0.5, 0.5, 1.5]
    assert plot["reference"] == [80, 120]
    assert plot["current"] == [30, 120]


def test_constant_column_and_empty_side() -> None:
    plot = numeric_plot(_sorted(np.full(10, 3.5)), _sorted(np.array([])))
    assert len(plot["edges"]) == 2  # type: ignore[arg-type]
    assert plot["reference"] == [10]
    assert plot["current"] == [0]


def test_categories_top_n_with_other() -> None:
    ref = {f"v{i}": 100 - i for i in range(30)}
    cur = {"new": 500, **{f"v{i}": 50 for i in range(30)}}
    plot = categorical_plot(ref, cur)
    assert len(plot["categories"]) == TOP_CATEGORIES  # type: ignore[arg-type]
    assert plot["categories"][0] == "new"  # type: ignore[index]
    other = plot["other"]
    assert other["values"] == 31 - TOP_CATEGORIES  # type: ignore[index]
    assert sum(plot["reference"]) + other["reference"] == sum(ref.values())  # type: ignore[index,arg-type]
    assert sum(plot["current"]) + other["current"] == sum(cur.values())  # type: ignore[index,arg-type]


def test_long_category_values_are_cut() -> None:
    plot = categorical_plot({"x" * 500: 3}, {"x" * 500: 1})
    label = plot["categories"][0]  # type: ignore[index]
    assert len(label) == MAX_LABEL
    assert label.endswith("…")


@settings(max_examples=30, deadline=None)
@given(
    st.integers(min_value=1, max_value=200_000),
    st.integers(min_value=0, max_value=5000),
)
def test_size_is_bounded_whatever_the_data(rows: int, categories: int) -> None:
    rng = np.random.default_rng(rows)
    ref = _sorted(rng.standard_cauchy(rows))
    num = numeric_plot(ref, _sorted(rng.standard_cauchy(max(1, rows // 3)) * 5))
    keys = [f"category-{i}-" + "y" * (i % 300) for i in range(categories)]
    cat = categorical_plot(dict.fromkeys(keys, 7), dict.fromkeys(keys[::2], 3))
    assert len(json.dumps(num)) < 3000
    assert len(json.dumps(cat)) < 3000


def test_plot_data_of_samples_and_attach() -> None:
    numeric = NumericSample.of([3.0, 1.0, 2.0], [2.0, 2.0])
    numeric.reference.sort()
    cat = CategoricalSample.of(["a", "b", "a"], ["b", None])
    plots = {"n": plot_data(numeric), "c": plot_data(cat)}
    assert plots["c"]["categories"] == ["b", "a"]  # by combined share: 1/3 + 1 before 2/3 + 0
    assert plots["c"]["current"] == [1, 0]
    report = {"columns": {"n": {"kind": "numeric"}, "c": {"kind": "categorical"}}, "x": 1}
    merged = attach(report, plots)
    assert merged["columns"]["n"]["plot"] == plots["n"]  # type: ignore[index]
    assert "plot" not in report["columns"]["n"]  # the input is left alone
    assert merged["x"] == 1


@pytest.mark.parametrize("rows", [1, 2, 7])
def test_tiny_samples(rows: int) -> None:
    ref = _sorted(np.arange(rows, dtype=np.float64) * 0.37)
    plot = numeric_plot(ref, ref)
    assert sum(plot["reference"]) + sum(plot["outside"]["reference"].values()) == rows  # type: ignore[arg-type,union-attr]


def test_sketched_column_plot_is_close_to_the_exact_histogram(tmp_path: Path) -> None:
    """A column too large to sort whole (forced here with a tiny exact limit) is drawn from its
    quantile sketches, marked estimated, each count close to the exact histogram's."""
    import pandas as pd

    from mlcode.drift.detect import ColumnSettings
    from mlcode.drift.files import DataFile, compare_files

    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"x": rng.normal(0, 1, 300_000)})
    cur = pd.DataFrame({"x": rng.normal(0.5, 1.2, 200_000)})
    ref.to_parquet(tmp_path / "ref.parquet")
    cur.to_parquet(tmp_path / "cur.parquet")
    plots: dict[str, PlotData] = {}
    compare_files(
        DataFile.at(tmp_path, "ref.parquet"),
        DataFile.at(tmp_path, "cur.parquet"),
        ["x"],
        [],
        ColumnSettings(),
        {},
        0.5,
        plots,
        exact_limit=1000,
    )
    plot = plots["x"]
    assert plot["estimated"] is True
    edges = np.array(plot["edges"])
    for name, frame in (("reference", ref), ("current", cur)):
        values = frame["x"].to_numpy()
        true = np.histogram(values[(values >= edges[0]) & (values <= edges[-1])], edges)[0]
        error = np.abs(np.array(plot[name]) - true)
        assert error.max() <= 0.002 * values.size  # 0.2 % of the side's rows per bin
