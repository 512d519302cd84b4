"""The malformed-ml.yaml corpus: every file fails with exactly the located problems it expects.

`tests/corpus/malformed/expected.yaml` maps each file to its problems: line, column and field are
compared exactly, the message by substring. Each file is checked through the API
(`load_project`) and through the CLI (`mlcode validate --json` and the plain-text output).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlcode.cli import cli
from mlcode.cli.boundary import run_guarded
from mlcode.errors import SpecError
from mlcode.spec.load import load_project
from mlcode.spec.yamlsource import MAX_BYTES

CORPUS = Path(__file__).parent / "corpus" / "malformed"
EXPECTED: dict[str, list[dict[str, Any]]] = yaml.safe_load(
    (CORPUS / "expected.yaml").read_text(encoding="utf-8")
)
FILES = sorted(p.name for p in CORPUS.glob("*.yaml") if p.name != "expected.yaml")


def _project(tmp_path: Path, name: str) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    shutil.copyfile(CORPUS / name, root / "ml.yaml")
    return root


def _as_expected(problem: dict[str, Any]) -> tuple[int, int, str]:
    return (problem["line"], problem["column"], problem["field"])


def _assert_matches(name: str, found: list[dict[str, Any]]) -> None:
    expected = EXPECTED[name]
    assert [_as_expected(p) for p in found] == [_as_expected(p) for p in expected], (
        f"{name}: problems found\n" + "\n".join(str(p) for p in found)
    )
    for got, want in zip(found, expected, strict=True):
        assert want["message_contains"] in got["message"], (name, got, want)
        assert got["file"] == "ml.yaml"
        assert got["line"] >= 1, f"{name}: a content error must be located: {got}"
        assert got["column"] >= 1, f"{name}: a content error must be located: {got}"


def test_corpus_is_large_and_complete() -> None:
    assert len(FILES) >= 45
    assert set(FILES) == set(EXPECTED), "every corpus file needs expected problems, and back"
    assert all(EXPECTED[name] for name in FILES)
    for name in FILES:
        assert re.fullmatch(r"\d\d-[a-z0-9-]+\.yaml", name), f"{name}: use NN-short-name.yaml"


@pytest.mark.parametrize("name", FILES)
def test_load_project_reports_expected_problems(tmp_path: Path, name: str) -> None:
    root = _project(tmp_path, name)
    with pytest.raises(SpecError) as info:
        load_project(root)
    _assert_matches(name, [p.to_json() for p in info.value.problems])


@pytest.mark.parametrize("name", FILES)
def test_validate_json_reports_expected_problems(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(tmp_path, name)
    assert run_guarded(cli, ["-C", str(root), "validate", "--json"]) == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["valid"] is False
    _assert_matches(name, report["problems"])
    assert "Traceback" not in captured.err


@pytest.mark.parametrize("name", FILES)
def test_validate_text_names_file_line_column_field(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(tmp_path, name)
    assert run_guarded(cli, ["-C", str(root), "validate"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for want in EXPECTED[name]:
        field = f" {want['field']}:" if want["field"] else ""
        assert f"ml.yaml:{want['line']}:{want['column']}:{field}" in err, err


def test_several_problems_reported_in_one_run() -> None:
    many = [name for name in FILES if len(EXPECTED[name]) >= 3]
    assert len(many) >= 3
    assert max(len(EXPECTED[name]) for name in FILES) >= 8


def test_huge_file_refused_with_clear_message(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    filler = "# padding line to make the file large\n" * (MAX_BYTES // 30)
    (root / "ml.yaml").write_text("version: 1\nproject: demo\n" + filler)
    assert (root / "ml.yaml").stat().st_size > 1_000_000
    with pytest.raises(SpecError) as info:
        load_project(root)
    [problem] = info.value.problems
    assert problem.location.file == "ml.yaml"
    assert "bytes" in problem.message
    assert "refused" in problem.message


def test_missing_ml_yaml_is_one_clear_problem(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_project(tmp_path)
    assert [str(p) for p in info.value.problems] == ["ml.yaml: file not found"]


def test_ml_yaml_directory_is_one_clear_problem(tmp_path: Path) -> None:
    (tmp_path / "ml.yaml").mkdir()
    with pytest.raises(SpecError) as info:
        load_project(tmp_path)
    [problem] = info.value.problems
    assert "is a directory" in problem.message


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["06-duplicate-top-key.yaml", "58-multiple-errors.yaml", "73-binary-nul.yaml"]
)
def test_real_subprocess_validate_json(tmp_path: Path, name: str) -> None:
    root = _project(tmp_path, name)
    exe = Path(sys.executable).parent / "mlcode"
    result = subprocess.run(
        [str(exe), "validate", "--json"],
        cwd=root,
        capture_output=True,
        text=True,
        env=os.environ,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    _assert_matches(name, json.loads(result.stdout)["problems"])
