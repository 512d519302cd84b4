"""The CI job runner of the tests plays GitHub's and GitLab's rules, and refuses what it does not
play: expressions, `if:` conditions, command files, GitLab rules, and whole tiny jobs run for real
(bash, a bare origin cloned by the checkout stand-in)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.e2e.ci_expr import Contexts, ExpressionError, Status, condition, evaluate, interpolate
from tests.e2e.ci_runner import (
    GitHubEvent,
    GitLabPipeline,
    HarnessError,
    parse_command_file,
    rule_if,
    run_github_job,
    run_gitlab_job,
)
from tests.e2e.helpers import git

CTX = {
    "github": {
        "repository": "octo-org/models",
        "event_name": "pull_request",
        "event": {"pull_request": {"head": {"repo": {"full_name": "Octo-Org/Models"}}}},
        "base_ref": "",
    },
    "steps": {"report": {"outputs": {"gates": "pass"}}},
    "matrix": {"model": "iris", "dispatch": False},
    "secrets": {},
    "needs": {"check": {"outputs": {"report": ""}}},
}


def ctx(failed: bool = False) -> Contexts:
    return Contexts(CTX, Status(failed=failed), frozenset({"model", "dispatch"}))


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("github.event.pull_request.head.repo.full_name == github.repository", True),  # case
        ("steps.report.outputs.gates != 'pass'", False),
        ("github.base_ref || 'main'", "main"),
        ("github.event.pull_request.number || github.ref_name", None),
        ("matrix.dispatch", False),
        ("secrets.MISSING == ''", True),
        ("'It''s' == 'it''S'", True),
        ("1 == '1' && null == 0 && true == 1", True),
        ("!(needs.check.outputs.report != '')", True),
        ("contains('abc', 'B') && startsWith('mlcode', 'ML')", True),
        ("format('{0}-{1}', 'a', 2)", "a-2"),
        ("fromJSON('[1, 2]')[1]", 2.0),
    ],
)
def test_expressions(expression: str, value: object) -> None:
    assert evaluate(expression, ctx()) == value


@pytest.mark.parametrize(
    "expression",
    [
        "inputs.model",  # a context the harness does not give
        "github.head_commit",  # a github property it does not give
        "runner.name",
        "matrix.group",  # not a key of the matrix entry
        "hashFiles('dvc.lock')",
        "github.event.*.name",
        "steps.report.outputs.gates ==",
    ],
)
def test_unknown_contexts_functions_and_syntax_are_refused(expression: str) -> None:
    with pytest.raises(ExpressionError):
        evaluate(expression, ctx())


def test_if_implies_success_unless_a_status_function_is_named() -> None:
    assert condition(None, ctx())
    assert not condition(None, ctx(failed=True))
    assert not condition("steps.report.outputs.gates == 'pass'", ctx(failed=True))
    assert condition("${{ always() }}", ctx(failed=True))
    assert condition("failure()", ctx(failed=True))
    assert not condition("matrix.dispatch", ctx())
    assert interpolate("x-${{ matrix.model }}-${{ github.base_ref }}", ctx()) == "x-iris-"


def test_command_files_read_values_and_heredocs() -> None:
    text = "a=1\nreport<<EOF_x\n## title\n\nline=2\nEOF_x\nb=x=y\n"
    assert parse_command_file(text) == {"a": "1", "report": "## title\n\nline=2", "b": "x=y"}
    with pytest.raises(HarnessError):
        parse_command_file("v<<END\nnever closed\n")


@pytest.mark.parametrize(
    ("rule", "value"),
    [
        ('$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == "main"', True),
        ('$CI_PIPELINE_SOURCE == "schedule" || $CI_COMMIT_BRANCH == "dev"', False),
        ("$CI_MERGE_REQUEST_IID", False),
        ("$CI_COMMIT_BRANCH =~ /^ma/", True),
        ("($CI_COMMIT_BRANCH != null) && $UNSET == null", True),
    ],
)
def test_gitlab_rules(rule: str, value: bool) -> None:
    variables = {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main"}
    assert rule_if(rule, variables) is value


def test_gitlab_rules_refuse_predefined_variables_the_harness_does_not_set() -> None:
    with pytest.raises(HarnessError):
        rule_if('$CI_COMMIT_TAG == "v1"', {})


@pytest.fixture
def bare(git_repo: Path, tmp_path: Path) -> Path:
    (git_repo / "a.txt").write_text("a\n")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "a")
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(git_repo), str(bare))
    return bare


WORKFLOW = """
on: {push: {branches: [main]}}
defaults: {run: {shell: bash}}
env: {TOP: top}
jobs:
  j:
    env: {WHO: "${{ github.repository }}"}
    steps:
      - uses: actions/checkout@0000000000000000000000000000000000000000
        with: {fetch-depth: 0, persist-credentials: false}
      - id: one
        run: |
          cat a.txt
          echo "v=$WHO/$TOP" >> "$GITHUB_OUTPUT"
          echo "LATER=yes" >> "$GITHUB_ENV"
          mkdir -p "$RUNNER_TEMP/bin" && echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"
      - name: pipefail
        continue-on-error: true
        run: false | true
      - name: reads
        env: {V: "${{ steps.one.outputs.v }}"}
        run: test "$V" = octo-org/models/top && test "$LATER" = yes && echo "$PATH" | grep -q /bin
      - name: never
        if: failure()
        run: exit 1
"""


def test_a_github_job_runs_its_steps_as_github_does(bare: Path, tmp_path: Path) -> None:
    ev = GitHubEvent(origin=bare, event_name="push", ref="refs/heads/main")
    result = run_github_job(yaml.safe_load(WORKFLOW), "j", ev, tmp_path / "run")
    assert result.status == "success", result.log
    assert [s.outcome for s in result.steps] == [
        "success",
        "success",
        "failure",
        "success",
        "skipped",
    ]
    assert result.steps[2].conclusion == "success"  # continue-on-error
    assert "a\n" in result.steps[1].log

    unknown = yaml.safe_load(WORKFLOW.replace("actions/checkout", "someone/else"))
    with pytest.raises(HarnessError, match="no local equivalent"):
        run_github_job(unknown, "j", ev, tmp_path / "other")


GITLAB = """
workflow:
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
variables: {DIR: $CI_PROJECT_DIR/x}
.base:
  before_script: [echo before]
job:
  extends: .base
  parallel:
    matrix:
      - MODEL: [a, b]
  script:
    - test "$DIR" = "$CI_PROJECT_DIR/x" && test "$MODEL" = b && cat a.txt
    - exit 4
  after_script: [echo after]
"""


def test_a_gitlab_job_runs_before_script_script_and_after_script(
    bare: Path, tmp_path: Path
) -> None:
    config = tmp_path / "ci.yml"
    config.write_text(GITLAB)
    pl = GitLabPipeline(origin=bare, source="schedule", ref="main")
    result = run_gitlab_job(config, "job", pl, tmp_path / "run", matrix={"MODEL": "b"})
    assert result.status == "failure"
    assert result.steps[0].returncode == 4
    assert "$ echo before\nbefore\n" in result.log
    assert "after" in result.steps[1].log
    with pytest.raises(HarnessError, match="parallel:matrix"):
        run_gitlab_job(config, "job", pl, tmp_path / "again", matrix={"MODEL": "c"})
    pushed = GitLabPipeline(origin=bare, source="push", ref="main")
    assert (
        run_gitlab_job(config, "job", pushed, tmp_path / "p", matrix={"MODEL": "a"}).status
        == "skipped"
    )
