"""`mlcode pre-push`: the pre-push hook keeping data before pointer (see mlcode.project.prepush)."""

from __future__ import annotations

import os
import sys

import click

from mlcode.cli import options
from mlcode.errors import CheckFailed


@click.command("pre-push")
@click.argument("git_remote", required=False)
@click.argument("url", required=False)
@click.option(
    "--remote",
    "dvc_remote",
    default=None,
    help="DVC remote to check (default: DVC's default remote, the stack's after apply).",
)
@click.pass_context
def command(
    ctx: click.Context, git_remote: str | None, url: str | None, dvc_remote: str | None
) -> None:
    """Refuse a git push whose DVC pointers reference data missing from the DVC remote.

    As a git pre-push hook it reads the refs being pushed from stdin; under pre-commit
    (`stages: [pre-push]`) from pre-commit's environment; by hand it checks the commits of HEAD
    that no branch of GIT_REMOTE (default: origin) holds.
    """
    from mlcode.project.prepush import (
        PushedRange,
        check_push,
        ranges_from_environment,
        ranges_from_hook_stdin,
        render_refusal,
    )

    root = options.root(ctx)
    name = git_remote or os.environ.get("PRE_COMMIT_REMOTE_NAME") or "origin"
    ranges = ranges_from_environment(os.environ)
    if ranges is None:
        if url is not None:  # git runs a pre-push hook as `HOOK <remote name> <url>`
            ranges = ranges_from_hook_stdin(sys.stdin.read(), name)
        else:
            ranges = [PushedRange("HEAD", (f"--remotes={name}",), name)]
    report = check_push(root, ranges, dvc_remote)
    if report.missing:
        raise CheckFailed(render_refusal(report))
    checked = len(report.commits_checked)
    if checked:
        click.echo(
            f"mlcode pre-push: ok ({checked} commit(s) changing DVC pointers; data in the remote)."
        )
    else:
        click.echo("mlcode pre-push: ok (no DVC pointer changes in the pushed commits).")
