"""`mlcode promote`, steps a–g of a promotion, in this order, for each model:

a. refuse on a dirty tree (beyond the pipeline's own outputs), stale stages, no git remote, an
   unknown forge or missing token, a missing base branch, a detached HEAD, a model without
   metrics, a version tag that already exists — all before the first change;
b. evaluate the gates: any failure stops here (CheckFailed, exit 1), nothing changed;
c. push the model's data, outputs and run-cache to the DVC remote and verify them (data before
   pointer);
d. build the promotion commit over the base in a temporary index (the user's working tree, index
   and HEAD untouched): dvc.lock, pointers, metrics, plots and the report; point the promotion
   branch (pr mode) or the base (commit mode) at it;
e. tag the version (`<model>@v<semver>`); the stage tag only in commit mode (pr mode: `--finalize`);
f. push branch and tags atomically; a refused push rolls back every local ref this run created;
g. open the pull request or update the model's open one (forge `none`: print the compare command).

When the newest registered version already holds the same model (same dvc.lock hashes), no new
commit or tag is made: the run resumes the earlier promotion (push, pull request), so running it
twice changes nothing and re-running after a failure completes.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mlcode.adapters.git import git
from mlcode.adapters.proc import run
from mlcode.errors import CheckFailed, UserError
from mlcode.promote import data, gitrefs, report
from mlcode.promote.plan import (
    CommitText,
    branch_name,
    branch_prefix,
    fingerprint,
    report_path,
    vtag,
)
from mlcode.promote.target import (
    Target,
    collect_files,
    dirty_paths,
    parse_lock,
    pointers,
    same_pipeline,
    version_tag_problem,
)

if TYPE_CHECKING:
    from mlcode.forge.base import Forge, PullRequest
    from mlcode.spec.load import Project

Mode = Literal["pr", "commit"]
Bump = Literal["major", "minor", "patch"]


@dataclass(frozen=True)
class Options:
    """How `mlcode promote` was asked to run."""

    mode: Mode | None = None  # None: each model's `promotion.mode`
    bump: Bump = "minor"
    dry_run: bool = False
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    # model → why `mlcode retrain` retrained it (its decision line), for the report and the
    # commit message; empty for a plain `mlcode promote`
    reasons: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Step:
    """One step of one model's promotion and what became of it."""

    name: str
    status: str  # done | would | unchanged | skipped
    detail: str

    def to_json(self) -> dict[str, str]:
        """A plain dict for `--json`."""
        return {"step": self.name, "status": self.status, "detail": self.detail}


@dataclass
class Promotion:
    """What happened to one model."""

    model: str
    mode: Mode
    version: str
    tag: str
    new: bool
    branch: str
    report: str
    commit: str | None = None
    pull: dict[str, Any] | None = None
    message: str = ""
    steps: list[Step] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A plain dict for `--json`."""
        return {
            "model": self.model,
            "mode": self.mode,
            "version": self.version,
            "tag": self.tag,
            "new_version": self.new,
            "branch": self.branch,
            "commit": self.commit,
            "report": self.report,
            "pull": self.pull,
            "message": self.message,
            "steps": [s.to_json() for s in self.steps],
        }


@dataclass
class Outcome:
    """Every model's promotion, and the gate table that allowed it."""

    dry_run: bool
    gates_table: str
    promotions: list[Promotion]

    def to_json(self) -> dict[str, Any]:
        """A plain dict for `--json`."""
        return {
            "dry_run": self.dry_run,
            "gates": self.gates_table,
            "models": [p.to_json() for p in self.promotions],
        }


@dataclass
class Created:
    """Local refs this run created or moved, undone when a later step fails."""

    refs: list[tuple[str, str, str | None]] = field(default_factory=list)  # ref, new, old

    def rollback(self, root: Path) -> None:
        """Put every ref back as it was, newest first."""
        for ref, new, old in reversed(self.refs):
            if old is None:
                gitrefs.delete_ref(root, ref, new)
            else:
                git(root, "update-ref", ref, old, new, check=False)
        self.refs.clear()


