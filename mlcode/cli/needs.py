"""Commands that need mlcode's full install, and the message when it is the light one.

The repository's root distribution, `mlcode-git-core`, installs with light dependencies: that is
what mlcode's pre-commit hook installs, and `check`, `validate`, `schema` and `init` need nothing
more. Planning, applying and running pipelines need DVC, scikit-learn, pandas, pyarrow and skops
(the core's `ml` extra, which the user-facing distribution `mlcode-git` always brings). In the
light install such a command stops with a message naming what is missing and how to install it,
exit 3, instead of a traceback from deep inside DVC or a step. Looking the packages up
(`importlib.util.find_spec`) imports none of them.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
from collections.abc import Callable
from typing import Any

import click

from mlcode.errors import UserError

# Import name → distribution, of everything the `ml` extra brings.
FULL: dict[str, str] = {
    "dvc": "dvc",
    "sklearn": "scikit-learn",
    "pandas": "pandas",
    "pyarrow": "pyarrow",
    "skops": "skops",
}
# Command → None (it always needs the full install) or the option that makes it need it.
NEEDS_FULL: dict[str, str | None] = {
    "plan": None,
    "apply": None,
    "run": None,
    "gates": None,
    "step": None,
    "promote": None,
    "retrain": None,
    "drift": None,
    "init": "example",
    "validate": "deep",
}


def missing() -> list[str]:
    """Distributions of the full install that this environment lacks."""
    return [dist for name, dist in FULL.items() if importlib.util.find_spec(name) is None]


def require_full(what: str) -> None:
    """UserError naming the missing packages when `what` (a command line) cannot run here."""
    lacking = missing()
    if lacking:
        raise UserError(
            f"`mlcode {what}` needs {', '.join(lacking)}, which this installation lacks: it is "
            "the light mlcode-git-core (what mlcode's pre-commit hook installs). Install mlcode "
            'with everything: `pip install mlcode-git` (or `pip install "mlcode-git-core[ml]"` '
            "in a checkout of mlcode)."
        )


def guarded(name: str, command: click.Command) -> click.Command:
    """`command`, checked for the full install first when NEEDS_FULL says it needs it.

    A copy with a wrapped callback, so parsing and `--help` work in the light install and the
    module-level command object stays untouched.
    """
    if name not in NEEDS_FULL or command.callback is None:
        return command
    option = NEEDS_FULL[name]
    callback: Callable[..., Any] = command.callback

    @functools.wraps(callback)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if option is None:
            require_full(name)
        elif kwargs.get(option):
            require_full(f"{name} --{option}")
        return callback(*args, **kwargs)

    out = copy.copy(command)
    out.callback = checked
    return out
