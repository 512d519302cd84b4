"""Cross-field checks of a schema-valid ml.yaml: references resolve, names do not collide, values
make sense together. Pure: returns located problems, never raises or prints.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from mlcode.errors import Problem
from mlcode.spec import names
from mlcode.spec.cron import cron_error
from mlcode.spec.model import CmdSource, Dataset, DriftGate, MlSpec
from mlcode.spec.yamlsource import Path, Positions, render_path


class _Collector:
    def __init__(self, positions: Positions) -> None:
        self.positions = positions
        self.problems: list[Problem] = []

    def add(self, path: Path, message: str, *, key: bool = False) -> None:
        self.problems.append(
            Problem(self.positions.locate(path, prefer_key=key), render_path(path), message)
        )


def check(spec: MlSpec, positions: Positions) -> list[Problem]:
    """Every semantic problem of `spec`, in file order."""
    out = _Collector(positions)
    _check_data(spec, out)
    _check_models(spec, out)
    _check_stages(spec, out)
    _check_groups(spec, out)
    if spec.ci.schedule is not None:
        err = cron_error(spec.ci.schedule)
        if err:
            out.add(("ci", "schedule"), f"invalid cron expression: {err}")
    out.problems.sort(key=lambda p: (p.location.line, p.location.column, p.field))
    return out.problems


# Paths a dataset can never be: mlcode's own files and the folders of git, DVC and mlcode.
_GENERATED = (
    "dvc.yaml",
    "params.yaml",
    "dvc.lock",
    ".gitignore",
    ".dvcignore",
    ".gitlab-ci.yml",
)
_RESERVED_DIRS = (".git", ".dvc", ".mlcode")


def dataset_path_problem(path: str, stack: str) -> str | None:
    """Why `path` (already relative, without '..') cannot be a dataset, or None."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    norm = "/".join(parts)
    if not parts:
        return "the path names the repository root, not a file"
    if norm == "ml.yaml":
        return "ml.yaml is the project file itself, not a dataset"
    if norm == PurePosixPath(stack).as_posix():
        return "this is the stack file, not a dataset"
    top = parts[0].casefold()
    if top in _RESERVED_DIRS:
        return f"the path is inside {parts[0]}/, which belongs to {top[1:]}; keep data outside it"
    if norm in _GENERATED or parts[-1] == ".gitignore" or norm.startswith(".github/workflows/"):
        return f"{norm} is a file that mlcode, git or DVC writes, not a dataset"
    if parts[-1].endswith(".dvc"):
        return "a .dvc file is DVC's pointer to data, not data"
    return None


def _check_data(spec: MlSpec, out: _Collector) -> None:
    paths: dict[str, str] = {}
    for name, ds in spec.data.items():
        base = ("data", name)
        norm = PurePosixPath(ds.path.replace("\\", "/")).as_posix()
        if norm in paths:
            out.add((*base, "path"), f"same file as dataset {paths[norm]!r}")
        paths[norm] = name
        reason = dataset_path_problem(ds.path, spec.stack)
        if reason:
            out.add((*base, "path"), reason)
        suffix = ds.path.lower().rsplit(".", 1)[-1] if "." in ds.path else ""
        if ds.format is None and suffix not in ("csv", "parquet", "pq"):
            out.add(
                (*base, "path"),
                f"cannot infer the format from {ds.path!r}: name a .csv or .parquet file, "
                "or set `format`",
            )
        seen: dict[str, str] = {}
        for kind in ("numeric", "categorical"):
            for i, col in enumerate(getattr(ds.features, kind)):
                where = (*base, "features", kind, i)
                if col in seen:
                    out.add(where, f"column {col!r} is listed twice (also in {seen[col]})")
                seen.setdefault(col, kind)
                if col == ds.target:
                    out.add(where, f"the target {col!r} cannot also be a feature")
                for role in ("id_column", "time_column"):
                    if col == getattr(ds, role):
                        out.add(where, f"{col!r} is the {role}; it cannot also be a feature")
        _check_source(name, ds, out)


def _check_source(name: str, ds: Dataset, out: _Collector) -> None:
    source = ds.source
    if not isinstance(source, CmdSource):
        return
    norm = PurePosixPath(ds.path.replace("\\", "/")).as_posix()
    for i, dep in enumerate(source.deps):
        if PurePosixPath(dep.replace("\\", "/")).as_posix() == norm:
            out.add(
                ("data", name, "source", "deps", i),
                f"{dep!r} is the dataset itself, which the ingest command writes; a stage cannot "
                "depend on its own output",
            )


