"""Unit tests of `mlcode.compile.gitlab`: the merge-request and retrain flows of `.gitlab-ci.yml`,
credentials by variable name only, determinism, and the golden file of the gitlab-s3 stack
(MLCODE_UPDATE_GOLDEN=1 rewrites it)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from mlcode import __version__
from mlcode.compile import gitlab
from mlcode.compile.header import is_pristine
from mlcode.compile.render import RenderError
from mlcode.errors import UserError
from mlcode.resources import stack_presets
from mlcode.spec.load import load_file, parse_spec, parse_stack
from mlcode.spec.model import MlSpec
from mlcode.spec.stack import Stack
from mlcode.spec.yamlsource import parse

GOLDEN = Path(__file__).parent / "golden" / "ci" / "gitlab-s3"

SPEC = """\
version: 1
project: churn
stack: gitlab-s3
data:
  customers:
    path: data/customers.csv
    target: churned
    features: {numeric: [age, tenure], categorical: [plan]}
models:
  churn:
    task: classification
    data: customers
    estimator: sklearn.ensemble.HistGradientBoostingClassifier
  churn-linear:
    task: classification
    data: customers
    estimator: sklearn.linear_model.LogisticRegression
    promotion: {base: develop}
ci:
  schedule: "0 3 * * 1"
