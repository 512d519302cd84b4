"""Rules for the names users choose, and the metrics each task knows.

Model, dataset and stage names end up as git branch and tag names (GTO grammar), DVC stage names and
file names, so they are limited to a charset that is safe in all of them.
"""

from __future__ import annotations

import re

# GTO artifact names: lowercase letters, digits and '-', starting and ending with a letter or digit.
MODEL_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# Datasets, stages and the project may also use '_'.
NAME = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?$")
ENV_VAR = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")
PYTHON_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$")
GIT_REF_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")

MODEL_NAME_RULE = (
    "1-63 lowercase letters, digits and '-', starting and ending with a letter or digit "
    "(it becomes a git tag, a branch name, a DVC stage name and a file name)"
)
NAME_RULE = (
    "1-63 lowercase letters, digits, '-' and '_', starting and ending with a letter or digit "
    "(it becomes a DVC stage name and a file name)"
)

CLASSIFICATION_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "log_loss",
)
REGRESSION_METRICS = ("rmse", "mae", "r2", "mape")
TASK_METRICS: dict[str, tuple[str, ...]] = {
    "classification": CLASSIFICATION_METRICS,
    "regression": REGRESSION_METRICS,
}
DEFAULT_METRICS: dict[str, tuple[str, ...]] = {
    "classification": ("accuracy", "f1", "roc_auc"),
    "regression": ("rmse", "mae", "r2"),
}

# The built-in pipeline steps, in order, and the DVC stage name each gets per model.
STEPS = ("prepare", "train", "evaluate", "drift")


def stage_name(step: str, model: str) -> str:
    """The DVC stage name of a built-in step of a model, e.g. `train_churn`.

    Model names cannot contain '_', so two models' stage names never collide.
    """
    return f"{step}_{model}"


def ingest_stage(dataset: str) -> str:
    """The DVC stage name of a dataset's ingest command (`source: {cmd: ...}`), e.g.
    `ingest_transactions`. Model stages start with a step name, so the two never collide."""
    return f"ingest_{dataset}"
