"""A fair comparison with the champion: recorded metrics only on a byte-identical test set, else
the champion re-scored on the candidate's test set; bootstrap intervals when a rule asks.

The I/O edge of the fair comparison (the decisions are pure: `comparable`, `bootstrap`):

- the test sets are compared by the split's hash in `dvc.lock` at the champion's commit and now;
- the champion's model file is fetched with `dvc get <repo> <model file> --rev <commit>`: DVC's
  own machinery resolves the file from the champion's `dvc.lock` (the `.dir` manifest of the
  model folder included), takes it from the local cache when it is there, else from the remote
  the champion's commit configures, with DVC's own credentials handling, for every remote type
  the stacks use; it writes only the file asked for, into a temporary folder (nothing in the
  workspace or the cache changes);
- the champion's model is loaded only through `mlcode.steps.model_io.load_model` (the safe
  loader), with the estimator its own commit's params.yaml names, and scored by the evaluate
  step's own `evaluate` on the current test split;
- the candidate's per-row predictions come from its model loaded the same safe way.

Only the built-in evaluate step can be re-run like this: a model with its own `evaluate` command
has no per-row predictions mlcode could compute, so a rule that needs re-scoring (the test set
changed) or an interval (`confidence`) cannot be evaluated; it fails closed with that reason,
unless `fail_on_missing` is false.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlcode.errors import UserError
from mlcode.gates.comparable import TestSet, compare
from mlcode.gates.rules import Missing, Reading
from mlcode.layout import model_paths

if TYPE_CHECKING:
    from mlcode.gates.bootstrap import Predictions
    from mlcode.steps.common import ModelParams

STEP = "evaluate"
LOCK = "dvc.lock"
PARAMS = "params.yaml"


@dataclass(frozen=True)
class Fair:
    """What the fair comparison found: the values to compare with, and how they were obtained
    (`note`: why the champion was re-scored or could not be, empty when the test set is
    unchanged)."""

    values: Mapping[str, Reading]
    rescored: bool
    note: str
    test_set: TestSet
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)


def fair_values(
    root: Path,
    model: str,
    commit: str,
    metrics: Sequence[str],
    confidence: float | None,
    *,
    recorded: dict[str, Reading],
    own_evaluate: bool,
    models: Models | None = None,
) -> Fair:
    """The champion's values of `metrics`, fairly: `recorded` (its metrics file at `commit`) when
    the test set is unchanged, else re-scored; intervals of (candidate - champion) when
    `confidence` is set. Every failure is a Missing value with the reason. `models`: the loaded
    models to share between calls for the same champion (a fresh one when None)."""
    paths = model_paths(model)
    test_set = compare(_git_text(root, commit, LOCK), _read(root / LOCK), paths.test_split)
    if test_set.same and confidence is None:
        return Fair(recorded, False, "", test_set)
    if own_evaluate:
        own = f"model {model!r} has its own evaluate command"
        if test_set.same:
            why = (
                "an interval (confidence) needs per-row predictions, which only the built-in "
                f"evaluate step gives; {own}"
            )
        else:
            why = (
                f"{test_set.why}, so the champion's recorded metrics are not comparable; "
                f"re-scoring it needs the built-in evaluate step, and {own}"
            )
        return Fair(dict.fromkeys(metrics, Missing(why)), False, test_set.why, test_set)
    try:
        scored = _rescore(models or Models(root, model, commit), metrics, confidence)
    except UserError as exc:
        why = f"cannot re-score the champion (commit {commit[:12]}): {exc.message}"
        if test_set.same:  # only the interval a rule asked for is missing
            failed: dict[str, Reading] = {m: Missing(f"no interval: {why}") for m in metrics}
            return Fair(failed, False, "", test_set)
        return Fair(dict.fromkeys(metrics, Missing(why)), False, test_set.why, test_set)
    values, intervals = scored
    note = "" if test_set.same else test_set.why
    if test_set.same:
        values = {m: recorded.get(m, Missing(f"no recorded {m}")) for m in metrics}
    for metric in metrics:
        known = not isinstance(values.get(metric), Missing)
        if confidence is not None and known and metric not in intervals:
            values[metric] = Missing(
                f"no {confidence:.0%} interval for {metric}: it is not a built-in metric "
                "or no resample defines it"
            )
    return Fair(values, not test_set.same, note, test_set, intervals)


class Models:
    """The champion's and the candidate's loaded models and the current test split, each read at
    most once per `mlcode gates` run and model (rules with different `confidence` share them).

    A failure is kept and raised again on each later use, so every rule gets the same reason.
    """

    def __init__(self, root: Path, model: str, commit: str) -> None:
        self.root = root
        self.model = model
        self.commit = commit
        self._done: dict[str, Any] = {}

    def _once(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._done:
            try:
                self._done[key] = make()
            except UserError as exc:
                self._done[key] = exc
        found = self._done[key]
        if isinstance(found, UserError):
            raise found
        return found

    def ours(self) -> ModelParams:
        """The current params of the model."""
        from mlcode.steps.common import load_params

        params: ModelParams = self._once("ours", lambda: load_params(self.root, self.model, STEP))
        return params

    def frame(self) -> Any:
        """The current test split."""
        return self._once("frame", self._frame)

    def champion(self) -> tuple[Any, ModelParams]:
        """The champion's model, fetched and loaded safely, with its own commit's params."""
        loaded: tuple[Any, ModelParams] = self._once("champion", self._champion)
        return loaded

    def candidate(self) -> Any:
        """The candidate's model (the working tree's), loaded safely."""
        from mlcode.steps.model_io import load_model

        path = self.root / model_paths(self.model).model_file
        estimator = self.ours().estimator
        return self._once(
            "candidate", lambda: load_model(path, estimator, model=self.model, step=STEP)
        )

    def _frame(self) -> Any:
        import pandas as pd

        rel = model_paths(self.model).test_split
        if not (self.root / rel).is_file():
            raise UserError(f"{rel} not found; run `mlcode run`")
        try:
            return pd.read_parquet(self.root / rel, engine="pyarrow")
        except Exception as exc:  # pyarrow's errors have no common base
            raise UserError(f"cannot read {rel}: {type(exc).__name__}: {exc}") from None

    def _champion(self) -> tuple[Any, ModelParams]:
        from mlcode.steps.common import load_params
        from mlcode.steps.model_io import load_model

        with tempfile.TemporaryDirectory(prefix="mlcode-champion-") as tmp:
            folder = Path(tmp)
            params_text = _git_text(self.root, self.commit, PARAMS)
            if params_text is None:
                raise UserError(f"the champion's commit has no {PARAMS}")
            (folder / PARAMS).write_text(params_text, encoding="utf-8")
            theirs = load_params(folder, self.model, STEP)
            model_file = folder / "model.skops"
            _fetch(self.root, self.commit, model_paths(self.model).model_file, model_file)
            loaded = load_model(model_file, theirs.estimator, model=self.model, step=STEP)
        return loaded, theirs


def _rescore(
    models: Models, metrics: Sequence[str], confidence: float | None
) -> tuple[dict[str, Reading], dict[str, tuple[float, float]]]:
    """The champion's metrics on the current test split, and the intervals when asked."""
    from mlcode.spec.names import TASK_METRICS
    from mlcode.steps.evaluate import evaluate

    ours = models.ours()
    frame = models.frame()
    champion, theirs = models.champion()
    known = [m for m in metrics if m in TASK_METRICS[theirs.task]]
    values: dict[str, Reading] = {
        m: Missing(f"{m} is not a metric the built-in evaluate step computes") for m in metrics
    }
    if known:
        result = evaluate(champion, frame, dataclasses.replace(theirs, metrics=tuple(known)))
        values.update(result.metrics)
    if confidence is None:
        return values, {}
    from mlcode.gates.bootstrap import paired_bootstrap

    truth = frame[_target(ours)].to_numpy()
    try:
        found = paired_bootstrap(
            truth,
            predictions(models.candidate(), frame, ours),
            predictions(champion, frame, theirs),
            known,
            confidence,
            task=ours.task,
            seed=ours.split.seed,
        )
    except ValueError as exc:
        raise UserError(f"cannot compute the bootstrap interval: {exc}") from None
    return values, {m: iv for m, iv in found.items() if iv is not None}


