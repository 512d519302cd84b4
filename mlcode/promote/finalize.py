"""`mlcode promote --finalize`: assign the promotion stage to each model's newest registered
version once it landed on the base branch, and push the stage tag.

"Landed" means the base's dvc.lock holds the version's model (the same hashes of its stages'
dependencies and outputs, so squash and rebase merges count) and the version's promotion report:
a model committed to the base without a reviewed promotion is never staged. Idempotent: a version
already in its stage is left alone.
"""

from __future__ import annotations

from pathlib import Path

from mlcode.adapters.git import git
from mlcode.errors import UserError
from mlcode.promote import gitrefs
from mlcode.promote.plan import fingerprint, vtag
from mlcode.promote.run import Step, on_base
from mlcode.promote.target import parse_lock


def finalize(root: Path, asked: tuple[str, ...], *, dry_run: bool) -> list[dict[str, object]]:
    """One entry per model: its newest version, the stage, and what was done."""
    from mlcode.project.run_report import selected_models
    from mlcode.project.workspace import open_workspace
    from mlcode.registry.read import read_registry
    from mlcode.registry.write import assign

    project = open_workspace(root).project
    models = selected_models(list(project.spec.models), asked)
    remote = project.stack.git_remote
    if gitrefs.remote_url(root, remote) is None:
        raise UserError(
            f"no git remote {remote!r} (the stack's `git_remote`): the stage tag is pushed there"
        )
    registry = read_registry(root)
    results: list[dict[str, object]] = []
    for model in models:
        promo = project.spec.models[model].promotion
        base_sha = gitrefs.rev(root, f"refs/heads/{promo.base}") or gitrefs.rev(
            root, f"refs/remotes/{remote}/{promo.base}"
        )
        if base_sha is None:
            raise UserError(f"the base branch {promo.base!r} of model {model!r} does not exist")
        latest = registry.latest(model)
        entry: dict[str, object] = {"model": model, "stage": promo.stage, "version": None}
        results.append(entry)
        if latest is None:
            entry["step"] = Step("finalize", "skipped", "no version registered").to_json()
            continue
        version = vtag(str(latest.version))
        entry["version"] = version
        current = registry.current(model, promo.stage)
        if current is not None and vtag(str(current.version)) == version:
            entry["step"] = Step(
                "finalize", "unchanged", f"{model}@{version} is in {promo.stage!r}"
            ).to_json()
            continue
        lock = parse_lock(
            gitrefs.blob_at(root, latest.commit, "dvc.lock"), f"dvc.lock of {model}@{version}"
        )
        if not on_base(root, model, version, fingerprint(lock, model), base_sha):
            entry["step"] = Step(
                "finalize", "skipped", f"{model}@{version} is not on {promo.base} yet"
            ).to_json()
            continue
        if dry_run:
            entry["step"] = Step(
                "finalize", "would", f"assign {promo.stage!r} to {model}@{version}"
            ).to_json()
            continue
        entry["step"] = _assign_and_push(
            root, remote, model, promo.stage, version, promo.base, assign
        )
    return results


def _assign_and_push(
    root: Path, remote: str, model: str, stage: str, version: str, base: str, assign: object
) -> dict[str, str]:
    before = _stage_tags(root, model)
    assert callable(assign)
    assign(root, model, stage, version, f"{model} {version} landed on {base}")
    new = {ref: oid for ref, oid in _stage_tags(root, model).items() if before.get(ref) != oid}
    try:
        gitrefs.push(root, remote, [gitrefs.Push(ref, ref) for ref in sorted(new)])
    except BaseException:
        for ref, oid in new.items():
            gitrefs.delete_ref(root, ref, oid)
        raise
    names = ", ".join(ref.removeprefix("refs/tags/") for ref in sorted(new))
    return Step("finalize", "done", f"{model}@{version} assigned to {stage!r} ({names})").to_json()


def _stage_tags(root: Path, model: str) -> dict[str, str]:
    out = git(root, "for-each-ref", "--format=%(refname) %(objectname)", f"refs/tags/{model}#*")
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)
