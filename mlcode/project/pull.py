"""`mlcode params pull`: carry a DVC experiment's params back into ml.yaml, then regenerate.

Reads the experiment's params (the working tree's params.yaml, or a named experiment through
`dvc exp show --json`), maps each changed key to its ml.yaml source (`mlcode.project.experiments`),
edits ml.yaml's text in place (`mlcode.spec.yamledit`), validates the edited text and checks that
it compiles to exactly the experiment's params, and only then writes ml.yaml and applies the
plan, as `mlcode apply` does. Every check happens before the first write.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlcode.errors import SpecError, UserError
from mlcode.layout import PARAMS_FILE
from mlcode.project.apply import ApplyResult
from mlcode.project.experiments import Change, diff, edits_for, names, read_params
from mlcode.project.plan import Plan
from mlcode.project.workspace import Workspace
from mlcode.spec.values import same

SPEC = "ml.yaml"


@dataclass(frozen=True)
class Pull:
    """A checked pull, ready to write: the new ml.yaml and the plan that regenerates from it."""

    source: str  # "params.yaml" or "experiment NAME"
    changes: list[Change]
    old_text: str
    new_text: str
    workspace: Workspace  # loaded from the new text
    plan: Plan
    compiled: dict[str, str]

    def diff(self) -> str:
        """The unified diff of ml.yaml."""
        lines = difflib.unified_diff(
            self.old_text.splitlines(keepends=True),
            self.new_text.splitlines(keepends=True),
            f"a/{SPEC}",
            f"b/{SPEC}",
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def experiment_params(root: Path, name: str) -> Any:
    """The params.yaml data experiment `name` (its name or a prefix of its commit) ran with,
    as `dvc exp show --json` lists it."""
    from mlcode.adapters import dvc

    try:
        shown = json.loads(dvc.dvc(root, "exp", "show", "--json", what="dvc exp show") or "[]")
    except json.JSONDecodeError as exc:
        raise UserError(f"cannot read the output of `dvc exp show --json`: {exc}") from None
    known: list[str] = []
    for base in shown if isinstance(shown, list) else []:
        for exp in base.get("experiments") or []:
            for rev in exp.get("revs") or []:
                exp_name = rev.get("name") or exp.get("name") or ""
                known.append(exp_name or str(rev.get("rev", ""))[:7])
                commit = str(rev.get("rev", ""))
                if name == exp_name or (len(name) >= 4 and commit.startswith(name)):
                    data = ((rev.get("data") or {}).get("params") or {}).get(PARAMS_FILE) or {}
                    if rev.get("error") or "data" not in data:
                        raise UserError(f"DVC cannot read the params of experiment {name!r}")
                    return data["data"]
    listed = ", ".join(known) if known else "none"
    raise UserError(
        f"no DVC experiment {name!r} on this commit (experiments: {listed}); "
        "`dvc exp show` lists them"
    )


def prepare(root: Path, exp: str | None) -> Pull | None:
    """The checked pull, or None when params.yaml already equals what ml.yaml compiles."""
    from mlcode.compile import compile_project
    from mlcode.project.workspace import open_workspace
    from mlcode.spec.yamledit import apply_edits
    from mlcode.spec.yamlsource import decode, parse

    ws = open_workspace(root)
    compiled = compile_project(ws.project.spec, ws.project.stack)
    generated = read_params(compiled[PARAMS_FILE])
    if exp is None:
        source = PARAMS_FILE
        path = ws.root / PARAMS_FILE
        if not path.is_file():
            raise UserError(f"no {PARAMS_FILE} to pull from; run `mlcode apply` to generate it")
        import yaml

        try:
            target = read_params(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, yaml.YAMLError) as exc:
            raise UserError(f"cannot read {PARAMS_FILE}: {exc}") from None
    else:
        source = f"experiment {exp}"
        target = experiment_params(ws.root, exp)
    changes = diff(generated, target)
    if not changes:
        return None
    old_text = decode((ws.root / SPEC).read_bytes(), SPEC)
    edits = edits_for(changes, parse(old_text, SPEC).data)
    new_text = apply_edits(old_text, [(e.path, e.value) for e in edits])
    new_ws = _load(ws.root, new_text, source)
    new_compiled = compile_project(new_ws.project.spec, new_ws.project.stack)
    result = read_params(new_compiled[PARAMS_FILE])
    if not same(result, target, ordered=False):
        off = diff(result, target)
        raise UserError(
            f"ml.yaml cannot reproduce the params of {source}: after the edit it would still "
            f"compile {names(off)} differently (the key is shared with other parts of the "
            "pipeline, or ml.yaml fills it in itself). Nothing written; make the change in "
            "ml.yaml by hand."
        )
    plan, compiled_files = _plan(new_ws)
    return Pull(source, changes, old_text, new_text, new_ws, plan, compiled_files)


def _load(root: Path, text: str, source: str) -> Workspace:
    """The workspace ml.yaml `text` would give, validated like `mlcode validate`."""
    from mlcode.project.sync import current_inputs
    from mlcode.project.workspace import stack_bytes
    from mlcode.spec import semantic
    from mlcode.spec.load import Project, parse_spec, resolve_stack
    from mlcode.spec.yamlsource import parse

    try:
        parsed = parse(text, SPEC)
        spec = parse_spec(parsed)
        problems = semantic.check(spec, parsed.positions)
        if problems:
            raise SpecError(problems)
        stack = resolve_stack(spec, root, parsed.positions)
    except SpecError as exc:
        raise UserError(
            f"the values from {source} do not fit ml.yaml; nothing written. In ml.yaml as the "
            "pull would edit it:\n" + exc.message
        ) from None
    project = Project(root=root, spec=spec, stack=stack, positions=parsed.positions)
    inputs = current_inputs(text.encode("utf-8"), stack_bytes(project))
    return Workspace(root, project, inputs)


def _plan(ws: Workspace) -> tuple[Plan, dict[str, str]]:
    """The regeneration plan; refuses what apply would refuse, except params.yaml's edit (the
    experiment being pulled)."""
    from mlcode.project.apply import preflight
    from mlcode.project.workspace import compute_plan

    plan, compiled = compute_plan(ws, with_status=False)
    foreign = [c.path for c in plan.changes if c.foreign]
    edited = [c.path for c in plan.changes if c.hand_edited and c.path != PARAMS_FILE]
    if foreign or edited:
        raise UserError(
            f"{', '.join(foreign + edited)} would be overwritten by the regeneration and "
            "holds changes mlcode did not make; nothing written. Run `mlcode plan` to see them."
        )
    preflight(ws, plan, compiled)
    return plan, compiled


def write(pull: Pull) -> ApplyResult:
    """Write the new ml.yaml, then regenerate and stage as `mlcode apply` does."""
    from mlcode.adapters.fs import atomic_write
    from mlcode.project.apply import execute
    from mlcode.project.workspace import safe_target

    atomic_write(safe_target(pull.workspace.root, SPEC), pull.new_text)
    return execute(pull.workspace, pull.plan, pull.compiled, force=True)
