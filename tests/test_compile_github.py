"""Unit tests of `mlcode.compile.github`: structure and safety rules of the generated workflows,
determinism, and golden files for the shipped GitHub stacks (MLCODE_UPDATE_GOLDEN=1 rewrites them)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from mlcode import __version__
from mlcode.compile import github
from mlcode.compile.header import is_pristine
from mlcode.compile.render import RenderError
from mlcode.errors import UserError
from mlcode.resources import stack_presets
from mlcode.spec.load import load_file, parse_spec, parse_stack
from mlcode.spec.model import MlSpec
from mlcode.spec.stack import Stack
from mlcode.spec.yamlsource import parse

GOLDEN = Path(__file__).parent / "golden" / "ci"

SPEC = """\
version: 1
project: churn
stack: {stack}
data:
  customers:
    path: data/customers.csv
    target: churned
    features: {numeric: [age, tenure], categorical: [plan]}
  customers_latest:
    path: data/customers_latest.csv
models:
  churn:
    task: classification
    data: customers
    estimator: sklearn.ensemble.HistGradientBoostingClassifier
    gates:
      metrics:
        - {metric: roc_auc, min: 0.8}
      drift: {reference: customers, current: customers_latest}
    promotion: {reviewers: [ml-leads], labels: [model-promotion]}
  churn-linear:
    task: classification
    data: customers
    estimator: sklearn.linear_model.LogisticRegression
ci:
  schedule: "0 3 * * 1"
  retrain_on_data_change: true
"""

SINGLE = """\
version: 1
project: iris
stack: {stack}
data:
  iris: {path: data/iris.csv, target: species, features: {numeric: [a, b]}}
models:
  iris:
    task: classification
    data: iris
    estimator: sklearn.linear_model.LogisticRegression
