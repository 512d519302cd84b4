"""load_project: ml.yaml + stack resolution (presets and own files) + `--deep` imports."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mlcode.errors import SpecError
from mlcode.spec.load import load_project

SPEC = """\
version: 1
project: demo
stack: {stack}
data:
  d:
    path: data/d.csv
    target: y
    features: {{numeric: [a, b]}}
models:
  m:
    task: classification
    data: d
    estimator: {estimator}
"""

OWN_STACK = """\
name: team
description: our own infrastructure
ci: github
forge: {type: github, token_env: GH_TOKEN}
remote:
  type: s3
  url: s3://team-bucket/{project}
  options: {region: eu-west-1}
  credentials: {access_key_id: TEAM_KEY_ID, secret_access_key: TEAM_SECRET}
"""


def _write(root: Path, stack: str = "local", estimator: str = "sklearn.linear_model.Ridge") -> Path:
    (root / "ml.yaml").write_text(SPEC.format(stack=stack, estimator=estimator))
    return root


def _problems(root: Path, deep: bool = False) -> list[tuple[str, int, int, str, str]]:
    with pytest.raises(SpecError) as info:
        load_project(root, deep=deep)
    return [
        (p.location.file, p.location.line, p.location.column, p.field, p.message)
        for p in info.value.problems
    ]


def test_preset_stack(tmp_path: Path) -> None:
    project = load_project(_write(tmp_path))
    assert project.stack.name == "local"
    assert project.positions.file == "ml.yaml"


@pytest.mark.parametrize("stack", ["github-s3", "gitlab-s3", "github-ssh"])
def test_every_preset_resolves(tmp_path: Path, stack: str) -> None:
    assert load_project(_write(tmp_path, stack)).stack.name == stack


@pytest.mark.parametrize("rel", ["infra/stack.yaml", "infra/stack.yml", "./team.yaml"])
def test_own_stack_file_by_path(tmp_path: Path, rel: str) -> None:
    (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / rel).write_text(OWN_STACK)
    project = load_project(_write(tmp_path, rel))
    assert project.stack.name == "team"
    assert project.stack.remote.credentials["secret_access_key"] == "TEAM_SECRET"


def test_own_stack_problems_are_located_in_the_stack_file(tmp_path: Path) -> None:
    (tmp_path / "infra").mkdir()
    bad = OWN_STACK.replace("TEAM_SECRET", "wJalrXUtnFEMI/K7MDENG").replace("ci: github", "ci: gh")
    (tmp_path / "infra" / "stack.yaml").write_text(bad)
    problems = _problems(_write(tmp_path, "infra/stack.yaml"))
    assert [(f, line, col, field) for f, line, col, field, _ in problems] == [
        ("infra/stack.yaml", 3, 5, "ci"),
        ("infra/stack.yaml", 9, 64, "remote.credentials.secret_access_key"),
    ]


def test_own_stack_with_secret_option_refused(tmp_path: Path) -> None:
    text = OWN_STACK.replace("region: eu-west-1", "secret_access_key: hunter2")
    (tmp_path / "stack.yaml").write_text(text)
    [(file, line, _, field, message)] = _problems(_write(tmp_path, "stack.yaml"))
    assert (file, line, field) == ("stack.yaml", 8, "remote.options.secret_access_key")
    assert "is a credential" in message


@pytest.mark.parametrize(
    ("stack", "fragment"),
    [
        ("infra/none.yaml", "stack file 'infra/none.yaml' not found"),
        ("/etc/stack.yaml", "is absolute"),
        ("../stack.yaml", "leaves the repository"),
        ("locl", "did you mean 'local'?"),
    ],
)
def test_bad_stack_located_at_stack_key(tmp_path: Path, stack: str, fragment: str) -> None:
    [(file, line, col, field, message)] = _problems(_write(tmp_path, stack))
    assert (file, line, col, field) == ("ml.yaml", 3, 8, "stack")
    assert fragment in message


def test_stack_problem_reported_with_semantic_ones(tmp_path: Path) -> None:
    _write(tmp_path, "nope")
    text = (tmp_path / "ml.yaml").read_text().replace("data: d\n", "data: e\n")
    (tmp_path / "ml.yaml").write_text(text)
    fields = [field for _, _, _, field, _ in _problems(tmp_path)]
    assert sorted(fields) == ["models.m.data", "stack"]


def test_deep_imports_a_real_estimator(tmp_path: Path) -> None:
    load_project(_write(tmp_path), deep=True)


@pytest.mark.parametrize(
    ("estimator", "fragment"),
    [
        ("sklearn.linear_model.NoSuchModel", "module 'sklearn.linear_model' has no 'NoSuchModel'"),
        ("no_such_package_xyz.Model", "cannot import 'no_such_package_xyz'"),
        ("os.path", "is not an estimator class with fit()"),
        ("json.JSONDecoder", "is not an estimator class with fit()"),
        ("mlcode_boom_mod.Model", "cannot import 'mlcode_boom_mod': RuntimeError: boom"),
        ("mlcode_exit_mod.Model", "cannot import 'mlcode_exit_mod': SystemExit"),
    ],
)
def test_deep_import_failures_are_located(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, estimator: str, fragment: str
) -> None:
    pkg = tmp_path / "pkgs"
    pkg.mkdir()
    (pkg / "mlcode_boom_mod.py").write_text("raise RuntimeError('boom')\n")
    (pkg / "mlcode_exit_mod.py").write_text("import sys\nsys.exit(3)\n")
    monkeypatch.syspath_prepend(str(pkg))
    for name in ("mlcode_boom_mod", "mlcode_exit_mod"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    root = tmp_path / "project"
    root.mkdir()
    _write(root, estimator=estimator)
    load_project(root)  # without --deep, a well-formed path is enough
    [(file, line, col, field, message)] = _problems(root, deep=True)
    assert (file, line, col, field) == ("ml.yaml", 13, 16, "models.m.estimator")
    assert fragment in message
