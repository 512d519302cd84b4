"""`mlcode validate`: schema and semantic checks of ml.yaml, every problem located."""

from __future__ import annotations

import json

import click

from mlcode.cli import options
from mlcode.errors import EXIT_CHECK_FAILED, CheckFailed, SpecError


@click.command("validate")
@options.json_output()
@click.option("--deep", is_flag=True, help="Also import every estimator for real (slower).")
@click.pass_context
def command(ctx: click.Context, as_json: bool, deep: bool) -> None:
    """Check ml.yaml: schema, references, names, cron, stack, and what apply would refuse in the
    working tree (symlinked or git-ignored data, commands DVC cannot parse). Exit 1 on problems."""
    from mlcode.project.preflight import project_problems
    from mlcode.spec.load import load_project

    root = options.root(ctx, needs_git=False)
    try:
        project = load_project(root, deep=deep)
        problems = project_problems(project)
        if problems:
            raise SpecError(problems)
    except SpecError as exc:
        if as_json:
            click.echo(
                json.dumps(
                    {"valid": False, "problems": [p.to_json() for p in exc.problems]}, indent=2
                )
            )
            ctx.exit(EXIT_CHECK_FAILED)
        raise CheckFailed(exc.message) from None
    spec = project.spec
    if as_json:
        click.echo(
            json.dumps(
                {
                    "valid": True,
                    "problems": [],
                    "project": spec.project,
                    "stack": project.stack.name,
                    "datasets": sorted(spec.data),
                    "models": sorted(spec.models),
                    "stages": sorted(spec.stages),
                },
                indent=2,
            )
        )
        return
    click.echo(
        f"ml.yaml is valid: project {spec.project!r}, stack {project.stack.name!r}, "
        f"{len(spec.data)} dataset(s), {len(spec.models)} model(s), {len(spec.stages)} stage(s)."
    )
