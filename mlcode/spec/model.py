"""pydantic v2 models of ml.yaml (schema version 1).

These are pure data: loading (with source positions) lives in `mlcode.spec.load`, cross-field checks
in `mlcode.spec.semantic`. Unknown keys are forbidden everywhere so a typo never passes silently.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from mlcode.spec import install as _install
from mlcode.spec import names
from mlcode.spec.urls import credential_in_url, is_url


class Strict(BaseModel):
    """Base for every ml.yaml model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False, strict=True)


def _whole_number(value: Any) -> Any:
    """Refuse `true` and `1.0` where YAML should hold a whole number (Python says True == 1)."""
    if isinstance(value, bool | float):
        raise ValueError(f"expected a whole number; found {value!r}")
    return value


def _model_name(value: str) -> str:
    if not names.MODEL_NAME.match(value):
        raise ValueError(f"invalid model name {value!r}: use {names.MODEL_NAME_RULE}")
    return value


def _name(value: str) -> str:
    if not names.NAME.match(value):
        raise ValueError(f"invalid name {value!r}: use {names.NAME_RULE}")
    return value


def _env_var(value: str) -> str:
    if not names.ENV_VAR.match(value):
        raise ValueError(
            f"{value!r} is not an environment variable name (expected e.g. AWS_ACCESS_KEY_ID: "
            "uppercase letters, digits and '_'); credentials are given by variable name only"
        )
    return value


def _python_path(value: str) -> str:
    if not names.PYTHON_PATH.match(value):
        raise ValueError(
            f"{value!r} is not an import path; expected 'package.module.ClassName', "
            "e.g. sklearn.ensemble.RandomForestClassifier"
        )
    return value


def _column(value: str) -> str:
    if not value or value != value.strip() or any(c in value for c in "\n\r\t\x00"):
        raise ValueError(
            f"invalid column name {value!r}: it must be non-empty, without leading or trailing "
            "spaces or control characters"
        )
    return value


def rel_path(value: str) -> str:
    """Validate a repository-relative path (no absolute path, no '..')."""
    from pathlib import PurePosixPath

    if not value or "\x00" in value or "\n" in value:
        raise ValueError("a path must be a non-empty single line")
    p = PurePosixPath(value.replace("\\", "/"))
    if p.is_absolute() or (len(value) > 1 and value[1] == ":"):
        raise ValueError(f"path {value!r} is absolute; use a path relative to the repository root")
    if ".." in p.parts:
        raise ValueError(f"path {value!r} leaves the repository ('..'); keep data inside it")
    return value


def _install_source(value: str) -> str:
    _install.parse(value)  # ValueError with the reason when it is not an accepted source
    return value


INSTALL_DESCRIPTION = (
    "Where CI installs mlcode from (default: the distribution mlcode-git pinned to the version "
    "that generated the workflows). One of: an exact pin such as 'mlcode-git==0.1.0'; a git URL "
    "at a full 40-character commit SHA such as 'git+https://github.com/org/mlcode@<sha>'; the "
    "relative path of a wheel committed in the repository. CI adds the extra the stack's DVC "
    "remote needs."
)
InstallSource = Annotated[
    str,
    AfterValidator(_install_source),
    Field(json_schema_extra={"pattern": _install.SCHEMA_PATTERN}),
]


ModelName = Annotated[str, AfterValidator(_model_name)]
Name = Annotated[str, AfterValidator(_name)]
EnvVar = Annotated[str, AfterValidator(_env_var)]
PythonPath = Annotated[str, AfterValidator(_python_path)]
Column = Annotated[str, AfterValidator(_column)]
RelPath = Annotated[str, AfterValidator(rel_path)]
Fraction = Annotated[float, Field(gt=0, lt=1)]

Task = Literal["classification", "regression"]
DriftMethod = Literal["auto", "psi", "ks", "chi2", "wasserstein", "jensenshannon"]


class Features(Strict):
    """Feature columns by kind."""

    numeric: list[Column] = Field(default_factory=list, description="Numeric feature columns.")
    categorical: list[Column] = Field(
        default_factory=list, description="Categorical feature columns."
    )


# Where `dvc import-url` can read from (DVC's remote kinds that name a single file by URL).
SOURCE_SCHEMES = ("s3", "gs", "azure", "http", "https", "ssh", "hdfs", "webhdfs", "oss")