def promote(root: Path, asked: tuple[str, ...], opts: Options) -> Outcome:
    """Promote the models `asked` (all of ml.yaml's when empty); see the module docstring."""
    from mlcode.project.run_report import selected_models
    from mlcode.project.workspace import open_workspace

    project = open_workspace(root).project
    models = selected_models(list(project.spec.models), asked)
    if not models:
        raise UserError("ml.yaml declares no models; nothing to promote")
    ctx = _preflight(root, project, models, opts)
    targets = [_target(root, project, m, opts, ctx) for m in models]  # a: its refusals too
    # a (stale stages, pipeline behind ml.yaml: exit 3) then b (a gate fails: exit 1), both
    # before any change: `evaluate_gates` checks freshness before it evaluates anything
    gates_table, gates_md = _gates(root, models)
    ctx.gates_md.update(gates_md)
    promotions: list[Promotion] = []
    for target in targets:
        promotions.append(_promote_one(root, project, target, opts, ctx))
    return Outcome(opts.dry_run, gates_table, promotions)


@dataclass(frozen=True)
class Context:
    """What every model's promotion shares: the remote, the forge, the branch HEAD is on."""

    remote: str
    remote_url: str
    head_branch: str
    forge: Forge | None
    gates_md: dict[str, str]


def _mode(project: Project, model: str, opts: Options) -> Mode:
    return opts.mode or project.spec.models[model].promotion.mode


def _base_ref(root: Path, base: str, remote: str, mode: Mode) -> str:
    """The base branch's ref: the local branch, or in pr mode the remote-tracking one."""
    local = f"refs/heads/{base}"
    if gitrefs.rev(root, local):
        return local
    tracking = f"refs/remotes/{remote}/{base}"
    if mode == "pr" and gitrefs.rev(root, tracking):
        return tracking
    raise UserError(
        f"the base branch {base!r} does not exist in this repository (ml.yaml's "
        "`promotion.base`); create it or fetch it (`git fetch` then `git branch "
        f"{base} {remote}/{base}`), or name the right branch in ml.yaml"
    )


def _preflight(root: Path, project: Project, models: list[str], opts: Options) -> Context:
    """Step a, for every model, before anything changes."""
    head_branch = gitrefs.current_branch(root)
    if head_branch is None:
        raise UserError(
            "HEAD is detached: promote works from a branch (it compares the working tree with "
            "the base and may move the branch); `git switch <branch>` first"
        )
    stack = project.stack
    remote = stack.git_remote
    url = gitrefs.remote_url(root, remote)  # as configured: pushes follow git's insteadOf
    if url is None:
        raise UserError(
            f"no git remote {remote!r} (the stack's `git_remote`): a promotion is pushed there; "
            f"add it with `git remote add {remote} URL`"
        )
    modes = {_mode(project, m, opts) for m in models}
    forge = _forge(project, url, opts) if "pr" in modes else None
    for model in models:
        _base_ref(
            root, project.spec.models[model].promotion.base, remote, _mode(project, model, opts)
        )
    all_pointers = sorted({p for m in models for p in pointers(project, m)})
    dirty = dirty_paths(root, list(project.spec.models), all_pointers)
    if dirty:
        shown = ", ".join(dirty[:10]) + (f" and {len(dirty) - 10} more" if len(dirty) > 10 else "")
        raise UserError(
            f"the working tree has changes that are not the pipeline's own outputs: {shown}; "
            "commit or stash them first (a promotion must not carry unreviewed changes)"
        )
    return Context(remote, url, head_branch, forge, {})


def _forge(project: Project, url: str, opts: Options) -> Forge:
    from mlcode.forge.select import make_forge

    spec = project.stack.forge
    kind = spec.type
    if kind not in ("none", "github", "gitlab"):  # pragma: no cover - the stack schema refuses it
        raise UserError(f"unknown forge {kind!r} in the stack; use none, github or gitlab")
    # make_forge refuses a missing token (naming the variable, never a value) before any change
    return make_forge(
        kind, api_url=spec.api_url, token_env=spec.token_env, remote_url=url, environ=opts.environ
    )


def _gates(root: Path, models: list[str]) -> tuple[str, dict[str, str]]:
    """Step b: every model's gates; CheckFailed (exit 1) with the table when any fails. Returns
    the table and each model's Markdown (for its report)."""
    from mlcode.gates.evaluate import evaluate_gates
    from mlcode.gates.report import GatesReport

    result = evaluate_gates(root, models)
    table = result.to_table()
    if not result.passed:
        raise CheckFailed(f"{table}\nA gate failed: nothing was promoted.")
    markdown = {m.model: GatesReport.of((m,)).to_markdown() for m in result.models}
    return table, markdown