def _check_models(spec: MlSpec, out: _Collector) -> None:
    for name, model in spec.models.items():
        base = ("models", name)
        ds = spec.data.get(model.data)
        if ds is None:
            out.add((*base, "data"), _unknown_dataset(model.data, spec))
        builtin_train = model.train is None
        if model.train is not None and model.estimator is not None:
            out.add(
                (*base, "estimator"),
                "`estimator` is unused when the model has its own `train` command; remove one",
            )
        if builtin_train and ds is not None:
            if ds.target is None:
                out.add((*base, "data"), f"dataset {model.data!r} has no `target` to train on")
            if not ds.columns:
                out.add((*base, "data"), f"dataset {model.data!r} declares no feature columns")
        if model.split.stratify and model.task == "regression":
            out.add(
                (*base, "split", "stratify"), "stratified splits need classes; not for regression"
            )
        known = names.TASK_METRICS[model.task]
        if model.evaluate is None:
            for i, metric in enumerate(model.metrics):
                if metric not in known:
                    out.add(
                        (*base, "metrics", i),
                        f"{metric!r} is not a {model.task} metric (expected one of "
                        f"{', '.join(known)})",
                    )
        declared = set(model.resolved_metrics)
        for i, gate in enumerate(model.gates.metrics):
            if gate.metric not in declared:
                out.add(
                    (*base, "gates", "metrics", i, "metric"),
                    f"metric {gate.metric!r} is not computed for this model (its metrics: "
                    f"{', '.join(sorted(declared))}); add it to `metrics`",
                )
        drift = model.gates.drift
        if drift is not None:
            for role in ("reference", "current"):
                ref = getattr(drift, role)
                if ref not in spec.data:
                    out.add((*base, "gates", "drift", role), _unknown_dataset(ref, spec))
            if drift.reference == drift.current:
                out.add((*base, "gates", "drift", "current"), "must differ from `reference`")
            ref_ds = spec.data.get(drift.reference)
            if ref_ds is not None and ref_ds.columns:
                for col in drift.columns:
                    if col not in ref_ds.columns:
                        out.add(
                            (*base, "gates", "drift", "columns", col),
                            f"column {col!r} is not a feature of dataset {drift.reference!r}",
                            key=True,
                        )
            if ref_ds is not None:
                _check_drift_methods(drift, ref_ds, (*base, "gates", "drift"), out)
        if model.retrain.when != "drift" and "max_drifted_share" in model.retrain.model_fields_set:
            out.add(
                (*base, "retrain", "max_drifted_share"),
                f"`max_drifted_share` only applies with `when: drift`, but `when` is "
                f"{model.retrain.when!r}; remove it or set `when: drift`",
            )
        promo = model.promotion
        for field, value in (("base", promo.base), ("branch_prefix", promo.branch_prefix)):
            if value and not _git_ref_ok(value):
                out.add(
                    (*base, "promotion", field),
                    f"{value!r} is not a valid git branch name part",
                )
        for field in ("reviewers", "labels"):
            for i, value in enumerate(getattr(promo, field)):
                if not value.strip() or any(c in value for c in "\n\r\x00") or len(value) > 100:
                    out.add(
                        (*base, "promotion", field, i),
                        "must be a non-empty single line of at most 100 characters",
                    )


# Tests that compare numbers; the drift step refuses them on a categorical column.
_NUMERIC_ONLY_METHODS = ("ks", "wasserstein")
_CATEGORICAL_METHODS = "chi2, jensenshannon, psi or auto"


def _check_drift_methods(drift: DriftGate, ref: Dataset, where: Path, out: _Collector) -> None:
    """`ks` / `wasserstein` reaching a categorical column of the reference dataset, located at the
    column's own `method`, or at the dataset-wide `method` a column inherits."""
    inherited: list[str] = []
    for col in ref.features.categorical:
        own = drift.columns.get(col)
        if own is not None and own.ignore:
            continue
        if own is not None and own.method != "auto":
            if own.method in _NUMERIC_ONLY_METHODS:
                out.add(
                    (*where, "columns", col, "method"),
                    f"drift method {own.method!r} needs a numeric column, but {col!r} is "
                    f"categorical in dataset {drift.reference!r}; use {_CATEGORICAL_METHODS}",
                )
        elif drift.method in _NUMERIC_ONLY_METHODS:
            inherited.append(col)
    if inherited:
        listed = ", ".join(repr(c) for c in inherited)
        noun = "column" if len(inherited) == 1 else "columns"
        out.add(
            (*where, "method"),
            f"drift method {drift.method!r} needs numeric columns, but it applies to the "
            f"categorical {noun} {listed} of dataset {drift.reference!r}; set another method "
            f"for {'it' if len(inherited) == 1 else 'them'} under `columns` "
            f"({_CATEGORICAL_METHODS}) or ignore {'it' if len(inherited) == 1 else 'them'}",
        )


