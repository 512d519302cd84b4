"""The saved plan (`mlcode plan --out FILE`, then `mlcode apply FILE`): the plan as JSON with the
hash of ml.yaml, the stack and every file the plan depends on, so apply carries it out only while
nothing it was computed from has changed (Terraform's saved plan).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlcode import __version__
from mlcode.errors import UserError
from mlcode.layout import MANIFEST_FILE
from mlcode.project.manifest import sha256_text
from mlcode.project.plan import owned
from mlcode.project.workspace import Workspace, read_manifest, read_text, safe_target

PLAN_FORMAT = "mlcode-plan"


def target_hashes(ws: Workspace, compiled: dict[str, str]) -> dict[str, str | None]:
    """sha256 of every file a plan depends on (None when absent)."""
    paths = set(compiled) | set(owned(read_manifest(ws.root))) | {MANIFEST_FILE, ".dvc/config"}
    out: dict[str, str | None] = {}
    for path in sorted(paths):
        text = read_text(safe_target(ws.root, path))
        out[path] = None if text is None else sha256_text(text)
    return out


def text(ws: Workspace, plan_json: dict[str, Any], compiled: dict[str, str]) -> str:
    """The text of a saved plan file: the plan as JSON, with what it was computed from."""
    data = {
        "format": PLAN_FORMAT,
        "version": 1,
        "mlcode_version": __version__,
        "inputs": ws.inputs,
        "targets": target_hashes(ws, compiled),
        "plan": plan_json,
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def save(ws: Workspace, path: Path, plan_json: dict[str, Any], compiled: dict[str, str]) -> None:
    """Write the saved plan to `path` (atomically: a reader sees the old file or the new one)."""
    from mlcode.adapters.fs import atomic_write

    atomic_write(path, text(ws, plan_json, compiled))


def check(ws: Workspace, path: Path, compiled: dict[str, str]) -> None:
    """Raise 'stale plan' unless nothing the saved plan depends on changed since it was made."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"plan file {path} not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path} is not a saved mlcode plan ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
        raise UserError(f"{path} is not a saved mlcode plan (made by `mlcode plan --out`)")
    if data.get("mlcode_version") != __version__:
        raise UserError(
            f"stale plan: {path} was made by mlcode {data.get('mlcode_version')}, this is "
            f"{__version__}; run `mlcode plan --out {path.name}` again"
        )
    if data.get("inputs") != ws.inputs:
        raise UserError(
            f"stale plan: ml.yaml or the stack changed since {path} was saved; "
            "run `mlcode plan --out` again and review the new plan"
        )
    saved = data.get("targets")
    now = target_hashes(ws, compiled)
    if saved != now:
        changed = sorted(
            p for p in set(now) | set(saved or {}) if (saved or {}).get(p) != now.get(p)
        )
        raise UserError(
            f"stale plan: {', '.join(changed)} changed since {path} was saved; "
            "run `mlcode plan --out` again and review the new plan"
        )