"""


def stack(**overrides: Any) -> Stack:
    if not overrides:
        return parse_stack(load_file(str(stack_presets()["gitlab-s3"]), "stacks/gitlab-s3.yaml"))
    data = yaml.safe_load(stack_presets()["gitlab-s3"].read_text())
    data.update(overrides)
    return Stack.model_validate(data)


def spec(text: str = SPEC) -> MlSpec:
    return parse_spec(parse(text, "ml.yaml"))


def pipeline(text: str = SPEC, s: Stack | None = None) -> dict[str, Any]:
    files = gitlab.render(spec(text), s or stack())
    assert list(files) == [gitlab.GITLAB_CI]
    data = yaml.safe_load(files[gitlab.GITLAB_CI])
    assert isinstance(data, dict)
    return data


def test_header_and_determinism() -> None:
    first = gitlab.render(spec(), stack())
    assert first == gitlab.render(spec(), stack())
    assert is_pristine(first[gitlab.GITLAB_CI])


def test_golden() -> None:
    text = gitlab.render(spec(), stack())[gitlab.GITLAB_CI]
    target = GOLDEN / gitlab.GITLAB_CI
    if os.environ.get("MLCODE_UPDATE_GOLDEN") == "1":
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    assert target.read_text(encoding="utf-8") == text


def test_flows_and_rules() -> None:
    data = pipeline()
    rules = [r["if"] for r in data["workflow"]["rules"]]
    assert '$CI_PIPELINE_SOURCE == "merge_request_event"' in rules
    assert '$CI_PIPELINE_SOURCE == "schedule"' in rules
    assert '$CI_PIPELINE_SOURCE == "web"' in rules
    on_base = [
        '$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == "develop"',
        '$CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH == "main"',
    ]
    # Every push to a base branch starts a pipeline (the finalize job runs on each)...
    pushes = [r for r in data["workflow"]["rules"] if '"push"' in r["if"]]
    assert pushes == [{"if": rule} for rule in on_base]
    check = data["mlcode-check"]
    same_project = "$CI_MERGE_REQUEST_SOURCE_PROJECT_ID == $CI_MERGE_REQUEST_PROJECT_ID"
    assert check["rules"] == [
        {"if": f'$CI_PIPELINE_SOURCE == "merge_request_event" && {same_project}'}
    ]
    # ...the retrain job only when data pointers changed.
    retrain = data["mlcode-retrain"]
    retrain_pushes = [r for r in retrain["rules"] if '"push"' in r["if"]]
    assert retrain_pushes == [{"if": rule, "changes": ["**/*.dvc"]} for rule in on_base]
    assert {"if": '$CI_PIPELINE_SOURCE == "schedule"'} in retrain["rules"]
    finalize = data["mlcode-finalize"]
    assert finalize["rules"] == [{"if": rule} for rule in on_base]
    assert finalize["needs"] == []  # not held back by a failed retrain in the same pipeline
    assert data["stages"] == ["check", "retrain", "finalize"]


def test_no_data_change_rule_when_disabled() -> None:
    data = pipeline(SPEC + "  retrain_on_data_change: false\n")
    assert not any('"push"' in r["if"] for r in data["mlcode-retrain"]["rules"])
    assert all("changes" not in r for r in data["workflow"]["rules"])


def test_one_retrain_per_model_at_a_time() -> None:
    retrain = pipeline()["mlcode-retrain"]
    # GitLab expands the job's MODELS (a parallel:matrix variable) in the group name.
    assert retrain["resource_group"] == "mlcode-retrain-$MODELS"
    assert retrain["parallel"]["matrix"] == [{"MODELS": ["churn", "churn-linear"]}]
    text = SPEC.split("  churn-linear:", maxsplit=1)[0]
    single = pipeline(text)["mlcode-retrain"]
    assert single["resource_group"] == "mlcode-retrain-$MODELS"
    assert single["variables"]["MODELS"] == "churn"
    empty = pipeline("version: 1\nproject: empty\nstack: gitlab-s3\n")["mlcode-retrain"]
    assert empty["resource_group"] == "mlcode-retrain"


def test_finalize_job_pushes_stage_tags_with_the_forge_token() -> None:
    job = pipeline()["mlcode-finalize"]
    assert job["resource_group"] == "mlcode-finalize"
    assert "extends" not in job  # no DVC pull, no caches: it only reads and writes git tags
    assert job["variables"] == {"MLCODE_FORGE_TOKEN_VAR": "GITLAB_TOKEN"}
    script = job["script"]
    assert script[-1] == "mlcode promote --finalize"
    assert any("credential.helper" in line and "printenv" in line for line in script)


def test_no_mr_job_when_checks_are_off() -> None:
    assert "mlcode-check" not in pipeline(SPEC + "  pull_request_checks: false\n")


def test_image_and_caches() -> None:
    data = pipeline()
    assert data["default"]["image"] == "python:3.11-slim"
    no_image = stack(runner={"label": "ubuntu-latest"})
    assert pipeline(SPEC + '  python: "3.12"\n', no_image)["default"]["image"] == (
        "python:3.12-slim"
    )
    cache = data[".mlcode-setup"]["cache"]
    assert [c["paths"] for c in cache] == [[".cache/pip"], [".dvc/cache"]]
    assert [c["key"]["files"] for c in cache] == [["ml.yaml"], ["dvc.lock"]]


def test_bad_image_is_refused() -> None:
    # The stack model refuses it already (so `validate` does); compile keeps its own check.
    with pytest.raises(ValidationError, match="image"):
        stack(runner={"image": "python:3.11 $CI_JOB_TOKEN"})


def test_matrix_and_commands() -> None:
    data = pipeline()
    retrain = data["mlcode-retrain"]
    assert retrain["parallel"]["matrix"] == [{"MODELS": ["churn", "churn-linear"]}]
    script = "\n".join(retrain["script"])
    assert 'mlcode retrain $MODELS --pull --push --json > "$result"' in script
    assert 'cp "$result" mlcode-retrain.json' in script
    for gone in ("mlcode run", "mlcode gates", "mlcode promote"):
        assert gone not in script
    assert retrain["artifacts"]["paths"] == ["mlcode-retrain.json"]
    # The jobs' mlcode commands fetch what their models need: no bulk pull of everything.
    setup = "\n".join(data[".mlcode-setup"]["before_script"])
    assert "dvc pull" not in setup
    assert data["variables"]["MLCODE_REQUIREMENT"] == f"mlcode-git[s3]=={__version__}"
    check = "\n".join(data["mlcode-check"]["script"])
    for command in ("mlcode validate", "mlcode check", "mlcode run --pull", "mlcode gates"):
        assert command in check
    assert "<!-- mlcode-report -->" in check
    assert "PRIVATE-TOKEN" in check
    assert data["mlcode-check"]["variables"]["MLCODE_FORGE_TOKEN_VAR"] == "GITLAB_TOKEN"


def test_single_model() -> None:
    text = SPEC.split("  churn-linear:", maxsplit=1)[0] + 'ci:\n  schedule: "0 3 * * 1"\n'
    retrain = pipeline(text)["mlcode-retrain"]
    assert "parallel" not in retrain
    assert retrain["variables"]["MODELS"] == "churn"


def test_credentials_by_name_only() -> None:
    s = stack(
        remote={
            "name": "box",
            "type": "ssh",
            "url": "ssh://u@h/p",
            "credentials": {"keyfile": "SSH_KEY", "password": "SSH_PASSWORD"},
        }
    )
    data = pipeline(SPEC, s)
    lines = data[".mlcode-setup"]["before_script"]
    keyfile = next(line for line in lines if "keyfile" in line)
    assert "umask 077" in keyfile
    assert "chmod 600" in keyfile
    assert '"$SSH_KEY"' in keyfile
    password = next(line for line in lines if " password " in line)
    assert password == 'dvc remote modify --local "$DVC_REMOTE" password "$SSH_PASSWORD"'
    assert data[".mlcode-setup"]["after_script"] == ["rm -f /tmp/mlcode-remote-*"]
    text = gitlab.render(spec(), s)[gitlab.GITLAB_CI]
    assert not re.search(r"(SSH_KEY|SSH_PASSWORD)\s*:", text)  # never defined, only referenced


def test_s3_credentials_come_from_the_environment() -> None:
    lines = pipeline()[".mlcode-setup"]["before_script"]
    assert not any("remote modify" in line for line in lines)


def test_check_pipeline_catches_broken_output() -> None:
    good = gitlab.render(spec(), stack())[gitlab.GITLAB_CI]
    gitlab.check_pipeline(good, "x.yml")
    for broken in (
        good.replace("resource_group: mlcode-retrain-$MODELS", "resource_group: other"),
        good.replace("resource_group: mlcode-finalize", "resource_group: other"),
        good.replace("stages:", "staged:"),
        "- a\n",
    ):
        with pytest.raises(RenderError):
            gitlab.check_pipeline(broken, "x.yml")


def _many(models: int, groups: dict[str, list[int]] | None = None) -> str:
    """ml.yaml of a monorepo: `models` models on one dataset, optionally in `ci.groups`."""
    lines = ["version: 1", "project: mono", "stack: gitlab-s3", "data:"]
    lines += ["  d: {path: data/d.csv, target: y, features: {numeric: [a, b]}}", "models:"]
    for i in range(models):
        lines.append(
            f"  m{i}: {{task: regression, data: d, estimator: sklearn.linear_model.Ridge}}"
        )
    if groups is not None:
        lines += ["ci:", "  groups:"]
        for name, members in groups.items():
            lines.append(f"    {name}: [{', '.join(f'm{i}' for i in members)}]")
    return "\n".join(lines) + "\n"


def test_fifty_models_make_a_parallel_matrix_of_fifty() -> None:
    retrain = pipeline(_many(50))["mlcode-retrain"]
    assert retrain["parallel"]["matrix"] == [{"MODELS": [f"m{i}" for i in range(50)]}]
    assert retrain["resource_group"] == "mlcode-retrain-$MODELS"
    assert "MODELS" not in retrain["variables"]


def test_groups_make_one_job_per_group() -> None:
    groups = {"first": list(range(20)), "second": list(range(20, 45)), "tail": [45, 46, 47, 48, 49]}
    retrain = pipeline(_many(50, groups))["mlcode-retrain"]
    assert retrain["parallel"]["matrix"] == [
        {"GROUP": "first", "MODELS": " ".join(f"m{i}" for i in range(20))},
        {"GROUP": "second", "MODELS": " ".join(f"m{i}" for i in range(20, 45))},
        {"GROUP": "tail", "MODELS": "m45 m46 m47 m48 m49"},
    ]
    assert retrain["resource_group"] == "mlcode-retrain-group-$GROUP"
    assert "MODELS" not in retrain["variables"]
    assert "mlcode retrain $MODELS --pull --push --json" in "\n".join(retrain["script"])
    one = pipeline(_many(1, {"all": [0]}))["mlcode-retrain"]
    assert one["parallel"]["matrix"] == [{"GROUP": "all", "MODELS": "m0"}]


def test_too_many_jobs_for_a_parallel_matrix_is_refused() -> None:
    with pytest.raises(UserError, match=r"201 models make 201 retrain jobs.*`ci.groups`"):
        pipeline(_many(201))
    assert len(pipeline(_many(200))["mlcode-retrain"]["parallel"]["matrix"][0]["MODELS"]) == 200
    with pytest.raises(UserError, match="201 groups make 201 retrain jobs"):
        pipeline(_many(201, {f"g{i}": [i] for i in range(201)}))


def test_fork_merge_requests_get_a_job_without_secrets() -> None:
    data = pipeline()
    fork = data["mlcode-fork-check"]
    assert fork["rules"] == [
        {
            "if": '$CI_PIPELINE_SOURCE == "merge_request_event" && '
            "$CI_MERGE_REQUEST_SOURCE_PROJECT_ID != $CI_MERGE_REQUEST_PROJECT_ID"
        }
    ]
    assert fork["stage"] == "check"
    # Not the setup with the DVC remote's credentials and pull; no variables, no token.
    assert "extends" not in fork
    assert "variables" not in fork
    assert fork["script"][:2] == ["mlcode validate", "mlcode check"]
    assert "comes from a fork" in fork["script"][2]
    assert not any("dvc" in line or "mlcode run" in line for line in fork["script"])
    assert "mlcode-fork-check" not in pipeline(SPEC + "  pull_request_checks: false\n")


def test_the_schedule_is_a_project_setting_named_next_to_the_retrain_job() -> None:
    """GitLab reads no schedule from .gitlab-ci.yml: the file says which pipeline schedule to
    create (cron, UTC, one per base branch), and apply/plan get the same words as a note."""
    text = gitlab.render(spec(), stack())[gitlab.GITLAB_CI]
    comment = text.split("\nmlcode-retrain:", 1)[0].rsplit("\n\n", 1)[-1]
    before_job = [line for line in comment.splitlines() if line.startswith("#")][-6:]
    said = " ".join(line.lstrip("# ") for line in before_job)
    for words in ("pipeline schedule", "0 3 * * 1", "UTC", "develop, main"):
        assert words in said, (words, said)
    note = gitlab.schedule_note(spec(), stack())
    assert note is not None
    for words in ("pipeline schedule", "0 3 * * 1", "UTC", "`develop`", "`main`", "Schedules"):
        assert words in note, (words, note)
    single = SPEC.split("  churn-linear:", maxsplit=1)[0] + 'ci:\n  schedule: "15 2 * * *"\n'
    one = gitlab.schedule_note(spec(single), stack())
    assert one is not None
    assert "15 2 * * *" in one
    assert "target branch `main`" in one
    assert "`develop`" not in one


def test_no_schedule_no_note_and_no_comment() -> None:
    text = SPEC.replace('ci:\n  schedule: "0 3 * * 1"\n', "")
    assert "schedule:" not in text
    assert gitlab.schedule_note(spec(text), stack()) is None
    assert "pipeline schedule" not in gitlab.render(spec(text), stack())[gitlab.GITLAB_CI]
    github = Stack.model_validate({**yaml.safe_load(stack_presets()["github-s3"].read_text())})
    assert gitlab.schedule_note(spec(), github) is None  # GitHub reads the cron from the workflow
