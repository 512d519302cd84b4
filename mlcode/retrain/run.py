"""The orchestration of `mlcode retrain`, under the checkout's retrain lock (a second retrain in
the same checkout refuses at once):

1. refresh the sourced datasets the selected models use (`mlcode.project.refresh`, all or
   nothing; an ingest command's stage runs here too, so the decision sees its new data);
2. per model, the champion (`mlcode.gates.champion.resolve`, as `mlcode gates` finds it) and the
   evidence of its training data against the champion's (md5; drift when `retrain.when: drift`);
3. decide from `retrain.when` (`mlcode.retrain.decide`);
4. reproduce like `mlcode run [--pull] [--push]` (`mlcode.project.run_report`);
5. the gates (`mlcode.gates.evaluate`); 6. promote (`mlcode.promote.run`).

A step's failure is the model's error (its one paragraph in the summary) and the next models go
on (a bug too: exit 3, since 4 means "nothing to do" here and the scheduled job counts it a success); a failure before any model (bad ml.yaml, the lock held, a dirty tree, an unknown model) is a
UserError. Nothing is promoted for a model that failed: DVC's outputs are left for a rerun to
complete, a refresh that failed put the data back itself.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlcode.errors import MlcodeError, UserError
from mlcode.layout import RETRAIN_LOCK_FILE
from mlcode.retrain.summary import ModelResult, RetrainResult, Step, paragraph, skipped

if TYPE_CHECKING:
    from mlcode.project.refresh import RefreshReport
    from mlcode.spec.load import Project
    from mlcode.spec.model import MlSpec

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    """How `mlcode retrain` runs: restore from / share to the DVC remote's run-cache."""

    pull: bool = False
    push: bool = False


def _quiet(_: str) -> None:
    pass


def retrain(
    root: Path, asked: tuple[str, ...], options: Options, progress: Progress = _quiet
) -> RetrainResult:
    """Retrain the models `asked` (all when empty) in the checkout at `root`; see the module
    docstring. Raises UserError only for a failure before any model."""
    from mlcode.project.lock import exclusive

    with exclusive(root / RETRAIN_LOCK_FILE, timeout=0, holder="mlcode retrain"):
        return _retrain(root, asked, options, progress)


def _retrain(
    root: Path, asked: tuple[str, ...], options: Options, progress: Progress
) -> RetrainResult:
    from mlcode.project.run_report import selected_models
    from mlcode.spec.load import load_project

    project = load_project(root)
    spec = project.spec
    models = selected_models(list(spec.models), asked)
    if not models:
        raise UserError("ml.yaml declares no models; nothing to retrain")
    _refuse_dirty(root, project)
    _refuse_behind(root)
    if options.pull or options.push:
        progress("checking the DVC remote can be reached")
        _refuse_unreachable(root, project, options)
    results = [ModelResult(m, spec.models[m].retrain.when) for m in models]
    progress(f"refresh: the data sources of {', '.join(models)}")
    try:
        report = _refresh(root, spec, models, options)
    except MlcodeError as exc:
        for result in results:
            result.fail("refresh", exc.message, exc.hint)
            result.why = "not decided: the refresh failed"
        return RetrainResult([], results)
    for result in results:
        result.steps["refresh"] = _refresh_step(spec, result.model, report)
    with tempfile.TemporaryDirectory(prefix="mlcode-retrain-") as tmp:
        for result in results:
            _one(root, spec, result, options, Path(tmp) / result.model, progress)
    done = RetrainResult(report.to_json(), results)
    if done.outcome == "nothing to do":
        done.uncommitted = _refreshed_pointers(root, report)
    return done


