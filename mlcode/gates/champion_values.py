"""The champion's metric values: the one place `vs_champion` rules get the champion's numbers.

Today: the metrics the champion recorded, read with `git show <commit>:<metrics file>`. A file
that is absent at that commit, unreadable or not JSON, or a metric it lacks or holds as NaN, gives
a `Missing` with the reason, so the rule fails closed. The fair comparison (re-scoring the
champion on the candidate's test set when the data or split changed, and bootstrap intervals when
a rule sets `confidence`) plugs in here and reports itself through `rescored`, `note` and
`intervals`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mlcode.gates.readings import MetricsDoc, parse_metrics, unreadable
from mlcode.gates.report import ChampionInfo
from mlcode.gates.rules import Missing, Reading

if TYPE_CHECKING:
    from mlcode.spec.model import MlSpec


@dataclass(frozen=True)
class ChampionValues:
    """The champion's value of each metric asked for (or why it has none).

    `rescored`: the values come from re-scoring the champion on the current test set, not from its
    recorded metrics; `note`: what a reader should know about them; `intervals`: per metric, the
    confidence interval of (candidate - champion) when a rule asked for `confidence`.
    """

    values: Mapping[str, Reading]
    rescored: bool = False
    note: str = ""
    intervals: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def get(self, metric: str) -> Reading:
        """The champion's value of `metric`, or Missing."""
        return self.values.get(metric, Missing(f"the champion's {metric} was not read"))


def metrics_path(spec: MlSpec, model: str) -> str:
    """The model's metrics file (its own evaluate command's, or the built-in step's)."""
    from mlcode.layout import model_paths

    own = spec.models[model].evaluate
    return model_paths(model, own.metrics if own else None).metrics


def champion_values(
    root: Path,
    model: str,
    champion: ChampionInfo,
    metrics: Sequence[str],
    confidence: float | None,
    *,
    spec: MlSpec | None = None,
) -> ChampionValues:
    """The champion's values of `metrics` (the recorded ones at its commit).

    `confidence` (0 < c < 1) asks for significance; without the fair comparison it is not used
    and the values are the recorded ones. `spec` is ml.yaml when the caller has it loaded.
    """
    del confidence  # used by the fair comparison
    if spec is None:
        from mlcode.spec.load import load_project

        spec = load_project(root).spec
    path = metrics_path(spec, model)
    if champion.commit is None:
        why = Missing(f"no champion: {champion.note or champion.source}")
        return ChampionValues(dict.fromkeys(metrics, why))
    doc = recorded(root, champion.commit, path, champion.version)
    return ChampionValues({m: doc.get(m) for m in metrics})


def recorded(root: Path, commit: str, path: str, version: str | None = None) -> MetricsDoc:
    """The metrics file `path` as `commit` recorded it."""
    from mlcode.adapters.proc import run_bytes
    from mlcode.errors import UserError
    from mlcode.gates.champion import has_file

    where = f"{path} at {version or 'commit ' + commit[:12]}"
    if not has_file(root, commit, path):
        return parse_metrics(where, None, absent=f"the champion's {where} does not exist")
    try:
        raw = run_bytes(["git", "cat-file", "blob", f"{commit}:{path}"], root, what="git cat-file")
    except UserError as exc:
        return unreadable(f"the champion's {where}", exc.message)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return unreadable(f"the champion's {where}", "not UTF-8 text")
    return parse_metrics(f"the champion's {where}", text)
