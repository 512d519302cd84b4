"""`mlcode retrain [MODEL...]`: the continuous-training loop the scheduled CI job calls — refresh the
data, measure drift against the champion's training data, decide per model from `retrain.when`,
reproduce, evaluate the gates and promote. One summary table (or `--json`); the exit code says
promoted (0), gates said no (1), error (3) or nothing to do (4).

The work is `mlcode.retrain.run`; this module parses options and prints.
"""

from __future__ import annotations

import json
import sys

import click

from mlcode.cli import options
from mlcode.errors import EXIT_USER_ERROR, MlcodeError, UserError


@click.command("retrain")
@click.argument("models", nargs=-1)
@click.option(
    "--pull",
    is_flag=True,
    help="Restore stages another runner already computed from the DVC remote's run-cache "
    "instead of running them.",
)
@click.option(
    "--push",
    is_flag=True,
    help="Push the models' outputs and the run-cache to the DVC remote after reproducing.",
)
@options.json_output("Print the summary as JSON (progress and DVC's output hidden).")
@click.pass_context
def command(
    ctx: click.Context, models: tuple[str, ...], pull: bool, push: bool, as_json: bool
) -> None:
    """Retrain MODELS (default: all) whose data calls for it, and promote those that pass.

    Per model: refresh its data sources; compare its training data with the champion's (md5,
    drift); decide from `retrain.when`; reproduce; evaluate the gates; promote. Exit 0: promoted;
    1: gates said no; 3: error; 4: nothing to do.
    """
    from mlcode.retrain.run import Options, retrain

    def progress(line: str) -> None:
        click.echo(f"retrain: {line}", err=True)

    show = not as_json or sys.stderr.isatty()
    try:
        result = retrain(
            options.root(ctx), models, Options(pull=pull, push=push), progress if show else _quiet
        )
    except (click.ClickException, click.exceptions.Exit):
        raise
    except MlcodeError as exc:
        _json_error(as_json, exc)
        raise
    except Exception as exc:
        # exit 4 is "nothing to do" for retrain (a success for the scheduled job), not a bug's
        # code: a bug here is exit 3, with the boundary's words
        if options.settings(ctx).traceback:
            raise
        error = UserError(
            f"Internal error (a bug in mlcode): {type(exc).__name__}: {exc}",
            hint="Run again with --traceback for details, and please report it.",
        )
        _json_error(as_json, error)
        raise error from None
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        click.echo(result.to_table(), nl=False)
    ctx.exit(result.exit_code)


def _quiet(_: str) -> None:
    pass


def _json_error(as_json: bool, exc: MlcodeError) -> None:
    """With --json, a failure of the run as a whole (before any model) is one JSON object on
    stdout too, for the scheduled job that parses it; the boundary still prints the paragraph on
    stderr and sets the exit code."""
    if as_json and exc.exit_code == EXIT_USER_ERROR:
        from mlcode.retrain.summary import run_error

        click.echo(json.dumps(run_error(exc.message, exc.hint), indent=2))