def _refreshed_pointers(root: Path, report: RefreshReport) -> list[str]:
    """The refresh's pointers (a url source's `.dvc`, an ingest stage's dvc.lock) that differ
    from HEAD now: new data no model was retrained on, kept in the working tree. Data that did
    not change leaves them byte for byte as they were, so none is listed."""
    from mlcode.adapters import git
    from mlcode.promote.plan import LOCK_FILE

    paths = sorted({s.path + ".dvc" if s.kind == "url" else LOCK_FILE for s in report.sources})
    if not paths:
        return []
    out = git.git(root, "diff", "--name-only", "HEAD", "--", *paths, check=False)
    return sorted(set(out.split()) & set(paths))


def _refuse_dirty(root: Path, project: Project) -> None:
    """The rule `mlcode promote` applies, before the refresh changes anything (failing early)."""
    from mlcode.promote.target import dirty_paths, pointers

    spec = project.spec
    all_pointers = sorted({p for m in spec.models for p in pointers(project, m)})
    # The lock this run holds is no change of the tree's (apply ignores it; a project never
    # applied does not yet, and is then refused as behind ml.yaml).
    dirty = [
        p for p in dirty_paths(root, list(spec.models), all_pointers) if p != RETRAIN_LOCK_FILE
    ]
    if dirty:
        shown = ", ".join(dirty[:10]) + (f" and {len(dirty) - 10} more" if len(dirty) > 10 else "")
        raise UserError(
            f"the working tree has changes that are not the pipeline's own outputs: {shown}; "
            "commit or stash them first (retrain ends in a promotion, which must not carry "
            "unreviewed changes); nothing was refreshed or run"
        )


def _refuse_behind(root: Path) -> None:
    """dvc.yaml / params.yaml must be what ml.yaml compiles to: the gates and promote refuse an
    outdated pipeline later, and its stages (an ingest stage) may not even exist yet."""
    from mlcode.gates.freshness import out_of_sync

    behind = out_of_sync(root)
    if behind:
        raise UserError(
            f"{' and '.join(behind)} {'does' if len(behind) == 1 else 'do'} not match ml.yaml; "
            "nothing was refreshed or run",
            hint="Run `mlcode apply` and commit, then `mlcode retrain` again.",
        )


def _refuse_unreachable(root: Path, project: Project, options: Options) -> None:
    """With --pull / --push, the DVC remote must answer with the credentials at hand before any
    refresh or run: bad credentials or a dead remote would otherwise surface only at the push,
    after every model was reproduced. An empty remote is fine (its objects are pushed later)."""
    from mlcode.adapters.dvc_failure import describe_remote
    from mlcode.adapters.dvc_remote_objects import default_remote, unreachable
    from mlcode.project.remote import credential_hint

    name = default_remote(root)
    reason = unreachable(root, name, need_existing=options.pull)
    if reason is None:
        return
    flags = " and ".join(f for f, on in (("--pull", options.pull), ("--push", options.push)) if on)
    raise UserError(
        f"{describe_remote(root, name)} cannot be used for {flags}: {reason}; nothing was "
        "refreshed or run",
        hint=credential_hint(project.stack)
        or "Check the remote (`dvc remote list`, its url) and its credentials, then run again.",
    )


def datasets_of(spec: MlSpec, model: str) -> list[str]:
    """The datasets a model uses: its training data and its drift gate's datasets."""
    entry = spec.models[model]
    names = [entry.data]
    if entry.gates.drift is not None:
        names += [entry.gates.drift.reference, entry.gates.drift.current]
    return [n for n in dict.fromkeys(names) if n in spec.data]


def _sourced(spec: MlSpec, models: list[str]) -> list[str]:
    used = {d for m in models for d in datasets_of(spec, m)}
    return sorted(d for d in used if spec.data[d].source is not None)


def _refresh(root: Path, spec: MlSpec, models: list[str], options: Options) -> RefreshReport:
    """Step 1 for every model at once: `dvc update` of the url sources, then the ingest stages."""
    from mlcode.adapters import dvc
    from mlcode.project.refresh import RefreshReport, refresh_sources

    sourced = _sourced(spec, models)
    if not sourced:
        return RefreshReport([])
    report = refresh_sources(root, spec, sourced)
    ingest = [s.source for s in report.sources if s.kind == "cmd"]
    if ingest:
        dvc.repro(root, ingest, capture=True, pull=options.pull)
    return report


