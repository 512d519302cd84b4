"""The orchestration of `mlcode retrain`: refresh → drift → decide → reproduce → gates → promote,
per model, under the checkout's retrain lock."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlcode.errors import UserError


@dataclass(frozen=True)
class Options:
    """How `mlcode retrain` runs: restore from / share to the DVC remote's run-cache."""

    pull: bool = False
    push: bool = False


def retrain(root: Path, models: tuple[str, ...], options: Options) -> None:
    """Retrain `models` (all when empty) in the checkout at `root`."""
    raise UserError("`mlcode retrain` is not built yet")