def predictions(pipeline: Any, frame: Any, params: ModelParams) -> Predictions:
    """A loaded model's per-row predictions on the test split (labels or values, probabilities
    and classes when it has them), with the features its own params name."""
    import numpy as np

    from mlcode.gates.bootstrap import Predictions

    missing = [c for c in params.data.features if c not in frame.columns]
    if missing:
        raise UserError(f"the current test split lacks column(s) {', '.join(missing)}")
    x = frame[params.data.features]
    try:
        predicted = np.asarray(pipeline.predict(x))
        if not params.is_classification:
            return Predictions(predicted.astype(float).ravel())
        proba = (
            np.asarray(pipeline.predict_proba(x)) if hasattr(pipeline, "predict_proba") else None
        )
    except ValueError as exc:
        raise UserError(f"cannot predict: {type(exc).__name__}: {exc}") from None
    return Predictions(predicted, proba, tuple(np.asarray(pipeline.classes_).tolist()))


def _target(params: ModelParams) -> str:
    if params.data.target is None:
        raise UserError(f"params.yaml names no target for model {params.name!r}")
    return params.data.target


def _fetch(root: Path, commit: str, path: str, dest: Path) -> None:
    """`path` as `commit` tracks it with DVC, from the cache or else the remote, into `dest`."""
    from mlcode.adapters.dvc_get import get_file, last_error

    try:
        get_file(root, path, commit, dest)
    except UserError as exc:
        raise UserError(
            f"its model file {path} is neither in the DVC cache nor on the DVC remote, or "
            f"cannot be fetched ({last_error(exc.message)})",
            hint=exc.hint,
        ) from None


def _git_text(root: Path, commit: str, path: str) -> str | None:
    """The text of `path` at `commit`, None when the commit has no such file or it is not text."""
    from mlcode.adapters.proc import run_bytes
    from mlcode.gates.champion import has_file

    if not has_file(root, commit, path):
        return None
    try:
        raw = run_bytes(["git", "cat-file", "blob", f"{commit}:{path}"], root, what="git cat-file")
        return raw.decode("utf-8")
    except (UserError, UnicodeDecodeError):
        return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
