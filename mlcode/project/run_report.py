"""What `mlcode run` does: choose the models' stages (`prepare`), reproduce the stale ones through
DVC (`reproduce`), then gather each model's metrics, changed params and drift verdict against a
git revision (`collect`) as a `metrics_table.Report` value the CLI renders.

The I/O edge of `mlcode run`: loads ml.yaml, reads dvc.yaml and the models' metrics files, asks
git whether the revision exists and DVC which stages are stale, to reproduce them, and for
`dvc metrics diff` / `dvc params diff`. The parsing and merging are pure
(`mlcode.project.metrics_table`). A failing DVC call is an error with DVC's reason; a revision DVC
could not read is marked in the report, never shown as "new".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlcode.errors import UserError
from mlcode.layout import DVC_FILE, model_paths
from mlcode.project import metrics_table

if TYPE_CHECKING:
    from mlcode.spec.model import MlSpec


@dataclass(frozen=True)
class Run:
    """What one `mlcode run` works on: the models, their DVC stages, and the stale ones."""

    root: Path
    spec: MlSpec
    models: list[str]
    targets: list[str]
    stale: list[str]


def prepare(root: Path, asked: tuple[str, ...]) -> Run:
    """Load ml.yaml at `root`, pick the models `asked` (all when empty) and their stages, and ask
    DVC which of those are stale."""
    from mlcode.adapters import dvc
    from mlcode.spec.load import load_project

    spec = load_project(root).spec
    names = selected_models(list(spec.models), asked)
    targets = stage_targets(root, names)
    # --with-deps: a target is stale when anything upstream of it is, not only its own inputs.
    stale = sorted(dvc.status(root, targets, with_deps=True)) if targets else []
    return Run(root, spec, names, targets, stale)


def reproduce(root: Path, targets: list[str], *, capture: bool, pull: bool = False) -> None:
    """`dvc repro` of `targets` (all stages when empty); `capture` hides DVC's output.

    `pull` (a CI runner sharing the DVC remote with others): the remote's run-cache entries and
    the objects of their `cache: false` outputs come first, then `dvc repro --pull` restores
    every stage some runner already computed instead of running it."""
    from mlcode.adapters import dvc

    if pull:
        from mlcode.adapters.dvc_run_cache import transfer_uncached_outputs

        transfer_uncached_outputs(root, "pull")
    dvc.repro(root, targets, capture=capture, pull=pull)


def share(root: Path, targets: list[str], *, capture: bool) -> int:
    """Push the targets' outputs and the run-cache (with its `cache: false` outputs, which DVC
    leaves behind) to the DVC remote, so other runners restore these stages; return how many
    such extra objects were pushed."""
    from mlcode.adapters import dvc
    from mlcode.adapters.dvc_run_cache import transfer_uncached_outputs

    dvc.push_run(root, targets, capture=capture)
    return transfer_uncached_outputs(root, "push")


def selected_models(known: list[str], asked: tuple[str, ...]) -> list[str]:
    """The models to run: those asked for (checked), or all of them."""
    if not asked:
        return sorted(known)
    unknown = [m for m in asked if m not in known]
    if unknown:
        listing = ", ".join(sorted(known)) or "none"
        raise UserError(f"unknown model(s) {', '.join(unknown)}; models in ml.yaml: {listing}")
    return list(dict.fromkeys(asked))


def stage_targets(root: Path, names: list[str]) -> list[str]:
    """evaluate_M (and drift_M when dvc.yaml has it) of each model; dvc.yaml must be current."""
    import yaml

    from mlcode.spec.names import stage_name

    path = root / DVC_FILE
    if not path.is_file():
        raise UserError(
            f"{DVC_FILE} not found in {root}; run `mlcode apply` first to generate the pipeline"
        )
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"{DVC_FILE} is not valid YAML: {exc}") from None
    stages = doc.get("stages") if isinstance(doc, dict) else None
    stages = stages if isinstance(stages, dict) else {}
    targets: list[str] = []
    for model in names:
        evaluate = stage_name("evaluate", model)
        if evaluate not in stages:
            raise UserError(
                f"{DVC_FILE} has no stage {evaluate} for model {model!r}; it is out of date "
                "with ml.yaml: run `mlcode apply` first"
            )
        targets.append(evaluate)
        drift = stage_name("drift", model)
        if drift in stages:
            targets.append(drift)
    return targets


def _read(root: Path, rel: str) -> str | None:
    """A file's text; None when it does not exist (other failures raise OSError/ValueError)."""
    try:
        return (root / rel).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _metrics_file(root: Path, rel: str, expected: tuple[str, ...]) -> metrics_table.MetricsFile:
    try:
        text = _read(root, rel)
    except (OSError, UnicodeDecodeError) as exc:
        return metrics_table.MetricsFile(rel, "unreadable", reason=f"cannot read {rel}: {exc}")
    return metrics_table.parse_metrics(rel, text, expected)