def _target(root: Path, project: Project, model: str, opts: Options, ctx: Context) -> Target:
    """The version this promotion of `model` makes or resumes; refusals before any change."""
    from mlcode.registry.read import read_registry

    promo = project.spec.models[model].promotion
    mode = _mode(project, model, opts)
    base_sha = gitrefs.rev(root, _base_ref(root, promo.base, ctx.remote, mode))
    assert base_sha is not None
    problem = same_pipeline(root, base_sha)
    if problem:
        raise UserError(
            f"{' and '.join(problem)} differ from the base branch {promo.base!r}: the promotion "
            "commits a dvc.lock for the base's pipeline; merge the pipeline change first"
        )
    files, _, fp, dvc_targets, metrics = collect_files(root, project, model, base_sha)
    registry = read_registry(root)
    latest = registry.latest(model)
    previous = latest.version if latest is not None else None
    if latest is not None:
        at = gitrefs.blob_at(root, latest.commit, "dvc.lock")
        if fingerprint(parse_lock(at, f"dvc.lock of {model}@{previous}"), model) == fp:
            return Target(
                model,
                previous or "",
                False,
                latest.commit,
                previous,
                files,
                dvc_targets,
                metrics,
                fp,
            )
    version = registry.next_version(model, opts.bump)  # past every version ever tagged
    target = Target(model, version, True, None, previous, files, dvc_targets, metrics, fp)
    why = version_tag_problem(root, target.tag)
    if why:
        raise UserError(
            f"{why}: promote would register {model} {version} on a new commit; delete or "
            "rename that tag, or use --bump to choose another version"
        )
    return target


def _promote_one(
    root: Path, project: Project, target: Target, opts: Options, ctx: Context
) -> Promotion:
    """Steps c–g for one model."""
    promo = project.spec.models[target.model].promotion
    mode = _mode(project, target.model, opts)
    base_ref = _base_ref(root, promo.base, ctx.remote, mode)
    base_sha = gitrefs.rev(root, base_ref)
    assert base_sha is not None
    would = "would" if opts.dry_run else "done"
    out = Promotion(
        target.model,
        mode,
        target.version,
        target.tag,
        target.new,
        "",
        report_path(target.model, target.version),
    )
    out.steps.append(
        Step("refuse", "done", "tree clean beyond the pipeline's outputs; stages fresh")
    )
    out.steps.append(Step("gates", "done", "every gate passed"))
    if not target.new and _landed(root, project, target, base_sha, mode):
        out.branch = promo.base
        out.commit = target.commit
        out.message = f"{target.tag} is already on {promo.base} and in stage {promo.stage!r}"
        out.steps.append(Step("promote", "unchanged", out.message))
        return out

    # c. data before pointer
    if opts.dry_run:
        out.steps.append(
            Step(
                "data",
                would,
                f"dvc push --run-cache {' '.join(target.dvc_targets)}; verify with dvc status --cloud",
            )
        )
    else:
        data.push_and_verify(root, target.dvc_targets)
        out.steps.append(
            Step(
                "data",
                "done",
                f"pushed and verified on the DVC remote: {', '.join(target.dvc_targets)}",
            )
        )

    existing = _open_pull(ctx, promo.branch_prefix, target.model) if mode == "pr" else None
    if mode == "commit":
        out.branch = promo.base
    elif existing is not None:
        out.branch = existing.head
    else:
        out.branch = branch_name(promo.branch_prefix, target.model, target.version)
    created = Created()
    try:
        commit = _commit_and_tag(
            root, project, target, out, base_ref, base_sha, mode, opts, ctx, created
        )
        out.commit = commit
        _push(root, out, target, mode, commit, ctx, opts, existing, created, promo.stage)
    except BaseException:
        created.rollback(root)
        raise
    if mode == "commit":
        _refresh_checkout(root, out, ctx, promo.base, base_sha, opts)
        return out
    _open_or_update(root, out, target, promo, existing, ctx, opts)
    return out


def _stage_version(root: Path, model: str, stage: str) -> str | None:
    """The version the registry has in `stage` for `model`, as `v1.2.3`, or None."""
    from mlcode.registry.read import read_registry

    current = read_registry(root).current(model, stage)
    return vtag(str(current.version)) if current is not None else None


def _landed(root: Path, project: Project, target: Target, base_sha: str, mode: Mode) -> bool:
    """True when the registered version is on the base and in the model's stage: nothing to do."""
    promo = project.spec.models[target.model].promotion
    if not on_base(root, target.model, target.version, target.fingerprint, base_sha):
        return False
    return _stage_version(root, target.model, promo.stage) == target.version


def on_base(root: Path, model: str, version: str, fp: str, base_sha: str) -> bool:
    """True when version `version` of `model` landed on the base: the base's dvc.lock holds the
    same model (its hashes, so squash and rebase merges count) and the version's report."""
    if not gitrefs.has_path(root, base_sha, report_path(model, version)):
        return False
    lock = parse_lock(gitrefs.blob_at(root, base_sha, "dvc.lock"), "dvc.lock on the base")
    return fingerprint(lock, model) == fp