def _source_url(value: str) -> str:
    """A URL DVC can import from, or a local path outside the repository; no credentials."""
    if not value.strip() or value != value.strip() or any(c in value for c in "\n\r\x00"):
        raise ValueError("a source URL must be a non-empty single line without outer spaces")
    if is_url(value):
        scheme = value.split("://", 1)[0].lower()
        if scheme not in SOURCE_SCHEMES:
            raise ValueError(
                f"DVC cannot import from {scheme}:// URLs (supported: "
                f"{', '.join(s + '://' for s in SOURCE_SCHEMES)}, or a local path)"
            )
        reason = credential_in_url(value, user_ok=scheme == "ssh")
        if reason:
            raise ValueError(
                f"the source URL {reason.split(';')[0]}: DVC reads a source's credentials from the "
                "environment (e.g. AWS_ACCESS_KEY_ID for s3://) or its own config, never from "
                "ml.yaml"
            )
        return value
    from pathlib import PurePosixPath

    local = PurePosixPath(value.replace("\\", "/"))
    absolute = local.is_absolute() or (len(value) > 1 and value[1] == ":")
    if not absolute and (not local.parts or local.parts[0] != ".."):
        raise ValueError(
            f"{value!r} is a path inside the repository: version a file of the repository "
            "with DVC by leaving out `source`; a local source is an absolute path or one "
            "starting with '../' (relative to the repository root)"
        )
    return value


class UrlSource(Strict):
    """Data DVC imports from a URL or a local path outside the repository (`dvc import-url`)."""

    url: Annotated[str, AfterValidator(_source_url)] = Field(
        description="URL (s3://, https://, ...) or local path outside the repository (absolute, "
        "or relative to the repository root starting with '../'); `dvc update` refreshes it."
    )


class CmdSource(Strict):
    """Data written by the user's ingest command, run by DVC as the stage `ingest_<dataset>`."""

    cmd: str | list[str] = Field(description="Shell command(s) that write the dataset's file.")
    deps: list[RelPath] = Field(default_factory=list, description="Files the command reads.")
    always_changed: bool = Field(
        default=False,
        description="Run the command on every `mlcode run` / `dvc repro` (for a command that "
        "fetches from outside the repository, e.g. a database); otherwise DVC runs it only when "
        "the command or its `deps` change.",
    )


def _source_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        return "cmd-source" if "cmd" in value and "url" not in value else "url-source"
    return "cmd-source" if isinstance(value, CmdSource) else "url-source"


def _one_source(value: Any) -> Any:
    if isinstance(value, dict) and "url" in value and "cmd" in value:
        raise ValueError(
            "set either `url` (DVC imports the data) or `cmd` (your ingest command writes it), "
            "not both"
        )
    if isinstance(value, dict) and "url" not in value and "cmd" not in value:
        raise ValueError(
            "a source needs `url` (DVC imports the data) or `cmd` (your ingest command writes it)"
        )
    return value


DataSource = Annotated[
    Annotated[UrlSource, Tag("url-source")] | Annotated[CmdSource, Tag("cmd-source")],
    Discriminator(_source_tag),
    BeforeValidator(_one_source),
]


class Dataset(Strict):
    """A named dataset: a file versioned by DVC (never by git)."""

    path: RelPath = Field(
        description="File path relative to the repository root (.csv or .parquet)."
    )
    format: Literal["csv", "parquet"] | None = Field(
        default=None, description="File format; inferred from the suffix when omitted."
    )
    target: Column | None = Field(default=None, description="Column to predict.")
    features: Features = Field(default_factory=Features)
    id_column: Column | None = Field(
        default=None, description="Row identifier column, not a feature."
    )
    time_column: Column | None = Field(
        default=None, description="Event time column, not a feature."
    )
    source: DataSource | None = Field(
        default=None,
        description="Where new data comes from: `url` (DVC imports it; `dvc update` refreshes "
        "it) or `cmd` (an ingest command DVC runs as a stage).",
    )

    @property
    def resolved_format(self) -> str:
        """The declared format, or the one the suffix implies."""
        if self.format:
            return self.format
        return "parquet" if self.path.lower().endswith((".parquet", ".pq")) else "csv"

    @property
    def columns(self) -> list[str]:
        """Every declared feature column, numeric first."""
        return [*self.features.numeric, *self.features.categorical]


class Split(Strict):
    """How the dataset is split into train and test rows."""

    test_size: Fraction = Field(default=0.2, description="Share of rows held out for testing.")
    seed: int = Field(default=42, ge=0, le=2**32 - 1, description="Random seed of the split.")
    stratify: bool | None = Field(
        default=None,
        description="Stratify by the target; default: yes for classification, no for regression.",
    )