def _drift(root: Path, rel: str) -> metrics_table.DriftVerdict:
    try:
        text = _read(root, rel)
    except (OSError, UnicodeDecodeError) as exc:
        return metrics_table.DriftVerdict("unreadable", reason=f"cannot read {rel}: {exc}")
    return metrics_table.parse_drift(rel, text)


def _absent_at(root: Path, rev: str, paths: list[str]) -> frozenset[str]:
    """Those of `paths` that the revision's tree does not hold (one `git ls-tree` call)."""
    from mlcode.adapters import git

    out = git.git(root, "ls-tree", "-r", "-z", "--name-only", rev, "--", *paths, check=False)
    return frozenset(paths) - set(out.split("\0"))


def _rev_exists(root: Path, rev: str) -> bool:
    from mlcode.adapters import git

    commit = git.git(root, "rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False)
    return bool(commit.strip())


def collect(root: Path, spec: MlSpec, names: list[str], rev: str = "HEAD") -> metrics_table.Report:
    """Each named model's metrics, params changes and drift verdict against `rev`.

    Without `rev` (no commit yet) nothing is compared. A failing `dvc metrics diff` or `dvc params
    diff` raises UserError with DVC's reason.
    """
    from mlcode.adapters import dvc

    files: dict[str, metrics_table.MetricsFile] = {}
    drift: dict[str, metrics_table.DriftVerdict | None] = {}
    for model in names:
        own = spec.models[model].evaluate
        paths = model_paths(model, own.metrics if own else None)
        expected = tuple(spec.models[model].resolved_metrics)
        files[model] = _metrics_file(root, paths.metrics, expected)
        has_drift = spec.models[model].gates.drift is not None
        drift[model] = _drift(root, paths.drift_metrics) if has_drift else None
    baseline = rev if names and _rev_exists(root, rev) else None
    metrics: dvc.Diff | None = None
    params: dvc.Diff | None = None
    if baseline is not None:
        # Two independent read-only DVC processes: run them side by side (DVC takes no lock here).
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=2) as pool:
            params_job = pool.submit(dvc.params_diff, root, baseline)
            metrics = dvc.metrics_diff(root, baseline)
            params = params_job.result()
    # A metrics file the baseline does not hold yet (the first run after committing the
    # pipeline) is new: DVC warns that it could not load it, but nothing there is unreadable.
    metric_paths = sorted(f.path for f in files.values())
    absent = _absent_at(root, baseline, metric_paths) if baseline is not None else frozenset()
    if metrics is not None and metric_paths and absent == frozenset(metric_paths):
        metrics = dvc.Diff(metrics.data, {})
    table = metrics_table.build(
        {m: f.path for m, f in files.items()},
        files,
        None if metrics is None else metrics.data,
        order={m: tuple(spec.models[m].resolved_metrics) for m in names},
        baseline_unreadable=metrics is not None and rev in metrics.unreadable,
        absent_at_rev=absent,
        rev=rev,
    )
    changed = metrics_table.params_by_model(
        None if params is None else params.data,
        names,
        {} if params is None else params.unreadable,
        rev,
    )
    warnings = tuple(
        dict.fromkeys(
            why
            for diff in (metrics, params)
            if diff is not None
            for why in diff.unreadable.values()
        )
    )
    return metrics_table.Report(baseline, table, files, changed, drift, warnings)