def _check_stages(spec: MlSpec, out: _Collector) -> None:
    generated = {names.stage_name(step, m) for m in spec.models for step in names.STEPS}
    ingest = {
        names.ingest_stage(d) for d, ds in spec.data.items() if isinstance(ds.source, CmdSource)
    }
    for name in spec.stages:
        if name in generated:
            out.add(
                ("stages", name),
                f"stage name {name!r} collides with a stage mlcode generates for a model; rename it",
                key=True,
            )
        elif name in ingest:
            out.add(
                ("stages", name),
                f"stage name {name!r} collides with the stage mlcode generates for dataset "
                f"{name.removeprefix('ingest_')!r}'s ingest command; rename it",
                key=True,
            )


def _check_groups(spec: MlSpec, out: _Collector) -> None:
    """`ci.groups`: every group lists models declared under `models`, each in exactly one group."""
    groups = spec.ci.groups
    if groups is None:
        return
    placed: dict[str, str] = {}
    for group, members in groups.items():
        where = ("ci", "groups", group)
        if not members:
            out.add(where, f"group {group!r} lists no models; add its models or remove it")
        for i, model in enumerate(members):
            if model not in spec.models:
                known = ", ".join(sorted(spec.models)) or "none declared"
                out.add(
                    (*where, i),
                    f"model {model!r} is not declared under `models` (declared: {known})",
                )
            elif model in placed:
                out.add(
                    (*where, i),
                    f"model {model!r} is already in group {placed[model]!r}; a model belongs to "
                    "exactly one group (one CI job retrains it)",
                )
            else:
                placed[model] = group
    missing = [m for m in spec.models if m not in placed]
    if missing:
        listed = ", ".join(repr(m) for m in missing)
        out.add(
            ("ci", "groups"),
            f"{'model' if len(missing) == 1 else 'models'} {listed} "
            f"{'is' if len(missing) == 1 else 'are'} in no group: with `ci.groups` set, every "
            "model must be in exactly one group (or CI would never retrain it)",
            key=True,
        )


# How many jobs one matrix may expand to: GitHub Actions' `strategy.matrix` (per workflow run)
# and GitLab's `parallel:matrix`.
MATRIX_LIMITS = {
    "github": ("GitHub Actions' matrix", 256),
    "gitlab": ("GitLab's parallel:matrix", 200),
}


def matrix_limit(spec: MlSpec, ci: str) -> tuple[Path, str] | None:
    """Where and why the retrain jobs (one per model, or per `ci.groups` group) are more than the
    CI provider `ci` runs from one matrix; None when they fit."""
    if ci not in MATRIX_LIMITS:
        return None
    what, limit = MATRIX_LIMITS[ci]
    groups = spec.ci.groups
    if groups is not None:
        if len(groups) <= limit:
            return None
        return (
            ("ci", "groups"),
            f"{len(groups)} groups make {len(groups)} retrain jobs, more than {what} runs "
            f"({limit} jobs); merge groups so there are at most {limit}",
        )
    if len(spec.models) <= limit:
        return None
    return (
        ("models",),
        f"{len(spec.models)} models make {len(spec.models)} retrain jobs (one per model), more "
        f"than {what} runs ({limit} jobs); group them under `ci.groups` so each CI job retrains "
        "a group, e.g. `ci: {groups: {part-1: [model-a, model-b], part-2: [model-c]}}`",
    )


def stack_problems(spec: MlSpec, ci: str, positions: Positions) -> list[Problem]:
    """The problems that depend on the stack's CI provider (`ci` of the stack)."""
    out = _Collector(positions)
    found = matrix_limit(spec, ci)
    if found is not None:
        out.add(*found, key=True)
    return out.problems


def _unknown_dataset(name: str, spec: MlSpec) -> str:
    known = ", ".join(sorted(spec.data)) or "none declared"
    return f"dataset {name!r} is not declared under `data` (declared: {known})"


def _git_ref_ok(value: str) -> bool:
    if not names.GIT_REF_PART.match(value):
        return False
    bad = ("..", "//", "@{", ".lock/", "/.")
    return not any(b in value for b in bad) and not value.endswith((".lock", "."))
