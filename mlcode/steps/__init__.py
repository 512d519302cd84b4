"""The built-in pipeline steps DVC runs: `mlcode step prepare|train|evaluate|drift MODEL`.

Each step is a module `mlcode.steps.<step>` with `run(root, model) -> None`; it reads only
`params.yaml` (the model's section) and the files its DVC stage depends on, and writes only the outs
its stage declares (paths from `mlcode.layout`). Modules are imported by name when a step runs, so
importing this package costs nothing.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from mlcode.errors import EXIT_USAGE, MlcodeError, UsageError, UserError

STEPS = ("prepare", "train", "evaluate", "drift")


def run_step(step: str, root: Path, model: str) -> None:
    """Run built-in `step` for `model` in the repository at `root`."""
    if step not in STEPS:
        raise UsageError(f"unknown step {step!r}; steps: {', '.join(STEPS)}")
    name = f"mlcode.steps.{step}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise UserError(f"step {step!r} is not available in this version of mlcode") from None
    module.run(root, model)


def main_for(step: str | None, argv: list[str] | None = None) -> None:
    """`python -m mlcode.steps[.STEP] ...`: run one step in the current folder, exit with its code.

    Errors print one paragraph on stderr (no traceback), like `mlcode step`.
    """
    args = sys.argv[1:] if argv is None else argv
    usage = (
        "usage: python -m mlcode.steps STEP MODEL"
        if step is None
        else (f"usage: python -m mlcode.steps.{step} MODEL")
    )
    if step is None:
        if len(args) != 2:
            print(usage, file=sys.stderr)
            sys.exit(EXIT_USAGE)
        step, model = args
    else:
        if len(args) != 1:
            print(usage, file=sys.stderr)
            sys.exit(EXIT_USAGE)
        model = args[0]
    try:
        run_step(step, Path.cwd(), model)
    except MlcodeError as exc:
        print(f"Error: {exc.render()}", file=sys.stderr)
        sys.exit(exc.exit_code)
