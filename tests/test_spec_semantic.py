"""Cross-field checks: references, collisions, metrics per task, cron; all located."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlcode.errors import Problem, SpecError
from mlcode.spec import semantic
from mlcode.spec.load import parse_spec
from mlcode.spec.yamlsource import parse

HEAD = """\
version: 1
project: demo
data:
  customers:
    path: data/customers.csv
    target: churned
    id_column: id
    features:
      numeric: [age, tenure]
      categorical: [plan]
  latest:
    path: data/latest.csv
    target: churned
    features: {numeric: [age, tenure], categorical: [plan]}
"""


def _check(body: str) -> list[Problem]:
    source = parse(HEAD + body, "ml.yaml")
    return semantic.check(parse_spec(source), source.positions)


def _where(problems: list[Problem]) -> list[tuple[int, int, str]]:
    return [(p.location.line, p.location.column, p.field) for p in problems]


MODEL = """\
models:
  churn:
    task: classification
    data: customers
    estimator: sklearn.ensemble.RandomForestClassifier
"""


def test_valid_spec_has_no_problems() -> None:
    assert _check(MODEL + "    metrics: [accuracy, f1]\n") == []


def test_unknown_training_dataset_lists_declared() -> None:
    [p] = _check(MODEL.replace("data: customers", "data: custmers"))
    assert _where([p]) == [(18, 11, "models.churn.data")]
    assert "declared: customers, latest" in p.message


def test_dataset_without_target_or_features() -> None:
    problems = _check("  bare:\n    path: data/bare.csv\n" + MODEL.replace("customers", "bare"))
    messages = [p.message for p in problems]
    assert any("has no `target`" in m for m in messages)
    assert any("declares no feature columns" in m for m in messages)


def test_own_train_command_needs_no_target() -> None:
    body = "  bare:\n    path: data/bare.csv\nmodels:\n  m:\n    task: regression\n    data: bare\n"
    assert _check(body + "    train: {cmd: python t.py}\n") == []


def test_feature_roles_collide() -> None:
    text = """\
  other:
    path: data/o.csv
    target: y
    id_column: id
    time_column: ts
    features:
      numeric: [y, id, ts, a]
      categorical: [a]