def _refresh_step(spec: MlSpec, model: str, report: RefreshReport) -> Step:
    mine = [s for s in report.sources if s.dataset in datasets_of(spec, model)]
    if not mine:
        return skipped("no dataset of this model declares a `source`")
    detail = "; ".join(f"{s.dataset}: {s.outcome}" for s in mine)
    if any(s.changed for s in mine):
        cell = "new data"
    elif all(s.changed is False for s in mine):
        cell = "unchanged"
    else:
        cell = "ingested"
    return Step("done", detail, cell)


def _one(
    root: Path,
    spec: MlSpec,
    result: ModelResult,
    options: Options,
    workdir: Path,
    progress: Progress,
) -> None:
    """Steps 2–6 of one model; a failure is recorded on `result` and ends this model's run."""
    name = result.model
    step = "drift"
    try:
        progress(f"{name}: the champion's training data against the new")
        champion = _champion(root, spec, name)
        _decide(root, spec, result, champion, workdir, pull=options.pull)
        if not result.retrain:
            for later in ("run", "gates", "promote"):
                result.steps[later] = skipped(f"no retrain: {result.why}")
            return
        step = "run"
        progress(f"{name}: reproducing ({result.why})")
        result.steps["run"] = _reproduce(root, name, options)
        if champion is not None and _same_model(root, name, champion):
            same = f"the retrained model is the champion's ({champion[:12]}: same dvc.lock hashes)"
            result.steps["gates"] = skipped(same)
            result.steps["promote"] = skipped(f"{same}: nothing to promote")
            return
        step = "gates"
        progress(f"{name}: gates")
        result.steps["gates"] = _gates(root, name)
        if result.steps["gates"].status == "failed":
            result.steps["promote"] = skipped("a gate failed: nothing promoted")
            return
        step = "promote"
        progress(f"{name}: promoting")
        _promote(root, result)
    except MlcodeError as exc:
        result.fail(step, exc.message, exc.hint)
    except Exception as exc:  # a bug: this model's error (exit 3), never "nothing to do" (4)
        result.fail(step, f"internal error (a bug in mlcode): {type(exc).__name__}: {exc}")
    if result.error is not None:
        for later in ("drift", "run", "gates", "promote"):
            result.steps.setdefault(later, skipped(f"{step} failed"))


def _champion(root: Path, spec: MlSpec, model: str) -> str | None:
    """The champion's commit (as `mlcode gates` resolves it), None when there is none."""
    from mlcode.gates.champion import resolve
    from mlcode.gates.champion_values import metrics_path

    promo = spec.models[model].promotion
    info = resolve(
        root,
        model,
        stage=promo.stage,
        base=promo.base,
        metrics_path=metrics_path(spec, model),
    )
    return info.commit


def _decide(
    root: Path,
    spec: MlSpec,
    result: ModelResult,
    champion: str | None,
    workdir: Path,
    *,
    pull: bool,
) -> None:
    """Steps 2 and 3: the evidence, the drift step and the decision on `result`. With `pull` (a
    fresh CI clone), training data that drift must read and the checkout lacks is pulled first."""
    from mlcode.retrain.champion_data import evidence
    from mlcode.retrain.decide import decide

    rule = spec.models[result.model].retrain
    measure = rule.when == "drift" and champion is not None
    workdir.mkdir(parents=True, exist_ok=True)
    data = spec.data[spec.models[result.model].data].path
    if measure and pull and not (root / data).is_file():
        from mlcode.adapters import dvc

        dvc.transfer(root, "pull", data)
    found = evidence(root, spec, result.model, champion, measure_drift=measure, workdir=workdir)
    if found.drifted_share is not None:
        cols = f": {', '.join(found.drifted_columns)}" if found.drifted_columns else ""
        drifted = len(found.drifted_columns)
        result.steps["drift"] = Step(
            "done",
            f"{found.drift_detail}{cols}; against the champion's training data at "
            f"{(champion or '')[:12]}",
            f"{drifted}/{found.n_columns} cols",
        )
    elif champion is None:
        result.steps["drift"] = skipped("no champion: nothing to compare with")
    else:
        result.steps["drift"] = skipped(f"not measured: retrain.when is {rule.when}")
    decision = decide(rule.when, found, rule.max_drifted_share)
    result.retrain, result.why = decision.retrain, decision.why


