"""Write the example datasets from scikit-learn's bundled copies (no network needed).

Each example gets its training file and a `_latest` batch (a seeded sample of rows) for drift gates.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from mlcode.project.scaffold import EXAMPLES, Example


@dataclass(frozen=True)
class ExampleData:
    """CSV texts of an example, by relative path, and its numeric feature names."""

    files: dict[str, str]
    numeric: tuple[str, ...]


def _snake(name: str) -> str:
    out = "".join(c if c.isalnum() else "_" for c in name.lower())
    while "__" in out:
        out = out.replace("__", "_")
    return out.strip("_")


def build(example_key: str) -> ExampleData:
    """Load the bundled dataset of `example_key` and render its CSV files."""
    import numpy as np
    from sklearn import datasets

    ex: Example = EXAMPLES[example_key]
    loaders: dict[str, Any] = {
        "iris": datasets.load_iris,
        "wine": datasets.load_wine,
        "breast-cancer": datasets.load_breast_cancer,
        "diabetes": lambda: datasets.load_diabetes(scaled=False),
    }
    bunch = loaders[example_key]()
    features = [_snake(str(n)) for n in bunch.feature_names]
    if example_key == "iris":
        features = list(ex.numeric)
    if example_key == "wine":
        features = list(ex.numeric)
    x = np.asarray(bunch.data)
    y = np.asarray(bunch.target)
    if ex.task == "classification":
        labels = [str(n) for n in bunch.target_names]
        target_values: list[Any] = [labels[int(v)] for v in y]
    else:
        target_values = [float(v) for v in y]
    header = [*features, ex.target]
    rows: list[list[Any]] = []
    for i in range(len(x)):
        row: list[Any] = []
        for name, value in zip(features, x[i], strict=True):
            if name in ex.categorical:
                row.append(f"{name}_{int(value)}")
            else:
                row.append(float(value))
        row.append(target_values[i])
        rows.append(row)
    rng = np.random.default_rng(7)
    latest_idx = sorted(rng.choice(len(rows), size=max(len(rows) // 4, 1), replace=False))
    latest = [rows[i] for i in latest_idx]
    numeric = tuple(f for f in features if f not in ex.categorical)
    return ExampleData(
        files={
            f"data/{ex.name}.csv": _csv(header, rows),
            f"data/{ex.name}_latest.csv": _csv(header, latest),
        },
        numeric=numeric,
    )


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()