def _open_pull(ctx: Context, prefix: str, model: str) -> PullRequest | None:
    """The model's open promotion pull request (one per model), or None."""
    if ctx.forge is None:
        return None
    found = ctx.forge.find_open(branch_prefix(prefix, model))
    return found[0] if found else None


def _tags(root: Path, model: str) -> dict[str, str]:
    """Every tag of `model`'s stage assignments: ref → tag object id."""
    out = git(root, "for-each-ref", "--format=%(refname) %(objectname)", f"refs/tags/{model}#*")
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def _commit_and_tag(
    root: Path,
    project: Project,
    target: Target,
    out: Promotion,
    base_ref: str,
    base_sha: str,
    mode: Mode,
    opts: Options,
    ctx: Context,
    created: Created,
) -> str:
    """Steps d and e: the commit (new, or the registered version's), its branch, its tags."""
    from mlcode.layout import model_paths
    from mlcode.registry.write import assign, register

    promo = project.spec.models[target.model].promotion
    would = "would" if opts.dry_run else "done"
    if target.new:
        drift_md, plots = report.drift_files(root, model_paths(target.model).drift_report)
        reason = opts.reasons.get(target.model, "")
        markdown = report.compose(
            target.model,
            target.version,
            ctx.gates_md.get(target.model, ""),
            drift_md,
            promo.base,
            reason=reason,
        )
        files = {
            **target.files,
            **report.report_files(target.model, target.version, markdown, plots),
        }
        message = CommitText(
            target.model, target.version, target.metrics, out.report, reason
        ).message()
        if opts.dry_run:
            commit = ""
            out.steps.append(
                Step(
                    "commit",
                    would,
                    f"commit {', '.join(sorted(files))} over {promo.base} on {out.branch}",
                )
            )
        else:
            commit, _ = gitrefs.build_commit(root, base_sha, files, message)
            out.steps.append(
                Step(
                    "commit",
                    "done",
                    f"{commit[:12]} on {out.branch}: dvc.lock, pointers, metrics, plots, report ({len(files)} files)",
                )
            )
    else:
        assert target.commit is not None
        commit = target.commit
        out.steps.append(
            Step("commit", "unchanged", f"{target.tag} already holds this model ({commit[:12]})")
        )
    if not opts.dry_run:
        _point_branch(root, out.branch, commit, mode, base_sha, ctx, created)
    if target.new:
        if opts.dry_run:
            out.steps.append(Step("tag", would, f"annotated tag {target.tag}"))
        else:
            summary = "; ".join(_summary(target.metrics)) or "no numeric metrics"
            register(
                root,
                target.model,
                target.version,
                commit,
                f"{target.model} {target.version}: {summary}",
            )
            tag_ref = f"refs/tags/{target.tag}"
            created.refs.append((tag_ref, gitrefs.ref_target(root, tag_ref) or "", None))
            out.steps.append(Step("tag", "done", target.tag))
    else:
        out.steps.append(Step("tag", "unchanged", target.tag))
    if mode == "commit":
        if opts.dry_run:
            out.steps.append(Step("stage", would, f"assign {promo.stage!r} to {target.tag}"))
        elif _stage_version(root, target.model, promo.stage) == target.version:
            out.steps.append(Step("stage", "unchanged", f"{target.tag} is in {promo.stage!r}"))
        else:
            before = _tags(root, target.model)
            assign(
                root,
                target.model,
                promo.stage,
                target.version,
                f"{target.model} {target.version} landed on {promo.base}",
            )
            for ref, oid in _tags(root, target.model).items():
                if before.get(ref) != oid:
                    created.refs.append((ref, oid, None))
            out.steps.append(Step("stage", "done", f"{target.tag} assigned to {promo.stage!r}"))
    return commit


def _summary(metrics: Mapping[str, Any]) -> list[str]:
    from mlcode.promote.plan import metric_summary

    return metric_summary(metrics)


def _point_branch(
    root: Path, branch: str, commit: str, mode: Mode, base_sha: str, ctx: Context, created: Created
) -> None:
    """Point the local branch at the promotion commit (never the branch checked out in pr mode)."""
    ref = f"refs/heads/{branch}"
    old = gitrefs.rev(root, ref)
    if old == commit:
        return
    if mode == "commit":
        if gitrefs.is_ancestor(root, commit, base_sha):
            return  # already on the base
        if old != base_sha or not gitrefs.is_ancestor(root, base_sha, commit):
            raise UserError(f"cannot fast-forward {branch!r} to the promotion commit {commit[:12]}")
    elif branch == ctx.head_branch:
        return  # the user's checkout: pushed from the commit id, the local branch left alone
    gitrefs.set_ref(root, ref, commit, old)
    created.refs.append((ref, commit, old))


