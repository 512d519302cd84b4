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
    assert check["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
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
    # GitLab expands the job's MODEL (a parallel:matrix variable) in the group name.
    assert retrain["resource_group"] == "mlcode-retrain-$MODEL"
    assert retrain["parallel"]["matrix"] == [{"MODEL": ["churn", "churn-linear"]}]
    text = SPEC.split("  churn-linear:", maxsplit=1)[0]
    single = pipeline(text)["mlcode-retrain"]
    assert single["resource_group"] == "mlcode-retrain-$MODEL"
    assert single["variables"]["MODEL"] == "churn"
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
    assert retrain["parallel"]["matrix"] == [{"MODEL": ["churn", "churn-linear"]}]
    script = "\n".join(retrain["script"])
    assert 'mlcode run "$MODEL"' in script
    assert 'mlcode gates "$MODEL" --json' in script
    assert 'mlcode promote "$MODEL"' in script
    setup = "\n".join(data[".mlcode-setup"]["before_script"])
    assert "dvc pull --run-cache --allow-missing" in setup
    assert data["variables"]["MLCODE_REQUIREMENT"] == f"mlcode-git[s3]=={__version__}"
    check = "\n".join(data["mlcode-check"]["script"])
    for command in ("mlcode validate", "mlcode check", "mlcode run", "mlcode gates"):
        assert command in check
    assert "<!-- mlcode-report -->" in check
    assert "PRIVATE-TOKEN" in check
    assert data["mlcode-check"]["variables"]["MLCODE_FORGE_TOKEN_VAR"] == "GITLAB_TOKEN"


def test_single_model() -> None:
    text = SPEC.split("  churn-linear:", maxsplit=1)[0] + 'ci:\n  schedule: "0 3 * * 1"\n'
    retrain = pipeline(text)["mlcode-retrain"]
    assert "parallel" not in retrain
    assert retrain["variables"]["MODEL"] == "churn"


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
        good.replace("resource_group: mlcode-retrain-$MODEL", "resource_group: other"),
        good.replace("resource_group: mlcode-finalize", "resource_group: other"),
        good.replace("stages:", "staged:"),
        "- a\n",
    ):
        with pytest.raises(RenderError):
            gitlab.check_pipeline(broken, "x.yml")