"""
    problems = _check(text)
    assert [p.message.split(" ")[0:2] for p in problems] == [
        ["the", "target"],
        ["'id'", "is"],
        ["'ts'", "is"],
        ["column", "'a'"],
    ]
    assert [p.field for p in problems] == [
        "data.other.features.numeric[0]",
        "data.other.features.numeric[1]",
        "data.other.features.numeric[2]",
        "data.other.features.categorical[0]",
    ]


def test_same_file_twice_and_unknown_format() -> None:
    problems = _check("  twin:\n    path: data/customers.csv\n  odd:\n    path: data/odd.txt\n")
    assert [p.field for p in problems] == ["data.twin.path", "data.odd.path"]
    assert "same file as dataset 'customers'" in problems[0].message
    assert "cannot infer the format" in problems[1].message
    assert _check("  odd:\n    path: data/odd.txt\n    format: csv\n") == []


def test_metrics_must_suit_the_task() -> None:
    problems = _check(MODEL + "    metrics: [accuracy, rmse, r2]\n")
    assert [p.field for p in problems] == ["models.churn.metrics[1]", "models.churn.metrics[2]"]
    assert "not a classification metric" in problems[0].message


def test_own_evaluate_may_name_any_metric() -> None:
    body = MODEL + "    metrics: [lift]\n    evaluate: {cmd: python e.py, metrics: m.json}\n"
    body += "    gates:\n      metrics:\n        - {metric: lift, min: 1}\n"
    assert _check(body) == []


def test_gate_metric_must_be_computed() -> None:
    body = MODEL + "    gates:\n      metrics:\n        - {metric: log_loss, max: 0.5}\n"
    [p] = _check(body)
    assert p.field == "models.churn.gates.metrics[0].metric"
    assert (p.location.line, p.location.column) == (22, 20)
    assert "add it to `metrics`" in p.message


def test_stratify_only_for_classification() -> None:
    body = MODEL.replace("classification", "regression") + "    split: {stratify: true}\n"
    [p] = _check(body)
    assert p.field == "models.churn.split.stratify"
    assert _check(MODEL + "    split: {stratify: true}\n") == []


def test_drift_references() -> None:
    body = MODEL + (
        "    gates:\n"
        "      drift:\n"
        "        reference: customers\n"
        "        current: customers\n"
        "        columns:\n"
        "          age: {method: ks}\n"
        "          zip: {ignore: true}\n"
    )
    problems = _check(body)
    assert [p.field for p in problems] == [
        "models.churn.gates.drift.current",
        "models.churn.gates.drift.columns.zip",
    ]
    assert problems[0].message == "must differ from `reference`"
    # an unknown column is located at its key
    assert (problems[1].location.line, problems[1].location.column) == (26, 11)


def test_unknown_drift_dataset() -> None:
    body = MODEL + "    gates:\n      drift: {reference: nope, current: latest}\n"
    [p] = _check(body)
    assert p.field == "models.churn.gates.drift.reference"
    assert "'nope' is not declared" in p.message


def test_estimator_and_train_together() -> None:
    [p] = _check(MODEL + "    train: {cmd: python t.py}\n")
    assert p.field == "models.churn.estimator"


def test_promotion_branch_names() -> None:
    body = MODEL + "    promotion:\n      base: 'feature/x.lock'\n      branch_prefix: 'a//b'\n"
    body += "      reviewers: ['  ', ok]\n      labels: ['" + "x" * 101 + "']\n"
    problems = _check(body)
    assert [p.field for p in problems] == [
        "models.churn.promotion.base",
        "models.churn.promotion.branch_prefix",
        "models.churn.promotion.reviewers[0]",
        "models.churn.promotion.labels[0]",
    ]


def test_stage_colliding_with_generated_stage() -> None:
    for step in ("prepare", "train", "evaluate", "drift"):
        body = MODEL + f"stages:\n  {step}_churn:\n    cmd: echo\n  ok:\n    cmd: echo\n"
        [p] = _check(body)
        assert p.field == f"stages.{step}_churn"
        assert (p.location.line, p.location.column) == (21, 3)
        assert "collides" in p.message


def test_bad_cron_is_located_at_its_value() -> None:
    [p] = _check("ci:\n  schedule: '0 3 * * 9'\n")
    assert _where([p]) == [(16, 13, "ci.schedule")]
    assert p.message.startswith("invalid cron expression: day of week field '9'")


def test_problems_are_sorted_in_file_order() -> None:
    body = MODEL.replace("data: customers", "data: nope") + "    metrics: [rmse]\n"
    body += "ci:\n  schedule: 'x'\n"
    lines = [p.location.line for p in _check(body)]
    assert lines == sorted(lines)
    assert len(lines) == 3


def _data_path(path: str) -> list[Problem]:
    body = HEAD.replace("path: data/latest.csv", f"path: {path!r}")
    source = parse(body + MODEL, "ml.yaml")
    return [
        p
        for p in semantic.check(parse_spec(source), source.positions)
        if p.field == "data.latest.path"
    ]


def test_dataset_path_cannot_be_mlcode_git_or_dvc_files() -> None:
    for path in (
        "ml.yaml",
        "./ml.yaml",
        ".git/data.csv",
        ".GIT/x.csv",
        ".dvc/cache.csv",
        ".mlcode/x.csv",
        "dvc.yaml",
        "params.yaml",
        "data/.gitignore",
        "data/iris.csv.dvc",
        ".",
    ):
        reason = semantic.dataset_path_problem(path, "local")
        assert reason is not None, path
        problems = _data_path(path)
        assert reason in [p.message for p in problems], path
        assert {p.location.line for p in problems} == {12}  # the value of data.latest.path


def test_dataset_path_spelled_twice_differently_is_the_same_file() -> None:
    problems = _data_path("./data//customers.csv")
    assert [p.message for p in problems] == ["same file as dataset 'customers'"]


def test_ordinary_dataset_paths_pass() -> None:
    for path in ("data/latest.csv", "git/x.csv", "data.git/x.csv", "my.dvc.data/x.csv"):
        assert _data_path(path) == [], path


# --- ci.groups: one CI job per group; every model in exactly one group ----------------------

GROUPED = """\
models:
  churn:
    task: classification
    data: customers
    estimator: sklearn.ensemble.RandomForestClassifier
  upsell:
    task: classification
    data: customers
    estimator: sklearn.ensemble.RandomForestClassifier
  tenure:
    task: regression
    data: customers
    estimator: sklearn.linear_model.Ridge
ci:
  groups:
"""


def test_groups_covering_every_model_once_are_valid() -> None:
    assert _check(GROUPED + "    retention: [churn, upsell]\n    growth: [tenure]\n") == []


def test_group_naming_an_unknown_model() -> None:
    missing, p = _check(GROUPED + "    a: [churn, upsel, tenure]\n")
    assert _where([missing, p]) == [(29, 3, "ci.groups"), (30, 16, "ci.groups.a[1]")]
    assert "'upsell' is in no group" in missing.message
    assert "model 'upsel' is not declared under `models`" in p.message
    assert "churn, tenure, upsell" in p.message


def test_model_in_two_groups_is_located_at_its_second_place() -> None:
    [p] = _check(GROUPED + "    a: [churn, upsell]\n    b: [tenure, churn]\n")
    assert _where([p]) == [(31, 17, "ci.groups.b[1]")]
    assert "model 'churn' is already in group 'a'" in p.message
    [twice] = _check(GROUPED + "    a: [churn, upsell, churn, tenure]\n")
    assert "already in group 'a'" in twice.message


def test_model_in_no_group() -> None:
    [p] = _check(GROUPED + "    a: [churn]\n")
    assert _where([p]) == [(29, 3, "ci.groups")]
    assert "'upsell', 'tenure'" in p.message
    assert "exactly one group" in p.message


def test_empty_group() -> None:
    [p] = _check(GROUPED + "    a: [churn, upsell, tenure]\n    empty: []\n")
    assert _where([p]) == [(31, 12, "ci.groups.empty")]
    assert "lists no models" in p.message


def _many(models: int, stack: str, groups: int = 0) -> str:
    lines = ["version: 1", "project: many", f"stack: {stack}", "data:"]
    lines += ["  d: {path: data/d.csv, target: y, features: {numeric: [a]}}", "models:"]
    for i in range(models):
        lines.append(
            f"  m{i}: {{task: regression, data: d, estimator: sklearn.linear_model.Ridge}}"
        )
    if groups:
        lines += ["ci:", "  groups:"]
        for g in range(groups):
            members = ", ".join(f"m{i}" for i in range(models) if i % groups == g)
            lines.append(f"    g{g}: [{members}]")
    return "\n".join(lines) + "\n"


def test_more_models_than_a_matrix_runs_suggests_groups(tmp_path: Path) -> None:
    from mlcode.spec.load import load_project

    (tmp_path / "ml.yaml").write_text(_many(257, "github-s3"))
    with pytest.raises(SpecError) as caught:
        load_project(tmp_path)
    [p] = caught.value.problems
    assert (p.location.line, p.location.column, p.field) == (6, 1, "models")
    assert "257 models make 257 retrain jobs" in p.message
    assert "GitHub Actions' matrix runs (256 jobs)" in p.message
    assert "`ci.groups`" in p.message
    # 256 fit GitHub's matrix; GitLab's parallel:matrix stops at 200.
    (tmp_path / "ml.yaml").write_text(_many(256, "github-s3"))
    assert load_project(tmp_path).spec.ci.groups is None
    (tmp_path / "ml.yaml").write_text(_many(201, "gitlab-s3"))
    with pytest.raises(SpecError, match=r"GitLab's parallel:matrix runs \(200 jobs\)"):
        load_project(tmp_path)
    # The local stack has no CI matrix; groups bring the jobs under the limit.
    (tmp_path / "ml.yaml").write_text(_many(300, "local"))
    assert len(load_project(tmp_path).spec.models) == 300
    (tmp_path / "ml.yaml").write_text(_many(300, "gitlab-s3", groups=10))
    assert len(load_project(tmp_path).spec.ci.groups or {}) == 10


def test_more_groups_than_a_matrix_runs() -> None:
    source = parse(_many(201, "gitlab-s3", groups=201), "ml.yaml")
    [p] = semantic.stack_problems(parse_spec(source), "gitlab", source.positions)
    assert (p.location.line, p.field) == (209, "ci.groups")
    assert "201 groups make 201 retrain jobs" in p.message
    assert "at most 200" in p.message
    assert semantic.stack_problems(parse_spec(source), "github", source.positions) == []


def test_group_names_follow_the_model_name_grammar() -> None:
    text = _many(2, "local") + "ci:\n  groups:\n    Bad_Group: [m0, m1]\n"
    with pytest.raises(SpecError) as caught:
        parse_spec(parse(text, "ml.yaml"))
    [p] = caught.value.problems
    assert p.location.line == 11
    assert "invalid model name 'Bad_Group'" in p.message


def test_validate_locates_group_problems(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from mlcode.cli import cli

    text = _many(3, "github-s3") + "ci:\n  groups:\n    a: [m0, m1]\n    b: [m1, m9]\n"
    (tmp_path / "ml.yaml").write_text(text)
    result = CliRunner().invoke(cli, ["-C", str(tmp_path), "validate", "--json"])
    assert result.exit_code == 1
    problems = json.loads(result.output)["problems"]
    assert [(p["line"], p["column"], p["field"]) for p in problems] == [
        (11, 3, "ci.groups"),
        (13, 9, "ci.groups.b[0]"),
        (13, 13, "ci.groups.b[1]"),
    ]
    assert "'m2' is in no group" in problems[0]["message"]
    assert "already in group 'a'" in problems[1]["message"]
    assert "'m9' is not declared" in problems[2]["message"]