def _push(
    root: Path,
    out: Promotion,
    target: Target,
    mode: Mode,
    commit: str,
    ctx: Context,
    opts: Options,
    existing: PullRequest | None,
    created: Created,
    stage: str,
) -> None:
    """Step f: branch and tags to the git remote, all or nothing."""
    branch_ref = f"refs/heads/{out.branch}"
    tag_refs = [f"refs/tags/{target.tag}"]
    if mode == "commit":
        tag_refs += list(_tags(root, target.model))
    names = [out.branch, *(r.removeprefix("refs/tags/") for r in tag_refs)]
    if opts.dry_run:
        out.steps.append(Step("push", "would", f"git push --atomic {ctx.remote} {' '.join(names)}"))
        return
    remote_has = _remote_refs(root, ctx.remote, [branch_ref, *tag_refs])
    pushes: list[gitrefs.Push] = []
    if remote_has.get(branch_ref) != commit:
        lease = None
        if existing is not None and remote_has.get(branch_ref):
            lease = remote_has[branch_ref]
        pushes.append(gitrefs.Push(commit, branch_ref, lease))
    for ref in tag_refs:
        local = gitrefs.ref_target(root, ref)
        if local and remote_has.get(ref) != local:
            pushes.append(gitrefs.Push(ref, ref))
    if not pushes:
        out.steps.append(Step("push", "unchanged", f"{ctx.remote} already has {', '.join(names)}"))
        return
    gitrefs.push(root, ctx.remote, pushes)
    out.steps.append(
        Step("push", "done", f"{ctx.remote}: {', '.join(p.dest.split('/', 2)[2] for p in pushes)}")
    )


def _remote_refs(root: Path, remote: str, refs: list[str]) -> dict[str, str]:
    out = run(
        ["git", "ls-remote", "--refs", remote, *refs],
        root,
        what="git ls-remote",
        env={"GIT_TERMINAL_PROMPT": "0"},
    ).stdout
    found: dict[str, str] = {}
    for line in out.splitlines():
        oid, _, name = line.partition("\t")
        found[name] = oid
    return found


def _refresh_checkout(
    root: Path, out: Promotion, ctx: Context, base: str, old: str, opts: Options
) -> None:
    """Commit mode on the checked-out base: bring the index and the report files up to the new
    commit (the working tree already holds every other file the commit took from it)."""
    if opts.dry_run or ctx.head_branch != base or out.commit in (None, "", old):
        return
    git(root, "reset", "-q", what="git reset")
    git(root, "checkout", "HEAD", "--", out.report.rsplit("/", 1)[0], what="git checkout")


def _open_or_update(
    root: Path,
    out: Promotion,
    target: Target,
    promo: Any,
    existing: PullRequest | None,
    ctx: Context,
    opts: Options,
) -> None:
    """Step g: one pull request per model, its body the report."""
    title = f"Promote {target.model} {target.version}"
    if opts.dry_run or ctx.forge is None or not out.commit:
        verb = f"update #{existing.number}" if existing is not None else "open a pull request"
        out.steps.append(Step("pull", "would", f"{verb}: {out.branch} → {promo.base}, {title!r}"))
        return
    text = gitrefs.blob_at(root, out.commit, out.report)
    folder = out.report.rsplit("/", 1)[0]
    commit, forge = out.commit, ctx.forge
    markdown = report.absolute_images(
        text.decode("utf-8") if text else title,
        lambda rel: forge.file_url(commit, posixpath.normpath(f"{folder}/{rel}")),
    )
    body = report.pr_body(markdown, out.report)
    outcome = ctx.forge.open_or_update(
        head=out.branch,
        base=promo.base,
        title=title,
        body=body,
        labels=list(promo.labels),
        reviewers=list(promo.reviewers),
        update=existing,
    )
    pull = outcome.pull
    out.pull = {"number": pull.number, "url": pull.url, "action": outcome.action} if pull else None
    out.message = outcome.message
    if pull is not None:
        detail = f"#{pull.number} {pull.url}"
    else:
        detail = "no forge on this stack: the pushed branch is the review (commands below)"
    out.steps.append(Step("pull", outcome.action, detail))