"""


def stack(name: str) -> Stack:
    return parse_stack(load_file(str(stack_presets()[name]), f"stacks/{name}.yaml"))


def spec(text: str, stack_name: str = "github-s3") -> MlSpec:
    return parse_spec(parse(text.replace("{stack}", stack_name), "ml.yaml"))


def custom_stack(**overrides: Any) -> Stack:
    data = yaml.safe_load(stack_presets()["github-s3"].read_text())
    data.update(overrides)
    return Stack.model_validate(data)


def workflows(text: str = SPEC, stack_name: str = "github-s3") -> dict[str, dict[Any, Any]]:
    files = github.render(spec(text, stack_name), stack(stack_name))
    return {path: yaml.safe_load(body) for path, body in files.items()}


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job["steps"])


def all_steps(wf: dict[Any, Any]) -> list[dict[str, Any]]:
    return [s for job in wf["jobs"].values() for s in job.get("steps", [])]


def test_paths_and_headers() -> None:
    files = github.render(spec(SPEC), stack("github-s3"))
    assert sorted(files) == sorted(
        [github.PR_WORKFLOW, github.RETRAIN_WORKFLOW, github.FINALIZE_WORKFLOW]
    )
    for text in files.values():
        assert is_pristine(text)


@pytest.mark.parametrize("stack_name", ["github-s3", "github-ssh"])
def test_deterministic(stack_name: str) -> None:
    first = github.render(spec(SPEC, stack_name), stack(stack_name))
    second = github.render(spec(SPEC, stack_name), stack(stack_name))
    assert first == second


@pytest.mark.parametrize("stack_name", ["github-s3", "github-ssh"])
def test_golden(stack_name: str) -> None:
    files = github.render(spec(SPEC, stack_name), stack(stack_name))
    folder = GOLDEN / stack_name
    if os.environ.get("MLCODE_UPDATE_GOLDEN") == "1":
        for path, text in files.items():
            target = folder / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    for path, text in files.items():
        assert (folder / path).read_text(encoding="utf-8") == text, path


def test_permissions_least_privilege() -> None:
    wfs = workflows()
    for wf in wfs.values():
        assert wf["permissions"] == {}
        for job in wf["jobs"].values():
            assert isinstance(job["timeout-minutes"], int)
    pr = wfs[github.PR_WORKFLOW]["jobs"]
    assert pr["check"]["permissions"] == {"contents": "read"}
    assert pr["comment"]["permissions"] == {"pull-requests": "write"}
    retrain = wfs[github.RETRAIN_WORKFLOW]["jobs"]["retrain"]
    assert retrain["permissions"] == {
        "contents": "write",
        "pull-requests": "write",
        "actions": "write",
    }


def test_no_pr_permissions_without_a_forge() -> None:
    s = custom_stack(forge={"type": "none"})
    retrain = yaml.safe_load(github.render(spec(SPEC), s)[github.RETRAIN_WORKFLOW])
    job = retrain["jobs"]["retrain"]
    assert job["permissions"] == {"contents": "write"}
    assert not any("gh workflow run" in s.get("run", "") for s in steps(job))


def test_pat_token_uses_its_secret_and_needs_no_dispatch() -> None:
    s = custom_stack(forge={"type": "github", "token_env": "ML_BOT_TOKEN"})
    retrain = yaml.safe_load(github.render(spec(SPEC), s)[github.RETRAIN_WORKFLOW])
    job = retrain["jobs"]["retrain"]
    assert "actions" not in job["permissions"]
    retrain_step = next(st for st in steps(job) if "mlcode retrain" in st.get("run", ""))
    assert retrain_step["env"]["ML_BOT_TOKEN"] == "${{ secrets.ML_BOT_TOKEN }}"


def test_actions_pinned_by_sha_with_tag_comment() -> None:
    files = github.render(spec(SPEC), stack("github-s3"))
    for text in files.values():
        uses = [line for line in text.splitlines() if line.strip().startswith(("uses:", "- uses:"))]
        assert uses
        for line in uses:
            assert re.search(r"uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+(\.\d+)*$", line), line


def test_checkout_never_persists_credentials() -> None:
    for wf in workflows().values():
        for step in all_steps(wf):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def test_no_expression_inside_run() -> None:
    for wf in workflows().values():
        for step in all_steps(wf):
            assert "${{" not in step.get("run", "")


@pytest.mark.parametrize("stack_name", ["github-s3", "github-ssh"])
def test_secrets_only_in_env_and_named_by_the_stack(stack_name: str) -> None:
    s = stack(stack_name)
    names = set(s.remote.credentials.values())
    if s.remote.known_hosts_env:
        names.add(s.remote.known_hosts_env)
    files = github.render(spec(SPEC, stack_name), s)
    seen = set()
    for text in files.values():
        seen |= set(re.findall(r"\$\{\{ secrets\.([A-Za-z0-9_]+)", text))
        for step in all_steps(yaml.safe_load(text)):
            for key, value in step.items():
                if key != "env":
                    assert "${{ secrets." not in str(value), step
            for var, value in step.get("env", {}).items():
                match = re.fullmatch(r"\$\{\{ secrets\.([A-Z0-9_]+) \}\}", str(value))
                if match:
                    assert match.group(1) in names
                    assert var == match.group(1) or var in {
                        "SECRET_FILE",
                        "SECRET_VALUE",
                        "KNOWN_HOSTS",
                    }
    assert seen == names


def test_s3_native_env_and_ssh_key_file() -> None:
    native = {
        "AWS_ACCESS_KEY_ID": "${{ secrets.AWS_ACCESS_KEY_ID }}",
        "AWS_SECRET_ACCESS_KEY": "${{ secrets.AWS_SECRET_ACCESS_KEY }}",
    }
    s3 = workflows(SPEC, "github-s3")
    # Every step whose mlcode command talks to the DVC remote has the remote's secrets.
    for path, command in (
        (github.RETRAIN_WORKFLOW, "mlcode retrain"),
        (github.PR_WORKFLOW, "mlcode run --pull"),
        (github.PR_WORKFLOW, "mlcode gates"),
    ):
        step = next(s for s in all_steps(s3[path]) if command in s.get("run", ""))
        assert native.items() <= step["env"].items(), command
    ssh = workflows(SPEC, "github-ssh")[github.RETRAIN_WORKFLOW]
    key = next(s for s in all_steps(ssh) if "SECRET_FILE" in s.get("env", {}))
    assert key["env"]["OPTION"] == "keyfile"
    assert key["env"]["DVC_REMOTE"] == "ssh-storage"
    assert "umask 077" in key["run"]
    assert 'chmod 600 "$path"' in key["run"]
    assert '"$RUNNER_TEMP/' in key["run"]
    cleanup = all_steps(ssh)[-1]
    assert cleanup["if"] == "always()"
    assert "rm -f" in cleanup["run"]


def test_install_pins_this_mlcode_version() -> None:
    for stack_name, extra in (("github-s3", "s3"), ("github-ssh", "ssh")):
        for wf in workflows(SPEC, stack_name).values():
            install = next(s for s in all_steps(wf) if "pip install" in s.get("run", ""))
            assert install["env"]["MLCODE_REQUIREMENT"] == f"mlcode-git[{extra}]=={__version__}"


def test_matrix_over_models_when_several() -> None:
    retrain = workflows()[github.RETRAIN_WORKFLOW]
    job = retrain["jobs"]["retrain"]
    include = job["strategy"]["matrix"]["include"]
    assert [e["model"] for e in include] == ["churn", "churn-linear"]
    assert include[0]["branch"] == "mlcode/promote/churn"
    assert job["env"] == {"MODELS": "${{ matrix.model }}"}
    assert job["strategy"]["fail-fast"] is False
    assert "max-parallel" not in job["strategy"]


def test_single_model_has_no_matrix() -> None:
    job = workflows(SINGLE)[github.RETRAIN_WORKFLOW]["jobs"]["retrain"]
    assert "strategy" not in job
    assert job["env"] == {"MODELS": "iris"}
    assert job["name"] == "retrain iris"
    # The checks are dispatched on the branches the retrain JSON reports promote pushed.
    steps = {s.get("name"): s for s in job["steps"]}
    assert steps["Retrain, evaluate the gates and promote"]["id"] == "retrain"
    dispatch = steps["Start the checks on the promotion branch"]
    assert dispatch["env"]["PROMOTION_BRANCHES"] == "${{ steps.retrain.outputs.branches }}"
    assert dispatch["if"] == "!cancelled() && steps.retrain.outputs.branches != ''"


def test_commit_mode_serializes_the_matrix() -> None:
    text = SPEC.replace(
        "    estimator: sklearn.linear_model.LogisticRegression\n",
        "    estimator: sklearn.linear_model.LogisticRegression\n    promotion: {mode: commit}\n",
    )
    wf = workflows(text)[github.RETRAIN_WORKFLOW]
    assert wf["concurrency"] == {"group": "mlcode-retrain", "cancel-in-progress": False}
    job = wf["jobs"]["retrain"]
    assert job["concurrency"]["group"] == "mlcode-retrain-${{ matrix.model }}"
    assert job["strategy"]["max-parallel"] == 1
    include = job["strategy"]["matrix"]["include"]
    assert [e["dispatch"] for e in include] == [True, False]


def test_triggers() -> None:
    wfs = workflows()
    pr_on = wfs[github.PR_WORKFLOW][True]
    assert set(pr_on) == {"pull_request", "workflow_dispatch"}
    on = wfs[github.RETRAIN_WORKFLOW][True]
    assert on["schedule"] == [{"cron": "0 3 * * 1"}]
    assert "workflow_dispatch" in on
    assert on["push"] == {"branches": ["main"], "paths": ["**.dvc"]}
    quiet = workflows(SINGLE)[github.RETRAIN_WORKFLOW][True]
    assert set(quiet) == {"workflow_dispatch", "push"}
    off = SINGLE + "ci: {retrain_on_data_change: false, pull_request_checks: false}\n"
    wfs = workflows(off)
    assert set(wfs[github.RETRAIN_WORKFLOW][True]) == {"workflow_dispatch"}
    assert set(wfs[github.PR_WORKFLOW][True]) == {"workflow_dispatch"}


def test_concurrency() -> None:
    wfs = workflows()
    retrain = wfs[github.RETRAIN_WORKFLOW]
    # One group per model (the job's, where the matrix is known), none for the whole workflow:
    # two retrains of one model never overlap, other models go on.
    assert "concurrency" not in retrain
    assert retrain["jobs"]["retrain"]["concurrency"] == {
        "group": "mlcode-retrain-${{ matrix.model }}",
        "cancel-in-progress": False,
    }
    single = workflows(SINGLE)[github.RETRAIN_WORKFLOW]["jobs"]["retrain"]
    assert single["concurrency"] == {"group": "mlcode-retrain-iris", "cancel-in-progress": False}
    empty = workflows("version: 1\nproject: empty\nstack: github-s3\n")[github.RETRAIN_WORKFLOW]
    assert empty["jobs"]["retrain"]["concurrency"]["group"] == "mlcode-retrain"
    assert wfs[github.PR_WORKFLOW]["concurrency"]["cancel-in-progress"] is True
    assert wfs[github.FINALIZE_WORKFLOW]["concurrency"] == {
        "group": "mlcode-finalize",
        "cancel-in-progress": False,
    }


def test_finalize_workflow_on_push_to_each_base() -> None:
    text = SPEC.replace(
        "    promotion: {reviewers: [ml-leads], labels: [model-promotion]}\n",
        "    promotion: {reviewers: [ml-leads], labels: [model-promotion], base: develop}\n",
    )
    wf = workflows(text)[github.FINALIZE_WORKFLOW]
    assert wf[True] == {"push": {"branches": ["develop", "main"]}, "workflow_dispatch": None}
    assert wf["permissions"] == {}
    (job,) = wf["jobs"].values()
    assert job["permissions"] == {"contents": "write"}
    assert not any(s.get("uses", "").startswith("actions/cache@") for s in steps(job))
    python = next(s for s in steps(job) if s.get("uses", "").startswith("actions/setup-python@"))
    assert "cache" not in python["with"]
    last = steps(job)[-1]
    assert last["run"].rstrip().endswith("mlcode promote --finalize")
    assert last["env"] == {
        "GITHUB_TOKEN": "${{ github.token }}",
        "MLCODE_PUSH_TOKEN": "${{ github.token }}",
    }
    assert "git config credential.helper" in last["run"]
    s = custom_stack(forge={"type": "github", "token_env": "ML_BOT_TOKEN"})
    wf = yaml.safe_load(github.render(spec(SPEC), s)[github.FINALIZE_WORKFLOW])
    last = steps(next(iter(wf["jobs"].values())))[-1]
    assert last["env"]["MLCODE_PUSH_TOKEN"] == "${{ secrets.ML_BOT_TOKEN }}"


def test_commands_called() -> None:
    wfs = workflows()
    pr_runs = "\n".join(s.get("run", "") for s in steps(wfs[github.PR_WORKFLOW]["jobs"]["check"]))
    for command in ("mlcode validate", "mlcode check", "mlcode run --pull", "mlcode gates"):
        assert command in pr_runs
    # The job's mlcode commands fetch what they need: no bulk `dvc pull` of every model's data.
    assert "dvc pull" not in pr_runs
    assert 'mlcode gates "$model" --format markdown' in pr_runs  # the gate table, as Markdown
    assert "dvc metrics diff --md" in pr_runs
    comment = steps(wfs[github.PR_WORKFLOW]["jobs"]["comment"])
    assert "<!-- mlcode-report -->" in comment[0]["run"]
    retrain_runs = "\n".join(s.get("run", "") for s in all_steps(wfs[github.RETRAIN_WORKFLOW]))
    for command in (
        "mlcode retrain $MODELS --pull --push --json",
        "gh workflow run mlcode-pr.yml",
    ):
        assert command in retrain_runs
    for gone in ("dvc pull", "mlcode run", "mlcode gates", "mlcode promote"):
        assert gone not in retrain_runs


def test_comment_job_uses_token_from_env_only() -> None:
    job = workflows()[github.PR_WORKFLOW]["jobs"]["comment"]
    (step,) = steps(job)
    assert step["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert step["env"]["REPORT"] == "${{ needs.check.outputs.report }}"
    assert "gh api" in step["run"]


def test_no_models() -> None:
    text = "version: 1\nproject: empty\nstack: github-s3\n"
    wfs = workflows(text)
    job = wfs[github.RETRAIN_WORKFLOW]["jobs"]["retrain"]
    assert job["permissions"] == {"contents": "read"}
    assert "mlcode promote" not in yaml.safe_dump(job)


def test_secret_names_reserved_by_github_are_refused() -> None:
    # The stack model refuses it already (so `validate` does); compile keeps its own check.
    with pytest.raises(ValidationError, match="GITHUB_"):
        custom_stack(
            remote={
                "name": "s3",
                "type": "s3",
                "url": "s3://b/p",
                "credentials": {"access_key_id": "GITHUB_KEY"},
            }
        )


def test_odd_credential_option_is_refused() -> None:
    with pytest.raises(ValidationError, match="is not an option of DVC 's3' remotes"):
        custom_stack(
            remote={
                "name": "s3",
                "type": "s3",
                "url": "s3://b/p",
                "credentials": {"x; rm -rf /": "SOME_VAR"},
            }
        )


def test_check_workflow_catches_broken_output() -> None:
    good = github.render(spec(SPEC), stack("github-s3"))[github.RETRAIN_WORKFLOW]
    github.check_workflow(good, "x.yml")
    broken = [
        good.replace("permissions: {}", "permissions: write-all"),
        good.replace("persist-credentials: false", "persist-credentials: true"),
        good.replace("mlcode retrain $MODELS", "mlcode retrain ${{ matrix.model }}"),
        re.sub(r"@[0-9a-f]{40}", "@v4", good, count=1),
        good.replace("timeout-minutes: 120", "timeout-minutes: soon"),
        "- a list\n",
        "key: [unclosed\n",
    ]
    for text in broken:
        with pytest.raises(RenderError):
            github.check_workflow(text, "x.yml")


def test_caches_only_where_nothing_is_published() -> None:
    wfs = workflows()
    pr = all_steps(wfs[github.PR_WORKFLOW])
    assert any(s.get("uses", "").startswith("actions/cache@") for s in pr)
    cache = next(s for s in pr if s.get("uses", "").startswith("actions/cache@"))
    assert cache["with"]["path"] == ".dvc/cache"
    assert "hashFiles('dvc.lock')" in cache["with"]["key"]
    python = next(s for s in pr if s.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["cache"] == "pip"
    assert python["with"]["cache-dependency-path"] == "ml.yaml"
    retrain = all_steps(wfs[github.RETRAIN_WORKFLOW])
    assert not any(s.get("uses", "").startswith("actions/cache@") for s in retrain)
    python = next(s for s in retrain if s.get("uses", "").startswith("actions/setup-python@"))
    assert "cache" not in python["with"]


def _many(models: int, groups: dict[str, list[int]] | None = None) -> str:
    """ml.yaml of a monorepo: `models` models on one dataset, optionally in `ci.groups`."""
    lines = ["version: 1", "project: mono", "stack: {stack}", "data:"]
    lines += ["  d: {path: data/d.csv, target: y, features: {numeric: [a, b]}}", "models:"]
    for i in range(models):
        mode = ", promotion: {mode: commit}" if i == 7 else ""
        lines.append(
            f"  m{i}: {{task: regression, data: d, estimator: sklearn.linear_model.Ridge{mode}}}"
        )
    if groups is not None:
        lines += ["ci:", "  groups:"]
        for name, members in groups.items():
            lines.append(f"    {name}: [{', '.join(f'm{i}' for i in members)}]")
    return "\n".join(lines) + "\n"


def test_fifty_models_make_a_matrix_of_fifty() -> None:
    job = workflows(_many(50))[github.RETRAIN_WORKFLOW]["jobs"]["retrain"]
    include = job["strategy"]["matrix"]["include"]
    assert [e["model"] for e in include] == [f"m{i}" for i in range(50)]
    assert [e["dispatch"] for e in include] == [i != 7 for i in range(50)]
    assert job["env"] == {"MODELS": "${{ matrix.model }}"}
    assert job["concurrency"]["group"] == "mlcode-retrain-${{ matrix.model }}"


def test_groups_make_one_job_per_group() -> None:
    groups = {
        "first": list(range(0, 20)),
        "second": list(range(20, 45)),
        "tail": [45, 46, 47, 48, 49],
    }
    wf = workflows(_many(50, groups))[github.RETRAIN_WORKFLOW]
    job = wf["jobs"]["retrain"]
    include = job["strategy"]["matrix"]["include"]
    assert include == [
        {"group": "first", "models": " ".join(f"m{i}" for i in range(20)), "dispatch": True},
        {"group": "second", "models": " ".join(f"m{i}" for i in range(20, 45)), "dispatch": True},
        {"group": "tail", "models": "m45 m46 m47 m48 m49", "dispatch": True},
    ]
    assert job["name"] == "retrain ${{ matrix.group }}"
    # The command splits MODELS (the run: never holds an expression); one run per group at a time.
    assert job["env"] == {"MODELS": "${{ matrix.models }}"}
    assert job["concurrency"] == {
        "group": "mlcode-retrain-group-${{ matrix.group }}",
        "cancel-in-progress": False,
    }
    run = next(s for s in steps(job) if s.get("id") == "retrain")["run"]
    assert "mlcode retrain $MODELS --pull --push --json" in run
    # m7 commits to its base: runs take turns, as without groups.
    assert job["strategy"]["max-parallel"] == 1
    assert wf["concurrency"]["group"] == "mlcode-retrain"
    # A group whose models all commit to their base starts no checks.
    only_commit = workflows(_many(8, {"a": [7], "b": list(range(7))}))[github.RETRAIN_WORKFLOW]
    include = only_commit["jobs"]["retrain"]["strategy"]["matrix"]["include"]
    assert [(e["group"], e["dispatch"]) for e in include] == [("a", False), ("b", True)]


def test_one_group_of_one_model_is_still_a_group_job() -> None:
    job = workflows(_many(1, {"all": [0]}))[github.RETRAIN_WORKFLOW]["jobs"]["retrain"]
    assert job["strategy"]["matrix"]["include"] == [
        {"group": "all", "models": "m0", "dispatch": True}
    ]


def test_too_many_jobs_for_a_matrix_is_refused_at_compile() -> None:
    with pytest.raises(UserError, match=r"257 models make 257 retrain jobs.*`ci.groups`"):
        workflows(_many(257))
    groups = {f"g{i}": [i] for i in range(257)}
    with pytest.raises(UserError, match="257 groups make 257 retrain jobs"):
        workflows(_many(257, groups))
    assert len(workflows(_many(257, {"a": list(range(257))}))) == 3


def test_fork_pull_requests_get_a_job_without_secrets() -> None:
    pr = workflows()[github.PR_WORKFLOW]
    fork, check = pr["jobs"]["fork"], pr["jobs"]["check"]
    same_repo = "github.event.pull_request.head.repo.full_name == github.repository"
    assert fork["if"] == (
        "github.event_name == 'pull_request' && "
        "github.event.pull_request.head.repo.full_name != github.repository"
    )
    # workflow_dispatch has no pull_request: the full job runs for it (the retrain workflow's).
    assert check["if"] == f"github.event_name == 'workflow_dispatch' || {same_repo}"
    assert fork["permissions"] == {"contents": "read"}
    text = yaml.safe_dump(fork)
    assert "secrets." not in text
    assert "github.token" not in text
    runs = [s["run"] for s in steps(fork) if "run" in s]
    assert runs[1:3] == ["mlcode validate", "mlcode check"]
    assert not any("dvc" in r or "mlcode run" in r or "mlcode gates" in r for r in runs)
    why = runs[-1]
    assert "::notice" in why
    assert '>> "$GITHUB_STEP_SUMMARY"' in why
    assert "comes from a fork" in why
    # The report comment job needs the check job's report: it is skipped with it.
    assert "check" in pr["jobs"]["comment"]["needs"]
    # Without pull_request checks there is no fork job.
    off = workflows(SINGLE + "ci: {pull_request_checks: false}\n")[github.PR_WORKFLOW]
    assert set(off["jobs"]) == {"check", "comment"}


def test_groups_that_do_not_cover_the_models_are_refused_at_compile() -> None:
    # `validate` locates each problem; compile, called on such a spec anyway, refuses it whole.
    for groups in ({"a": [0]}, {"a": [0, 1], "b": [1, 2]}, {"a": [0, 1, 2], "b": []}):
        with pytest.raises(UserError, match="every model must be in exactly one non-empty group"):
            workflows(_many(3, groups))
    # No models: nothing to group; the workflow reproduces, as without groups.
    empty = workflows("version: 1\nproject: e\nstack: github-s3\nci: {groups: {}}\n")
    assert empty[github.RETRAIN_WORKFLOW]["jobs"]["retrain"]["name"] == "reproduce"