def _reproduce(root: Path, model: str, options: Options) -> Step:
    """Step 4, what `mlcode run MODEL [--pull] [--push]` does."""
    from mlcode.project import run_report

    run = run_report.prepare(root, (model,))
    if run.stale:
        run_report.reproduce(run.root, run.targets, capture=True, pull=options.pull)
        detail, cell = f"dvc repro: {', '.join(run.stale)}", "ran"
    else:
        detail, cell = "every stage was up to date", "fresh"
    if options.push:
        run_report.share(run.root, run.targets, capture=True)
        detail += "; outputs and run-cache pushed to the DVC remote"
    return Step("done", detail, cell)


def _same_model(root: Path, model: str, champion: str) -> bool:
    """True when the working tree's dvc.lock holds the champion's model (same hashes)."""
    from mlcode.promote.gitrefs import blob_at
    from mlcode.promote.plan import LOCK_FILE, fingerprint
    from mlcode.promote.target import parse_lock

    path = root / LOCK_FILE
    here = fingerprint(parse_lock(path.read_bytes() if path.is_file() else None, LOCK_FILE), model)
    there = blob_at(root, champion, LOCK_FILE)
    return bool(here) and here == fingerprint(
        parse_lock(there, f"{LOCK_FILE} at {champion}"), model
    )


def _gates(root: Path, model: str) -> Step:
    """Step 5: every gate of the model; a failing gate is a failed step, not an error."""
    from mlcode.gates.evaluate import evaluate_gates

    report = evaluate_gates(root, [model])
    rows = [r for m in report.models for r in m.rows]
    if report.passed:
        return Step("done", f"{len(rows)} gate(s) passed", "passed")
    failed = [
        f"{r.metric or r.gate} {r.rule} {r.expected}: {r.actual}"
        + (f" ({r.reason})" if r.reason else "")
        for r in rows
        if not r.passed
    ]
    return Step("failed", "; ".join(failed), "failed")


_CHANGES = ("commit", "tag", "stage", "push")


def _promote(root: Path, result: ModelResult) -> None:
    """Step 6: `mlcode promote MODEL` with the model's own promotion settings."""
    from mlcode.promote.run import Options as PromoteOptions
    from mlcode.promote.run import promote

    outcome = promote(root, (result.model,), PromoteOptions(reasons={result.model: result.why}))
    [item] = outcome.promotions
    result.version, result.branch = item.version, item.branch or None
    # every run re-does "refuse", "gates" and "data" (push and verify): a change is a new
    # commit, tag, stage or push
    changed = item.new or any(s.status == "done" for s in item.steps if s.name in _CHANGES)
    where = f"{item.mode} mode, branch {item.branch}"
    if item.pull:
        where += f", pull request #{item.pull.get('number')}"
    if not changed:
        message = "; ".join(line.strip() for line in item.message.splitlines() if line.strip())
        result.steps["promote"] = skipped(
            f"{item.version} already proposed ({where}); nothing changed: {message}".rstrip(": ")
        )
        return
    verb = "new version" if item.new else "resumed"
    result.steps["promote"] = Step("done", f"{verb} {item.version} ({where})", item.version)


__all__ = ["Options", "datasets_of", "paragraph", "retrain"]
