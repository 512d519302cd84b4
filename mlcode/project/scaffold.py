"""The ml.yaml text `mlcode init` writes: commented, valid, and (with an example) ready to run.

Pure: returns text. The example datasets themselves are written by `mlcode.project.examples`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlcode.spec.jsonschema import SCHEMA_FILE


@dataclass(frozen=True)
class Example:
    """A bundled scikit-learn dataset turned into a starter project."""

    name: str
    task: str
    target: str
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    estimator: str
    params: str
    metrics: tuple[str, ...]
    gate: str


EXAMPLES: dict[str, Example] = {
    "iris": Example(
        name="iris",
        task="classification",
        target="species",
        numeric=("sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"),
        categorical=(),
        estimator="sklearn.ensemble.RandomForestClassifier",
        params="{n_estimators: 100, max_depth: 5, random_state: 0}",
        metrics=("accuracy", "balanced_accuracy", "f1", "roc_auc"),
        gate="{metric: accuracy, min: 0.85}",
    ),
    "wine": Example(
        name="wine",
        task="classification",
        target="cultivar",
        numeric=(
            "alcohol",
            "malic_acid",
            "ash",
            "alcalinity_of_ash",
            "magnesium",
            "total_phenols",
            "flavanoids",
            "nonflavanoid_phenols",
            "proanthocyanins",
            "color_intensity",
            "hue",
            "od280_od315_of_diluted_wines",
            "proline",
        ),
        categorical=(),
        estimator="sklearn.linear_model.LogisticRegression",
        params="{C: 1.0, max_iter: 2000}",
        metrics=("accuracy", "f1", "roc_auc", "log_loss"),
        gate="{metric: accuracy, min: 0.85}",
    ),
    "breast-cancer": Example(
        name="breast_cancer",
        task="classification",
        target="diagnosis",
        numeric=(),  # filled from the dataset's 30 feature names, see examples.py
        categorical=(),
        estimator="sklearn.ensemble.HistGradientBoostingClassifier",
        params="{max_depth: 4, learning_rate: 0.1, random_state: 0}",
        metrics=("roc_auc", "f1", "accuracy", "precision", "recall"),
        gate="{metric: roc_auc, min: 0.90}",
    ),
    "diabetes": Example(
        name="diabetes",
        task="regression",
        target="progression",
        numeric=("age", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"),
        categorical=("sex",),
        estimator="sklearn.ensemble.RandomForestRegressor",
        params="{n_estimators: 200, max_depth: 6, random_state: 0}",
        metrics=("rmse", "mae", "r2"),
        gate="{metric: r2, min: 0.25}",
    ),
}


def project_name(folder_name: str) -> str:
    """A valid project name derived from a folder name."""
    name = re.sub(r"[^a-z0-9_-]+", "-", folder_name.lower()).strip("-_")[:63].strip("-_")
    return name or "ml-project"


def _flow(items: tuple[str, ...]) -> str:
    return "[" + ", ".join(items) + "]"


def render_spec(project: str, stack: str, example: Example | None, numeric: tuple[str, ...]) -> str:
    """The ml.yaml text for a project, with or without an example."""
    head = (
        f"# yaml-language-server: $schema={SCHEMA_FILE}\n"
        "# mlcode project file: data, models, gates and infrastructure in one place.\n"
        '# Reference: the README\'s "ml.yaml reference"; `mlcode schema` prints the JSON Schema.\n'
        "version: 1\n"
        f"project: {project}\n"
        f"stack: {stack}    # a preset (local, github-s3, gitlab-s3, github-ssh) or a path\n"
    )
    if example is None:
        return head + _EMPTY_BODY
    ds = example.name
    model = ds.replace("_", "-")
    lines = [
        "",
        "data:",
        f"  {ds}:",
        f"    path: data/{ds}.csv            # versioned by DVC, never by git",
        f"    target: {example.target}",
        "    features:",
        f"      numeric: {_flow(numeric)}",
    ]
    if example.categorical:
        lines.append(f"      categorical: {_flow(example.categorical)}")
    lines += [
        f"  {ds}_latest:                     # the newest batch, compared with the training data",
        f"    path: data/{ds}_latest.csv",
        f"    target: {example.target}",
        "    features:",
        f"      numeric: {_flow(numeric)}",
    ]
    if example.categorical:
        lines.append(f"      categorical: {_flow(example.categorical)}")
    split_line = "    split: {test_size: 0.25, seed: 42}"
    lines += [
        "",
        "models:",
        f"  {model}:",
        f"    task: {example.task}",
        f"    data: {ds}",
        f"    estimator: {example.estimator}",
        f"    params: {example.params}",
        split_line,
        f"    metrics: {_flow(example.metrics)}",
        "    gates:",
        "      metrics:",
        f"        - {example.gate}",
        f"        - {{metric: {example.metrics[0]}, vs_champion: {{max_regression: 0.02}}}}",
        "      drift:",
        f"        reference: {ds}",
        f"        current: {ds}_latest",
        "        max_drifted_share: 0.5",
        "    promotion: {mode: pr, stage: prod}",
        "",
        "ci:",
        '  schedule: "0 3 * * 1"            # weekly retrain attempt (UTC)',
        "  retrain_on_data_change: true",
        "",
    ]
    return head + "\n".join(lines)


_EMPTY_BODY = """
# Datasets, by name. Each is a file versioned by DVC.
data: {}
#  customers:
#    path: data/customers.csv
#    target: churned
#    features:
#      numeric: [age, tenure_months]
#      categorical: [plan]

# Models, by name (lowercase letters, digits and '-').
models: {}
#  churn:
#    task: classification
#    data: customers
#    estimator: sklearn.ensemble.HistGradientBoostingClassifier
#    params: {max_depth: 6}
#    metrics: [roc_auc, f1, accuracy]
#    gates:
#      metrics:
#        - {metric: roc_auc, min: 0.80}
#        - {metric: roc_auc, vs_champion: {max_regression: 0.005}}

ci:
  schedule: "0 3 * * 1"   # weekly retrain attempt (UTC)
"""