class TrainCommand(Strict):
    """A user command replacing the built-in train step."""

    cmd: str | list[str] = Field(description="Shell command(s) run by DVC.")
    deps: list[RelPath] = Field(default_factory=list, description="Extra dependencies.")
    outs: list[RelPath] = Field(default_factory=list, description="Files the command writes.")


class EvaluateCommand(Strict):
    """A user command replacing the built-in evaluate step."""

    cmd: str | list[str] = Field(description="Shell command(s) run by DVC.")
    deps: list[RelPath] = Field(default_factory=list, description="Extra dependencies.")
    metrics: RelPath = Field(description="JSON file of flat {metric: number} the command writes.")
    plots: list[RelPath] = Field(default_factory=list, description="Plot files the command writes.")


class VsChampion(Strict):
    """Compare the candidate with the current champion of the promotion stage."""

    min_improvement: float | None = Field(
        default=None, description="The candidate must beat the champion by at least this much."
    )
    max_regression: float | None = Field(
        default=None,
        ge=0,
        description="The candidate may be worse than the champion by at most this.",
    )
    relative: bool = Field(
        default=False, description="Amounts are fractions of the champion's value, not absolute."
    )
    confidence: Fraction | None = Field(
        default=None,
        description="Ask for significance: a paired bootstrap over the test rows must show the "
        "improvement (or rule out the regression) at this confidence, e.g. 0.95.",
    )

    @model_validator(mode="after")
    def _one_rule(self) -> VsChampion:
        if (self.min_improvement is None) == (self.max_regression is None):
            raise ValueError("set exactly one of min_improvement or max_regression")
        return self


class MetricGate(Strict):
    """One metric rule: an absolute threshold and/or a comparison with the champion."""

    metric: Annotated[str, AfterValidator(_name)] = Field(description="Metric name.")
    min: float | None = Field(default=None, description="The metric must be at least this.")
    max: float | None = Field(default=None, description="The metric must be at most this.")
    vs_champion: VsChampion | None = Field(default=None)

    @model_validator(mode="after")
    def _some_rule(self) -> MetricGate:
        if self.min is None and self.max is None and self.vs_champion is None:
            raise ValueError("a metric gate needs min, max or vs_champion")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class ColumnDrift(Strict):
    """Per-column drift settings."""

    method: DriftMethod = "auto"
    threshold: float | None = Field(default=None, gt=0, description="Method threshold override.")
    ignore: bool = Field(default=False, description="Leave this column out of the drift gate.")


class DriftGate(Strict):
    """Data drift between a reference and a current dataset."""

    reference: Name = Field(description="Dataset the model was trained on (name in `data`).")
    current: Name = Field(description="Newest batch to compare (name in `data`).")
    method: DriftMethod = Field(default="auto", description="Statistical test for every column.")
    threshold: float | None = Field(default=None, gt=0, description="Threshold for `method`.")
    columns: dict[Column, ColumnDrift] = Field(default_factory=dict)
    max_drifted_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Gate fails when this share of columns drifted or more (0 < x <= 1; 0 would "
        "fail every time).",
    )


class Gates(Strict):
    """Everything a retrained model must pass before promotion."""

    metrics: list[MetricGate] = Field(default_factory=list)
    drift: DriftGate | None = None
    fail_on_missing: bool = Field(
        default=True, description="A gate that cannot be evaluated fails (fail closed)."
    )


class Promotion(Strict):
    """How a model that passes its gates is proposed."""

    mode: Literal["pr", "commit"] = Field(
        default="pr", description="Pull request or direct commit."
    )
    base: str = Field(default="main", min_length=1, description="Branch promotions target.")
    branch_prefix: str = Field(
        default="mlcode/promote/", description="Prefix of promotion branches."
    )
    stage: Name = Field(default="prod", description="Registry stage assigned on promotion.")
    reviewers: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)
    require_champion: bool = Field(
        default=False, description="Refuse when there is no champion to compare against."
    )


class Retrain(Strict):
    """When `mlcode retrain` retrains the model (continuous training)."""

    when: Literal["always", "data_changed", "drift"] = Field(
        default="data_changed",
        description="always: every run; data_changed: when the training data differs from the "
        "champion's; drift: when the training data drifted from the champion's.",
    )
    max_drifted_share: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="With `when: drift`: retrain when this share of columns drifted or more "
        "(0 < x <= 1).",
    )


