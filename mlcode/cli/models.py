"""`mlcode models [MODEL] [--json]`: the model registry kept in git tags (GTO's grammar) — each
model's latest version and the version current in each stage, or one model's versions and
history. The answers are `gto show` / `gto history`'s, from one `git for-each-ref`.

Fast on purpose: it imports click and mlcode.registry only (no ml.yaml, no pydantic, no DVC).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from mlcode.cli import options
from mlcode.errors import UserError
from mlcode.registry.read import Registry, read_registry


@click.command("models")
@click.argument("model", required=False)
@options.json_output()
@click.pass_context
def command(ctx: click.Context, model: str | None, as_json: bool) -> None:
    """Show the model registry from git tags: each model's latest version and the version
    current in each stage; with MODEL, its versions and history. Same answers as `gto show` and
    `gto history`."""
    registry = read_registry(options.root(ctx))
    if model is None:
        _overview(registry, as_json)
    else:
        _one(registry, model, as_json)


def _date(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M")


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    return "\n".join(lines)


def _overview(registry: Registry, as_json: bool) -> None:
    show = registry.show()
    if as_json:
        import json  # only here: the table needs no JSON

        out: dict[str, Any] = {}
        for name in sorted(show):
            latest = registry.latest(name)
            out[name] = {**show[name], "created": latest.created.isoformat() if latest else None}
        click.echo(json.dumps({"models": out}, indent=2))
        return
    if not show and registry.artifacts:
        names = ", ".join(sorted(registry.artifacts))
        click.echo(
            f"Every model in the registry is deprecated ({names}); `mlcode models NAME` "
            "shows one's history."
        )
        return
    if not show:
        click.echo(
            "No models in the registry yet: no git tag in GTO's grammar (<model>@v<semver>). "
            "`mlcode promote` registers a model's version once it passes its gates."
        )
        return
    stages = registry.used_stages()
    rows = []
    for name in sorted(show):
        latest = registry.latest(name)
        current = show[name]["stage"]
        rows.append(
            [
                name,
                latest.version if latest else "-",
                *[current[s] or "-" for s in stages],
                _date(latest.created) if latest else "-",
            ]
        )
    click.echo(_table(["model", "latest", *[f"#{s}" for s in stages], "registered"], rows))


def _one(registry: Registry, model: str, as_json: bool) -> None:
    if model not in registry.artifacts:
        known = ", ".join(sorted(registry.artifacts)) or "none yet"
        raise UserError(
            f"Model {model!r} has no tag in the registry (models with tags: {known}). A model in "
            "a subfolder is named dir:name."
        )
    versions = registry.show_model(model)
    history = registry.history(model)
    deprecated = registry.deprecated(model)
    stages = {s: v.version for s, v in registry.stages(model).items()}
    latest = registry.latest(model)
    if as_json:
        import json

        out = {
            "model": model,
            "deprecated": deprecated,
            "latest": latest.version if latest else None,
            "stages": {} if deprecated else stages,
            "versions": versions,
            "history": [e.to_json() for e in history],
        }
        click.echo(json.dumps(out, indent=2))
        return
    if deprecated:
        click.echo(f"Model {model} is deprecated (tag {history[0].tag}); its history:")
    else:
        rows = [
            [
                v["version"],
                ", ".join(v["stages"]) or "-",
                v["created"][:16].replace("T", " "),
                v["commit"][:7],
                v["tag"],
            ]
            for v in versions
        ]
        click.echo(_table(["version", "stages", "registered", "commit", "tag"], rows))
        click.echo("")
        click.echo("History (newest first):")
    rows = [
        [
            _date(e.timestamp),
            e.event,
            e.version or "-",
            e.stage or "-",
            e.commit[:7],
            e.author,
            e.tag,
        ]
        for e in history
    ]
    click.echo(_table(["when", "event", "version", "stage", "commit", "by", "tag"], rows))
