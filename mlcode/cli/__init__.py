"""The `mlcode` command line: a click group that imports each command only when it runs.

This module must stay light: `mlcode --help` imports click and nothing heavy (no dvc, pandas,
scikit-learn, scipy, matplotlib). A test enforces it.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import click

from mlcode import __version__
from mlcode.cli import needs, options
from mlcode.cli.boundary import run_guarded

# name → (module:attribute, one-line help). Help is here so `--help` imports no command module.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("mlcode.cli.init:command", "Scaffold ml.yaml (and an example project)."),
    "validate": ("mlcode.cli.validate:command", "Check ml.yaml against the schema and semantics."),
    "schema": ("mlcode.cli.schema:command", "Print the JSON Schema of ml.yaml."),
    "plan": ("mlcode.cli.plan:command", "Show what apply would change (files, remote, stages)."),
    "apply": ("mlcode.cli.apply:command", "Write generated files, set up DVC, stage in git."),
    "params": ("mlcode.cli.params:command", "Keep a DVC experiment's params in ml.yaml (pull)."),
    "check": ("mlcode.cli.check:command", "Pre-commit check: valid, in sync, no large files."),
    "run": ("mlcode.cli.run:command", "Reproduce models through DVC and show their metrics."),
    "gates": ("mlcode.cli.gates:command", "Evaluate the gates: metrics, champion, drift."),
    "drift": ("mlcode.cli.drift:command", "Data drift between two files or a model's datasets."),
    "step": ("mlcode.cli.step:command", "Run one built-in pipeline step (called by dvc.yaml)."),
    "promote": ("mlcode.cli.promote:command", "Promote models that pass: data, branch, tag, PR."),
    "retrain": ("mlcode.cli.retrain:command", "Refresh data, retrain, gate and promote (CT)."),
    "models": (
        "mlcode.cli.models:command",
        "Show the model registry (versions, stages) from git tags.",
    ),
    "pre-push": (
        "mlcode.cli.pre_push:command",
        "Pre-push check: the pushed commits' data is in the DVC remote.",
    ),
}


class LazyGroup(click.Group):
    """click's documented lazy-loading group: commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        target, _ = COMMANDS[cmd_name]
        module_name, attr = target.split(":")
        module = importlib.import_module(module_name)  # import errors must surface, not hide
        command = getattr(module, attr)
        if not isinstance(command, click.Command):  # pragma: no cover - programming error
            raise TypeError(f"{target} is not a click command")
        return needs.guarded(cmd_name, command)  # the light install names what it lacks

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlcode")
@options.directory
@click.option("--traceback", is_flag=True, hidden=True, help="Re-raise errors (debugging).")
@click.pass_context
def cli(ctx: click.Context, directory: Path | None, traceback: bool) -> None:
    """mlcode: ML as code in a git repository.

    Declare data, models, gates and infrastructure in ml.yaml; mlcode compiles it into DVC
    pipelines and CI workflows, versions the data with DVC and reproduces the models.
    """
    ctx.obj = options.Settings(cwd=(directory or Path.cwd()).absolute(), traceback=traceback)


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point: run the CLI with the one error boundary around it."""
    args = sys.argv[1:] if argv is None else argv
    sys.exit(run_guarded(cli, args))