class Model(Strict):
    """One model trained from one dataset."""

    task: Task
    data: Name = Field(description="Training dataset (name in `data`).")
    estimator: PythonPath | None = Field(
        default=None, description="Import path of a scikit-learn compatible estimator class."
    )
    params: dict[str, Any] = Field(default_factory=dict, description="Estimator parameters.")
    split: Split = Field(default_factory=Split)
    metrics: list[Annotated[str, AfterValidator(_name)]] = Field(
        default_factory=list, description="Metrics to compute (defaults depend on the task)."
    )
    train: TrainCommand | None = Field(default=None, description="Own train command.")
    evaluate: EvaluateCommand | None = Field(default=None, description="Own evaluate command.")
    gates: Gates = Field(default_factory=Gates)
    promotion: Promotion = Field(default_factory=Promotion)
    retrain: Retrain = Field(default_factory=Retrain)

    @model_validator(mode="after")
    def _estimator_or_train(self) -> Model:
        if self.estimator is None and self.train is None:
            raise ValueError("set `estimator` (built-in training) or `train` (own command)")
        return self

    @property
    def resolved_metrics(self) -> tuple[str, ...]:
        """Declared metrics, or the task's defaults."""
        return tuple(self.metrics) or names.DEFAULT_METRICS[self.task]


PlotSpec = str | dict[str, Any]


class UserStage(Strict):
    """A user stage passed to DVC as written (DVC's own stage keys)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    cmd: str | list[str] | None = None
    wdir: RelPath | None = None
    deps: list[str] = Field(default_factory=list)
    outs: list[str | dict[str, Any]] = Field(default_factory=list)
    params: list[str | dict[str, Any]] = Field(default_factory=list)
    metrics: list[str | dict[str, Any]] = Field(default_factory=list)
    plots: list[str | dict[str, Any]] = Field(default_factory=list)
    desc: str | None = None
    frozen: bool = False
    always_changed: bool = False
    vars: list[str | dict[str, Any]] = Field(default_factory=list)
    meta: Any = None
    foreach: str | list[Any] | dict[str, Any] | None = None
    do: dict[str, Any] | None = None
    matrix: dict[str, list[Any] | str] | None = None

    @model_validator(mode="after")
    def _shape(self) -> UserStage:
        if self.foreach is not None:
            if self.do is None:
                raise ValueError("`foreach` needs a `do` stage body")
            extra = sorted(key for key in self.model_fields_set if key not in ("foreach", "do"))
            if extra:
                raise ValueError(
                    f"with `foreach`, a stage holds only `foreach` and `do`: move "
                    f"{', '.join(extra)} under `do`"
                )
        elif self.do is not None:
            raise ValueError("`do` is only valid together with `foreach`")
        elif self.cmd is None:
            raise ValueError("a stage needs `cmd` (or `foreach` + `do`)")
        return self


class CI(Strict):
    """Continuous integration and continuous training."""

    schedule: str | None = Field(default=None, description="Cron schedule of retraining (UTC).")
    retrain_on_data_change: bool = Field(
        default=True,
        description="Retrain when a data pointer (.dvc file) changes on the base branch.",
    )
    pull_request_checks: bool = Field(default=True, description="Check every pull request.")
    python: str = Field(default="3.11", pattern=r"^3\.\d{1,2}$", description="Python version.")
    runner: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
        description="Runner label (overrides the stack's).",
    )
    install: InstallSource | None = Field(default=None, description=INSTALL_DESCRIPTION)
    groups: dict[ModelName, list[ModelName]] | None = Field(
        default=None,
        description="Retrain models in groups, one CI job per group (for many models: GitHub's "
        "matrix allows 256 jobs, GitLab's parallel:matrix 200). Maps a group name to its models; "
        "every model in exactly one group. Absent: one job per model.",
    )


class MlSpec(Strict):
    """The whole ml.yaml."""

    version: Annotated[Literal[1], BeforeValidator(_whole_number)] = Field(
        description="Schema version of this file; always 1 for now."
    )
    project: Name = Field(description="Project name.")
    stack: str = Field(
        default="local",
        min_length=1,
        description="A stack preset name (see `stacks/`) or a path to the team's own stack file.",
    )
    data: dict[Name, Dataset] = Field(default_factory=dict)
    models: dict[ModelName, Model] = Field(default_factory=dict)
    stages: dict[Name, UserStage] = Field(default_factory=dict)
    ci: CI = Field(default_factory=CI)
