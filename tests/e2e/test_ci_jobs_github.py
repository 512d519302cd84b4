"""The generated GitHub Actions jobs, run step by step as GitHub would (tests/e2e/ci_runner.py) in a
fresh clone of a trained project whose stack is the `github-s3` preset pointed at test servers: an
rclone S3 server on 127.0.0.1 as the DVC remote and the forge contract server as GitHub's REST API
(every request and answer checked against GitHub's OpenAPI description). `gh` is a shim that makes
the same REST calls (tests/e2e/gh_shim.py). Secrets are sentinels that must appear nowhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.contract.github_fake import GitHubFake
from tests.contract.server import ContractServer
from tests.e2e.ci_runner import GitHubEvent, JobResult, load_workflow, run_github_job
from tests.e2e.ci_setup import (
    S3_SECRETS,
    add_model,
    ci_servers,
    commit_on_branch,
    gh_shim,
    new_rows,
    retrain_always,
)
from tests.e2e.helpers import git, mlcode
from tests.e2e.promote_helpers import gto_show, origin, remote_refs
from tests.e2e.s3server import S3Server, rclone

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(rclone() is None, reason="rclone is not installed"),
]

TOKEN = "ghs_sentinel-jobrun-token-7d3a91"  # plays GITHUB_TOKEN; a sentinel, never a real token
REPOSITORY = "octo-org/models"
WORKFLOWS = Path(".github/workflows")


@dataclass
class Hub:
    repo: Path
    server: ContractServer
    fake: GitHubFake
    s3: S3Server
    tools: Path
    tmp: Path

    def event(self, event_name: str, ref: str, **kw: Any) -> GitHubEvent:
        return GitHubEvent(
            origin=origin(self.repo).resolve(),
            event_name=event_name,
            ref=ref,
            repository=REPOSITORY,
            api_url=self.server.url,
            secrets={"GITHUB_TOKEN": TOKEN, **S3_SECRETS},
            tools=[self.tools],
            **kw,
        )

    def run(self, workflow: str, job: str, ev: GitHubEvent, name: str, **kw: Any) -> JobResult:
        data = load_workflow(self.repo / WORKFLOWS / workflow)
        result = run_github_job(data, job, ev, self.tmp / name, **kw)
        seen = result.log + result.summary + "".join(result.outputs.values())
        for secret in (TOKEN, *S3_SECRETS.values()):
            if secret == S3_SECRETS["AWS_ACCESS_KEY_ID"]:
                continue  # an access key id is not secret (GitHub does not mask it either)
            assert secret not in seen, f"a secret reached the log of {job}"
        return result


def _serve(repo: Path, tmp_path: Path) -> Iterator[Hub]:
    """The hub of `repo` on the `github-s3` preset against the test servers."""
    fake = GitHubFake(token=TOKEN)
    with ci_servers(repo, "github-s3", fake, tmp_path) as (server, s3):
        yield Hub(repo, server, fake, s3, gh_shim(tmp_path / "tools"), tmp_path)


@pytest.fixture
def hub(trained_iris: Path, tmp_path: Path) -> Iterator[Hub]:
    yield from _serve(trained_iris, tmp_path)


def _pull_request_event(hub: Hub, number: int, branch: str, sha: str) -> GitHubEvent:
    event = {
        "number": number,
        "pull_request": {
            "number": number,
            "head": {"ref": branch, "sha": sha, "repo": {"full_name": REPOSITORY}},
            "base": {"ref": "main", "repo": {"full_name": REPOSITORY}},
        },
    }
    return hub.event(
        "pull_request",
        f"refs/pull/{number}/merge",
        checkout=sha,
        base_ref="main",
        head_ref=branch,
        event=event,
    )


def test_pr_workflow_green_with_its_report_comment_then_red_on_a_gate_breach(hub: Hub) -> None:
    sha = commit_on_branch(hub.repo, "docs", {"NOTES.md": "notes\n"}, "notes")
    pull = hub.fake.open_pull(head="docs")
    ev = _pull_request_event(hub, pull.number, "docs", sha)
    check = hub.run("mlcode-pr.yml", "check", ev, "check")
    assert check.status == "success", check.log
    assert (
        "harness: NOT RUN"
        in check.step(
            "Install mlcode (ci.install; default the version that generated this workflow)"
        ).log
    )
    assert check.step("Fail when a gate failed").outcome == "skipped"
    assert check.outputs["report"].startswith("## mlcode report"), check.outputs
    assert "accuracy" in check.outputs["report"]
    assert "## mlcode report" in check.summary

    comment = hub.run(
        "mlcode-pr.yml",
        "comment",
        ev,
        "comment",
        needs={"check": {"result": check.status, "outputs": check.outputs}},
    )
    assert comment.status == "success", comment.log
    (posted,) = hub.fake.comments
    assert posted.issue == pull.number
    assert posted.body.startswith("<!-- mlcode-report -->\n## mlcode report")

    # A gate the model cannot meet: the report says so and the job is red.
    text = (hub.repo / "ml.yaml").read_text().replace("min: 0.85", "min: 0.999")
    git(hub.repo, "checkout", "-q", "-b", "strict")
    (hub.repo / "ml.yaml").write_text(text)
    applied = mlcode(hub.repo, "apply", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    git(hub.repo, "commit", "-qam", "a gate no model meets")
    git(hub.repo, "push", "-q", "origin", "strict")
    strict_sha = git(hub.repo, "rev-parse", "HEAD").strip()
    git(hub.repo, "checkout", "-q", "main")
    strict = hub.fake.open_pull(head="strict")
    red = hub.run(
        "mlcode-pr.yml",
        "check",
        _pull_request_event(hub, strict.number, "strict", strict_sha),
        "red",
    )
    assert red.status == "failure", red.log
    assert red.step("Fail when a gate failed").outcome == "failure"
    assert red.step("Evaluate the gates and write the report").outcome == "success"
    assert "0.999" in red.outputs["report"]


def _matrix(hub: Hub, workflow: str, job: str, **entry: str) -> dict[str, str] | None:
    """The matrix entry to run when the job has a matrix (one model: the file may have none)."""
    data = load_workflow(hub.repo / WORKFLOWS / workflow)
    return entry if (data["jobs"][job].get("strategy") or {}).get("matrix") else None


def test_fork_pull_request_job_validates_checks_and_says_why_the_rest_is_skipped(
    hub: Hub,
) -> None:
    sha = commit_on_branch(hub.repo, "fork-docs", {"NOTES.md": "from a fork\n"}, "fork notes")
    git(hub.repo, "push", "-q", "origin", f"{sha}:refs/pull/7/head")  # where GitHub keeps it
    hub.s3.stop()  # the fork job needs no DVC remote
    ev = _pull_request_event(hub, 7, "fork-docs", sha)
    ev.event["pull_request"]["head"]["repo"]["full_name"] = "someone/models"
    ev.secrets = {}  # GitHub gives a fork's run none of the repository's secrets
    fork = hub.run("mlcode-pr.yml", "fork", ev, "fork")
    assert fork.status == "success", fork.log
    assert [s.outcome for s in fork.steps] == ["success"] * len(fork.steps)
    assert "fork" in fork.summary
    assert "skipped" in fork.summary
    assert "::notice" in fork.log
    assert hub.run("mlcode-pr.yml", "check", ev, "full").status == "skipped"
    needs = {"check": {"result": "skipped", "outputs": {}}}
    assert hub.run("mlcode-pr.yml", "comment", ev, "comment", needs=needs).status == "skipped"
    # and the same repository's pull request does not get the fork job
    own = _pull_request_event(hub, 8, "fork-docs", sha)
    assert hub.run("mlcode-pr.yml", "fork", own, "own").status == "skipped"


def test_retrain_job_promotes_new_data_then_finalize_assigns_the_stage(hub: Hub) -> None:
    new_rows(hub.repo, 30)
    retrain = hub.run(
        "mlcode-retrain.yml",
        "retrain",
        hub.event("schedule", "refs/heads/main"),
        "retrain",
        matrix=_matrix(hub, "mlcode-retrain.yml", "retrain", model="iris"),
    )
    assert retrain.status == "success", retrain.log
    branches = retrain.step("Retrain, evaluate the gates and promote").outputs["branches"]
    assert len(branches.split()) == 1, retrain.log + retrain.summary
    branch = branches
    assert branch.startswith("mlcode/promote/iris/"), retrain.log
    assert "mlcode retrain: promoted" in retrain.summary
    pushed = remote_refs(hub.repo)
    assert f"refs/heads/{branch}" in pushed
    assert "refs/tags/iris@v0.1.0" in pushed
    (pull,) = hub.fake.pulls.values()
    assert (pull.head, pull.base) == (branch, "main")
    # GITHUB_TOKEN's pull request starts no checks: the job dispatched them on the branch
    assert hub.fake.dispatches == [("mlcode-pr.yml", branch)], retrain.log
    assert hub.server.calls("actions/create-workflow-dispatch")

    # A reviewer merges the promotion; the push to main runs finalize.
    git(hub.repo, "fetch", "-q", "origin")
    git(hub.repo, "merge", "-q", "--no-ff", "-m", "Merge the promotion", f"origin/{branch}")
    git(hub.repo, "push", "-q", "origin", "main")
    assert not gto_show(hub.repo)["iris"]["stage"].get("prod")
    final = hub.run(
        "mlcode-finalize.yml", "finalize", hub.event("push", "refs/heads/main"), "finalize"
    )
    assert final.status == "success", final.log
    assert any(ref.startswith("refs/tags/iris#prod#") for ref in remote_refs(hub.repo)), final.log
    git(hub.repo, "fetch", "-q", "--tags", "origin")
    assert gto_show(hub.repo)["iris"]["stage"]["prod"] == "v0.1.0"


@pytest.fixture
def grouped_hub(trained_iris: Path, tmp_path: Path) -> Iterator[Hub]:
    """The hub with a second model, both in one `ci.groups` group, both `retrain.when: always`."""
    repo = trained_iris
    retrain_always(repo)
    add_model(repo, "iris-small", 30)
    text = (repo / "ml.yaml").read_text()
    (repo / "ml.yaml").write_text(
        text.replace("ci:\n", "ci:\n  groups:\n    flowers: [iris, iris-small]\n")
    )
    # declared and applied (by the stack switch), never run: its first run is the CI job's (DVC
    # then lists its folder in models/.gitignore, which the promotion carries)
    yield from _serve(repo, tmp_path)


def test_grouped_retrain_job_promotes_every_model_of_its_group(grouped_hub: Hub) -> None:
    hub = grouped_hub
    new_rows(hub.repo, 30)  # both models train on it: each retrains to a new version
    retrain = hub.run(
        "mlcode-retrain.yml",
        "retrain",
        hub.event("workflow_dispatch", "refs/heads/main"),
        "retrain",
        matrix={"group": "flowers"},
    )
    assert retrain.status == "success", retrain.log + retrain.summary
    branches = retrain.step("Retrain, evaluate the gates and promote").outputs["branches"].split()
    assert sorted(branches) == [
        "mlcode/promote/iris-small/v0.1.0",
        "mlcode/promote/iris/v0.1.0",
    ], retrain.log
    pushed = remote_refs(hub.repo)
    assert {"refs/tags/iris@v0.1.0", "refs/tags/iris-small@v0.1.0"} <= set(pushed)
    assert sorted(pull.head for pull in hub.fake.pulls.values()) == sorted(branches)
    assert sorted(hub.fake.dispatches) == sorted(("mlcode-pr.yml", b) for b in branches)
    assert "| iris-small |" in retrain.summary

    # Only iris's promotion is merged: finalize stages iris and leaves iris-small unstaged.
    git(hub.repo, "fetch", "-q", "origin")
    git(hub.repo, "merge", "-q", "--no-ff", "-m", "Merge iris", "origin/mlcode/promote/iris/v0.1.0")
    git(hub.repo, "push", "-q", "origin", "main")
    final = hub.run(
        "mlcode-finalize.yml", "finalize", hub.event("push", "refs/heads/main"), "finalize"
    )
    assert final.status == "success", final.log
    git(hub.repo, "fetch", "-q", "--tags", "origin")
    shown = gto_show(hub.repo)
    assert shown["iris"]["stage"]["prod"] == "v0.1.0"
    assert not shown["iris-small"]["stage"].get("prod")
