"""Where each model's files live: the one table the compiler, the built-in steps and `mlcode run`
share, so no two modules spell a path differently.

All paths are POSIX, relative to the repository root.
"""

from __future__ import annotations

from dataclasses import dataclass

PARAMS_FILE = "params.yaml"
DVC_FILE = "dvc.yaml"
WORK_DIR = "build"  # intermediate outputs (DVC-cached, git-ignored by DVC)
MODELS_DIR = "models"
METRICS_DIR = "metrics"
PLOTS_DIR = "plots"
STATE_DIR = ".mlcode"  # mlcode's own state: manifest, lock, schema
MANIFEST_FILE = ".mlcode/manifest.json"
LOCK_FILE = ".mlcode/apply.lock"
RETRAIN_LOCK_FILE = ".mlcode/retrain.lock"  # held by `mlcode retrain` while it runs

CLASSIFICATION_PLOTS = ("confusion", "roc", "precision_recall")
REGRESSION_PLOTS = ("predicted_vs_actual", "residuals")


@dataclass(frozen=True)
class ModelPaths:
    """Every file of one model's built-in pipeline."""

    name: str
    train_split: str
    test_split: str
    model_dir: str
    model_file: str
    model_card: str
    metrics: str
    drift_metrics: str
    drift_report: str
    drift_html: str
    plots_dir: str

    def plot(self, kind: str) -> str:
        """The JSON data file of one plot (records for DVC's plot templates)."""
        return f"{self.plots_dir}/{kind}.json"


def model_paths(name: str, metrics: str | None = None) -> ModelPaths:
    """Paths for model `name`; `metrics` is the metrics file a model's own evaluate command names
    (None: the built-in evaluate step's)."""
    return ModelPaths(
        name=name,
        train_split=f"{WORK_DIR}/{name}/train.parquet",
        test_split=f"{WORK_DIR}/{name}/test.parquet",
        model_dir=f"{MODELS_DIR}/{name}",
        model_file=f"{MODELS_DIR}/{name}/model.skops",
        model_card=f"{MODELS_DIR}/{name}/card.json",
        metrics=metrics or f"{METRICS_DIR}/{name}.json",
        drift_metrics=f"{METRICS_DIR}/{name}-drift.json",
        drift_report=f"{WORK_DIR}/{name}/drift-report.json",
        drift_html=f"{WORK_DIR}/{name}/drift-report.html",
        plots_dir=f"{PLOTS_DIR}/{name}",
    )


def plot_kinds(task: str) -> tuple[str, ...]:
    """The plots the built-in evaluate step writes for a task."""
    return CLASSIFICATION_PLOTS if task == "classification" else REGRESSION_PLOTS
