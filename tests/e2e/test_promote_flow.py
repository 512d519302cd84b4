"""`mlcode promote` end to end on the local stack (forge `none`): a trained iris project with a bare
origin and a local DVC remote, the real git, DVC and gto."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlcode.promote import data
from tests.e2e.helpers import git, mlcode
from tests.e2e.promote_helpers import gto_show, origin, refs, remote_refs, state

BRANCH = "refs/heads/mlcode/promote/iris/v0.1.0"
TAG = "refs/tags/iris@v0.1.0"
REPORT = "reports/iris/v0.1.0/promotion.md"
TARGETS = [
    "prepare_iris",
    "train_iris",
    "evaluate_iris",
    "drift_iris",
    "data/iris.csv.dvc",
    "data/iris_latest.csv.dvc",
]

pytestmark = pytest.mark.slow


def _ok(repo: Path, *args: str) -> str:
    result = mlcode(repo, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_promote_twice_one_branch_one_tag_and_gto_agrees(trained_iris: Path) -> None:
    repo = trained_iris
    before = state(repo)
    out = json.loads(_ok(repo, "promote", "--json"))
    (model,) = out["models"]
    assert model["version"] == "v0.1.0"
    assert model["new_version"] is True
    assert model["branch"] == "mlcode/promote/iris/v0.1.0"
    # the user's checkout is as it was: files, index, HEAD
    after = state(repo)
    assert after["files"] == before["files"]
    assert after["index"] == before["index"]
    assert after["head"] == before["head"]
    # branch and tag on the origin, the commit holds the lock, the metrics, the report
    on_origin = remote_refs(repo)
    commit = model["commit"]
    assert on_origin[BRANCH] == commit
    assert git(repo, "rev-parse", "iris@v0.1.0^{commit}").strip() == commit
    assert git(repo, "rev-parse", f"{commit}^").strip() == git(repo, "rev-parse", "main").strip()
    files = git(repo, "ls-tree", "-r", "--name-only", commit).split()
    assert {"dvc.lock", "metrics/iris.json", REPORT} <= set(files)
    report = git(repo, "show", f"{commit}:{REPORT}")
    assert "iris" in report
    assert "accuracy" in git(repo, "log", "-1", "--format=%B", commit)
    # a plain promotion was not retrained by mlcode retrain: no reason is made up
    assert "Retrained because" not in report + git(repo, "log", "-1", "--format=%B", commit)
    assert git(repo, "cat-file", "-t", TAG).strip() == "tag"  # annotated: GTO counts it
    # data before pointer: everything the commit references is on the DVC remote
    assert data.missing(repo, TARGETS) == {}
    # the registry as GTO reads it: a version, no stage yet (pr mode)
    shown = gto_show(repo)
    assert shown["iris"]["version"] == "v0.1.0"
    assert not shown["iris"]["stage"].get("prod")
    assert "compare" in model["message"] or "git diff" in model["message"]

    # again: nothing new, nothing changes
    refs_once, origin_once = refs(repo), refs(origin(repo))
    again = json.loads(_ok(repo, "promote", "--json"))["models"][0]
    assert again["version"] == "v0.1.0"
    assert again["new_version"] is False
    assert again["commit"] == commit
    assert refs(repo) == refs_once
    assert refs(origin(repo)) == origin_once
    statuses = {s["step"]: s["status"] for s in again["steps"]}
    assert statuses["commit"] == "unchanged"
    assert statuses["tag"] == "unchanged"
    assert statuses["push"] == "unchanged"


def test_dry_run_prints_every_step_and_changes_nothing(trained_iris: Path) -> None:
    repo = trained_iris
    before = state(repo)
    result = mlcode(repo, "promote", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert state(repo) == before
    text = result.stdout
    for word in ("data: would", "commit: would", "tag: would", "push: would", "pull: would"):
        assert word in text, text
    assert "iris@v0.1.0" in text
    assert "mlcode/promote/iris/v0.1.0" in text


def test_a_new_model_is_a_new_version_on_a_new_commit(trained_iris: Path) -> None:
    repo = trained_iris
    _ok(repo, "promote")
    params = (repo / "ml.yaml").read_text().replace("n_estimators: 100", "n_estimators: 60")
    (repo / "ml.yaml").write_text(params)
    _ok(repo, "apply", "--auto-approve")
    git(repo, "commit", "-qam", "fewer trees")
    _ok(repo, "run")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "retrained")
    git(repo, "push", "-q", "origin", "main")
    out = json.loads(_ok(repo, "promote", "--json", "--bump", "patch"))["models"][0]
    assert out["version"] == "v0.1.1"
    assert out["branch"] == "mlcode/promote/iris/v0.1.1"
    shown = gto_show(repo)
    assert shown["iris"]["version"] == "v0.1.1"
    on_origin = remote_refs(repo)
    assert "refs/tags/iris@v0.1.0" in on_origin
    assert "refs/tags/iris@v0.1.1" in on_origin


def test_commit_mode_lands_on_the_base_with_the_stage(trained_iris: Path) -> None:
    repo = trained_iris
    old_main = git(repo, "rev-parse", "main").strip()
    out = json.loads(_ok(repo, "promote", "--mode", "commit", "--json"))["models"][0]
    commit = out["commit"]
    assert git(repo, "rev-parse", "main").strip() == commit
    assert git(repo, "rev-parse", f"{commit}^").strip() == old_main
    assert remote_refs(repo)["refs/heads/main"] == commit
    assert "refs/tags/iris#prod#1" in remote_refs(repo)
    # the checkout followed, clean, with the report on disk
    assert git(repo, "status", "--porcelain") == ""
    assert (repo / REPORT).is_file()
    assert gto_show(repo)["iris"]["stage"]["prod"] == "v0.1.0"
    # again: nothing changes
    refs_once = refs(repo)
    again = json.loads(_ok(repo, "promote", "--mode", "commit", "--json"))["models"][0]
    assert again["version"] == "v0.1.0"
    assert refs(repo) == refs_once


@pytest.mark.parametrize("squash", [False, True], ids=["merge", "squash"])
def test_finalize_assigns_the_stage_once_merged(trained_iris: Path, squash: bool) -> None:
    repo = trained_iris
    _ok(repo, "promote")
    # not merged yet: finalize does nothing
    tags_before = refs(repo)
    out = json.loads(_ok(repo, "promote", "--finalize", "--json"))
    assert out["finalized"][0]["step"]["status"] == "skipped"
    assert refs(repo) == tags_before
    # a reviewer merges the promotion branch on the origin's main
    git(repo, "fetch", "-q", "origin")
    if squash:
        git(repo, "merge", "-q", "--squash", "origin/mlcode/promote/iris/v0.1.0")
        git(repo, "commit", "-qm", "Promote iris v0.1.0 (squashed)")
    else:
        git(
            repo,
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "Merge promotion",
            "origin/mlcode/promote/iris/v0.1.0",
        )
    git(repo, "push", "-q", "origin", "main")
    merged = state(repo)
    dry = json.loads(_ok(repo, "promote", "--finalize", "--dry-run", "--json"))
    assert dry["finalized"][0]["step"]["status"] == "would"
    assert state(repo) == merged
    out = json.loads(_ok(repo, "promote", "--finalize", "--json"))
    assert out["finalized"][0]["step"]["status"] == "done"
    assert "refs/tags/iris#prod#1" in remote_refs(repo)
    assert gto_show(repo)["iris"]["stage"]["prod"] == "v0.1.0"
    refs_once = refs(repo)
    again = json.loads(_ok(repo, "promote", "--finalize", "--json"))
    assert again["finalized"][0]["step"]["status"] == "unchanged"
    assert refs(repo) == refs_once
    # promote after landing: nothing to do
    assert (
        json.loads(_ok(repo, "promote", "--json"))["models"][0]["steps"][-1]["status"]
        == "unchanged"
    )
    assert refs(repo) == refs_once


def test_a_hook_that_declines_leaves_everything_as_it_was(trained_iris: Path) -> None:
    repo = trained_iris
    hook = origin(repo) / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'promotions are frozen this week' >&2\nexit 1\n")
    hook.chmod(0o755)
    before = state(repo)
    result = mlcode(repo, "promote")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "promotions are frozen this week" in result.stderr
    after = state(repo)
    after.pop("storage")
    before.pop("storage")  # the data went first, by design (data before pointer)
    assert after == before
    # once the hook allows it, the same command completes
    hook.unlink()
    _ok(repo, "promote")
    assert TAG in remote_refs(repo)


def test_a_non_fast_forward_base_is_refused_in_commit_mode(
    trained_iris: Path, tmp_path: Path
) -> None:
    repo = trained_iris
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(origin(repo)), str(other))
    (other / "NOTES.md").write_text("someone else's change\n")
    git(other, "add", "NOTES.md")
    git(other, "commit", "-qm", "meanwhile on main")
    git(other, "push", "-q", "origin", "main")
    before = state(repo)
    result = mlcode(repo, "promote", "--mode", "commit")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "rejected" in result.stderr or "fetch first" in result.stderr
    after = state(repo)
    after.pop("storage")
    before.pop("storage")
    assert after == before


def test_a_version_whose_tag_exists_is_skipped_not_overwritten(trained_iris: Path) -> None:
    repo = trained_iris
    git(repo, "tag", "iris@v0.1.0", "HEAD~1")  # lightweight: GTO ignores it, git does not
    old = git(repo, "rev-parse", "refs/tags/iris@v0.1.0").strip()
    out = json.loads(_ok(repo, "promote", "--json"))["models"][0]
    assert out["version"] == "v0.2.0"
    assert git(repo, "rev-parse", "refs/tags/iris@v0.1.0").strip() == old
    assert gto_show(repo)["iris"]["version"] == "v0.2.0"


def test_a_model_first_run_after_its_commit_promotes_with_dvcs_gitignore(
    trained_iris: Path,
) -> None:
    """A model declared, applied and committed but first run later (as a CI runner does): DVC's
    own `.gitignore` entries for its new outputs are pipeline output, not a dirty tree, and the
    promotion commit carries them so the base ignores what DVC tracks."""
    repo = trained_iris
    spec = (repo / "ml.yaml").read_text()
    block = spec[spec.index("  iris:\n    task:") : spec.index("\nci:")]
    second = block.replace("  iris:\n", "  iris-b:\n", 1).replace(
        "n_estimators: 100", "n_estimators: 50"
    )
    (repo / "ml.yaml").write_text(spec.replace("\nci:", second + "\nci:"))
    _ok(repo, "apply", "--auto-approve")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "iris-b declared")
    git(repo, "push", "-q", "origin", "main")
    _ok(repo, "run", "iris-b")
    assert "models/.gitignore" in git(repo, "status", "--porcelain")
    out = json.loads(_ok(repo, "promote", "iris-b", "--json"))["models"][0]
    ignored = git(repo, "show", f"{out['branch']}:models/.gitignore")
    assert "/iris-b" in ignored.splitlines()
