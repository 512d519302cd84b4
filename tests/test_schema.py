"""`mlcode schema`: a valid Draft 2020-12 JSON Schema that accepts init's ml.yaml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from mlcode.cli import cli
from mlcode.cli.boundary import run_guarded
from mlcode.project.scaffold import EXAMPLES


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0, result.output
    loaded: dict[str, Any] = json.loads(result.output)
    return loaded


def test_schema_is_valid_draft_2020_12(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert jsonschema.validators.validator_for(schema) is jsonschema.Draft202012Validator


def test_schema_output_is_stable(schema: dict[str, Any]) -> None:
    again = CliRunner().invoke(cli, ["schema"]).output
    assert json.loads(again) == schema
    assert again.endswith("}\n")


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_init_examples_validate_against_schema(
    tmp_path: Path, schema: dict[str, Any], example: str
) -> None:
    assert run_guarded(cli, ["-C", str(tmp_path), "init", "--example", example]) == 0
    doc = yaml.safe_load((tmp_path / "ml.yaml").read_text())
    jsonschema.Draft202012Validator(schema).validate(doc)


@pytest.mark.parametrize(
    "change",
    [
        {"version": 2},
        {"projct": "x"},
        {"models": {"m": {"task": "clustering", "data": "d", "estimator": "a.B"}}},
        {"models": {"m": {"data": "d", "estimator": "a.B"}}},
        {"ci": {"python": "2.7"}},
        {"data": []},
    ],
)
def test_invalid_documents_fail_the_schema(schema: dict[str, Any], change: dict[str, Any]) -> None:
    doc: dict[str, Any] = {"version": 1, "project": "demo"}
    jsonschema.Draft202012Validator(schema).validate(doc)
    doc.update(change)
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(doc))
    assert errors
