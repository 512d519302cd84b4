"""Whether a model is retrained, from `retrain.when` and the evidence about its training data
(pure: no I/O; `mlcode.retrain.champion_data` gathers the evidence).

- `always`: yes, every run.
- `data_changed` (the default): yes when the training data's md5 now differs from its md5 at the
  champion's commit; an md5 that cannot be read on either side counts as changed (retraining is
  the side that cannot miss new data: the gates still decide what is promoted).
- `drift`: yes when the share of drifted columns (the training data now against the champion's,
  by the drift engine) is `max_drifted_share` or more.

No champion (the model's first version) is always a yes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

When = Literal["always", "data_changed", "drift"]
WHEN_VALUES: tuple[str, ...] = get_args(When)
FIRST_VERSION = "no champion: first version"
_SHOWN_COLUMNS = 3  # drifted column names shown in `why` before "..."
_MD5 = 8  # hex digits of an md5 shown in `why`


@dataclass(frozen=True)
class DataEvidence:
    """What is known about the model's training data now and at the champion's commit."""

    champion_commit: str | None  # None: no champion (first version)
    champion_md5: str | None  # md5 of the training data at the champion's commit
    current_md5: str | None  # md5 of the training data in the working tree now
    drifted_share: float | None  # None: not measured (when != drift, or no champion)
    drifted_columns: tuple[str, ...] = ()
    n_columns: int = 0

    @property
    def data_changed(self) -> bool:
        """True unless both md5s are known and equal."""
        return self.current_md5 is None or self.current_md5 != self.champion_md5

    @property
    def drift_detail(self) -> str:
        """One line for a summary table's drift column."""
        if self.champion_commit is None:
            return "no champion to compare with"
        if self.drifted_share is None:
            return "not measured"
        if self.n_columns == 0:
            return "no column to compare"
        count = len(self.drifted_columns)
        same = " (data unchanged)" if not self.data_changed else ""
        return f"{count}/{self.n_columns} columns drifted (share {self.drifted_share:.2f}){same}"

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "champion_commit": self.champion_commit,
            "champion_md5": self.champion_md5,
            "current_md5": self.current_md5,
            "drifted_share": self.drifted_share,
            "drifted_columns": list(self.drifted_columns),
            "n_columns": self.n_columns,
        }


@dataclass(frozen=True)
class Decision:
    """The verdict for one model and its one-line reason."""

    when: When
    retrain: bool
    why: str  # one line for the summary table

    def to_json(self) -> dict[str, Any]:
        """`{"when", "retrain", "why"}`."""
        return {"when": self.when, "retrain": self.retrain, "why": self.why}


def decide(when: When, evidence: DataEvidence, max_drifted_share: float) -> Decision:
    """Retrain or not, and why. ValueError for a `when` outside `When`, a `max_drifted_share`
    outside (0, 1] with `drift`, or `drift` with a champion but no drift measured (a caller's
    mistake: `evidence(measure_drift=True)` measures it)."""
    if when not in WHEN_VALUES:
        raise ValueError(f"retrain.when must be one of {', '.join(WHEN_VALUES)}, got {when!r}")
    if when == "always":
        return Decision(when, True, "retrain.when is always")
    if evidence.champion_commit is None:
        return Decision(when, True, FIRST_VERSION)
    if when == "data_changed":
        return Decision(when, evidence.data_changed, _md5_why(evidence))
    if not 0 < max_drifted_share <= 1:
        raise ValueError(f"max_drifted_share must be in (0, 1], got {max_drifted_share!r}")
    share = evidence.drifted_share
    if share is None:
        raise ValueError("retrain.when is drift but the evidence has no drift measured")
    drifted = share >= max_drifted_share
    return Decision(when, drifted, _drift_why(evidence, share, max_drifted_share, drifted))


def _short(md5: str | None) -> str:
    return md5[:_MD5] if md5 else "unknown"


def _md5_why(evidence: DataEvidence) -> str:
    old, new = evidence.champion_md5, evidence.current_md5
    if new is None:
        return "training data md5 unknown now (not tracked by DVC?): counted as changed"
    if old is None:
        return f"data changed (the champion's commit has no record of it → md5 {_short(new)})"
    if old == new:
        return f"data unchanged (md5 {_short(new)})"
    return f"data changed (md5 {_short(old)} → {_short(new)})"


def _drift_why(evidence: DataEvidence, share: float, limit: float, drifted: bool) -> str:
    n = evidence.n_columns
    count = len(evidence.drifted_columns)
    if n == 0:
        return "no drift measured: no column to compare"
    names = list(evidence.drifted_columns[:_SHOWN_COLUMNS])
    if count > _SHOWN_COLUMNS:
        names.append("...")
    listed = f" ({', '.join(names)})" if names else ""
    if drifted:
        return f"drift {count}/{n} columns ≥ {limit:g}{listed}"
    same = ", data unchanged" if not evidence.data_changed else ""
    return f"no drift: {count}/{n} columns < {limit:g}{listed}{same}"
