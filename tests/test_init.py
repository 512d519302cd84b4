"""`mlcode init`: scaffolding, examples that validate, refusals that write nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlcode.cli import cli
from mlcode.cli.boundary import run_guarded
from mlcode.project.scaffold import EXAMPLES
from mlcode.spec.jsonschema import SCHEMA_FILE, ml_schema_text
from mlcode.spec.load import load_project


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _init(root: Path, *args: str) -> int:
    return run_guarded(cli, ["-C", str(root), "init", *args])


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_example_writes_spec_data_and_validates(
    tmp_path: Path, example: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _init(tmp_path, "--example", example) == 0
    ex = EXAMPLES[example]
    files = _files(tmp_path)
    assert set(files) == {
        "ml.yaml",
        SCHEMA_FILE,
        f"data/{ex.name}.csv",
        f"data/{ex.name}_latest.csv",
    }
    header = files[f"data/{ex.name}.csv"].decode().splitlines()[0].split(",")
    assert header[-1] == ex.target
    project = load_project(tmp_path)
    model = project.spec.models[ex.name.replace("_", "-")]
    assert model.task == ex.task
    dataset = project.spec.data[model.data]
    assert set(dataset.columns) | {ex.target} == set(header)
    capsys.readouterr()
    assert run_guarded(cli, ["-C", str(tmp_path), "validate", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is True
    assert report["stack"] == "local"


def test_plain_init_validates_and_names_project_from_folder(tmp_path: Path) -> None:
    root = tmp_path / "My Churn_Project"
    root.mkdir()
    assert _init(root) == 0
    assert set(_files(root)) == {"ml.yaml", SCHEMA_FILE}
    project = load_project(root)
    assert project.spec.project == "my-churn_project"
    assert project.spec.models == {}


def test_first_line_points_at_the_schema_init_writes(tmp_path: Path) -> None:
    assert _init(tmp_path, "--example", "iris") == 0
    first = (tmp_path / "ml.yaml").read_text().splitlines()[0]
    assert first == f"# yaml-language-server: $schema={SCHEMA_FILE}"
    assert (tmp_path / SCHEMA_FILE).read_text() == ml_schema_text()
    json.loads((tmp_path / SCHEMA_FILE).read_text())


@pytest.mark.parametrize("stack", ["github-s3", "gitlab-s3", "github-ssh"])
def test_stack_and_project_options(tmp_path: Path, stack: str) -> None:
    assert _init(tmp_path, "--stack", stack, "--project", "churn-42") == 0
    project = load_project(tmp_path)
    assert project.stack.name == stack
    assert project.spec.project == "churn-42"


def test_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _init(tmp_path, "--example", "iris") == 0
    (tmp_path / "ml.yaml").write_text("version: 1\nproject: mine\n")
    (tmp_path / "data" / "iris.csv").write_text("mine\n")
    before = _files(tmp_path)
    capsys.readouterr()
    assert _init(tmp_path, "--example", "iris") == 3
    err = capsys.readouterr().err
    assert "refusing to overwrite" in err
    assert "--force" in err
    assert "data/iris.csv" in err
    assert "Traceback" not in err
    assert _files(tmp_path) == before


def test_force_overwrites(tmp_path: Path) -> None:
    (tmp_path / "ml.yaml").write_text("version: 1\nproject: mine\n")
    assert _init(tmp_path, "--example", "wine", "--force") == 0
    assert "wine" in load_project(tmp_path).spec.models


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--stack", "github-s4"], "unknown stack 'github-s4'"),
        (["--stack", ""], "unknown stack ''"),
        (["--project", "Bad_Name"], "invalid project name 'Bad_Name'"),
        (["--project", "a" * 64], "invalid project name"),
        (["--project", "x y", "--example", "iris"], "invalid project name 'x y'"),
    ],
)
def test_bad_options_are_clear_errors_and_write_nothing(
    tmp_path: Path, args: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _init(tmp_path, *args) == 3
    err = capsys.readouterr().err
    assert fragment in err
    assert "Traceback" not in err
    assert _files(tmp_path) == {}


def test_unknown_example_is_usage_error(tmp_path: Path) -> None:
    assert _init(tmp_path, "--example", "titanic") == 2
    assert _files(tmp_path) == {}
