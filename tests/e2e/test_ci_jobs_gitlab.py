"""The generated GitLab CI jobs, run as GitLab's runner would (tests/e2e/ci_runner.py) in a fresh
clone of a trained two-model project whose stack is the `gitlab-s3` preset pointed at test servers:
an rclone S3 server on 127.0.0.1 as the DVC remote and the forge contract server as GitLab's v4 API
(every request and answer checked against the merge-request slice). The retrain job runs one of its
`parallel:matrix` entries. CI/CD variables are sentinels that must appear nowhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.contract.gitlab_fake import GitLabFake
from tests.contract.server import ContractServer
from tests.e2e.ci_runner import GitLabPipeline, JobResult, run_gitlab_job
from tests.e2e.ci_setup import (
    S3_SECRETS,
    add_model,
    ci_servers,
    commit_on_branch,
    new_rows,
    retrain_always,
)
from tests.e2e.helpers import git
from tests.e2e.promote_helpers import gto_show, origin, remote_refs
from tests.e2e.s3server import rclone

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(rclone() is None, reason="rclone is not installed"),
]

TOKEN = "glpat-sentinel-jobrun-3c8e20"  # plays the GITLAB_TOKEN CI/CD variable
PROJECT = "ml-group/vision/models"


@dataclass
class Lab:
    repo: Path
    server: ContractServer
    fake: GitLabFake
    tmp: Path

    def pipeline(self, source: str, ref: str, **kw: Any) -> GitLabPipeline:
        return GitLabPipeline(
            origin=origin(self.repo).resolve(),
            source=source,
            ref=ref,
            project_path=PROJECT,
            project_id=self.fake.project_id,
            api_url=self.server.url,
            variables={"GITLAB_TOKEN": TOKEN, **S3_SECRETS},
            **kw,
        )

    def run(self, job: str, pl: GitLabPipeline, name: str, **kw: Any) -> JobResult:
        result = run_gitlab_job(self.repo / ".gitlab-ci.yml", job, pl, self.tmp / name, **kw)
        for secret in (TOKEN, S3_SECRETS["AWS_SECRET_ACCESS_KEY"], pl.job_token):
            assert secret not in result.log, f"a secret reached the log of {job}"
        return result


@pytest.fixture
def lab(trained_iris: Path, tmp_path: Path) -> Iterator[Lab]:
    repo = trained_iris
    # `when: always`: this file proves the job's mechanics (matrix entry, pull, retrain, promote,
    # merge request, finalize) whatever the data; the GitHub retrain test proves the default
    # decision (data_changed) on a pushed data pointer.
    retrain_always(repo)
    add_model(repo, "iris-small", 30)
    fake = GitLabFake(token=TOKEN, path=PROJECT)
    with ci_servers(repo, "gitlab-s3", fake, tmp_path) as (server, _):
        yield Lab(repo, server, fake, tmp_path)


def test_mr_job_green_posts_its_report_note(lab: Lab) -> None:
    sha = commit_on_branch(lab.repo, "docs", {"NOTES.md": "notes\n"}, "notes")
    mr = lab.fake.open_merge_request(source="docs")
    pl = lab.pipeline(
        "merge_request_event", "docs", checkout=sha, merge_request={"iid": mr.iid, "target": "main"}
    )
    skipped = lab.run("mlcode-retrain", pl, "no-retrain", matrix={"MODELS": "iris"})
    assert skipped.status == "skipped"
    check = lab.run("mlcode-check", pl, "check")
    assert check.status == "success", check.log
    assert "harness: NOT RUN" in check.log
    (note,) = lab.fake.notes
    assert note.iid == mr.iid
    assert note.body.startswith("<!-- mlcode-report -->\n## mlcode report")
    assert "### Model `iris-small`" in note.body


def test_fork_mr_job_validates_checks_and_says_why_the_rest_is_skipped(lab: Lab) -> None:
    sha = commit_on_branch(lab.repo, "fork-docs", {"NOTES.md": "from a fork\n"}, "fork notes")
    mr = lab.fake.open_merge_request(source="fork-docs")
    pl = lab.pipeline(
        "merge_request_event",
        "fork-docs",
        checkout=sha,
        merge_request={"iid": mr.iid, "target": "main", "source_project_id": 99},
    )
    pl.variables = {}  # a fork's pipeline gets none of the project's CI/CD variables
    fork = lab.run("mlcode-fork-check", pl, "fork")
    assert fork.status == "success", fork.log
    assert "comes from a fork" in fork.log
    assert "$ mlcode check" in fork.log
    assert lab.run("mlcode-check", pl, "full").status == "skipped"
    assert lab.fake.notes == []
    own = lab.pipeline(
        "merge_request_event",
        "fork-docs",
        checkout=sha,
        merge_request={"iid": mr.iid, "target": "main"},
    )
    assert lab.run("mlcode-fork-check", own, "own").status == "skipped"


def test_retrain_matrix_entry_promotes_then_finalize_assigns_the_stage(lab: Lab) -> None:
    new_rows(lab.repo, 30)
    pl = lab.pipeline("schedule", "main")
    assert lab.run("mlcode-check", pl, "no-check").status == "skipped"
    retrain = lab.run("mlcode-retrain", pl, "retrain", matrix={"MODELS": "iris"})
    assert retrain.status == "success", retrain.log
    pushed = remote_refs(lab.repo)
    branches = [r for r in pushed if r.startswith("refs/heads/mlcode/promote/iris/")]
    assert len(branches) == 1, pushed
    branch = branches[0].removeprefix("refs/heads/")
    assert "refs/tags/iris@v0.1.0" in pushed
    assert not any("iris-small" in ref for ref in pushed)  # the other entry's model: untouched
    (mr,) = lab.fake.merge_requests.values()
    assert (mr.source, mr.target) == (branch, "main")

    git(lab.repo, "fetch", "-q", "origin")
    git(lab.repo, "merge", "-q", "--no-ff", "-m", "Merge the promotion", f"origin/{branch}")
    git(lab.repo, "push", "-q", "origin", "main")
    final = lab.run("mlcode-finalize", lab.pipeline("push", "main"), "finalize")
    assert final.status == "success", final.log
    git(lab.repo, "fetch", "-q", "--tags", "origin")
    assert gto_show(lab.repo)["iris"]["stage"]["prod"] == "v0.1.0"
