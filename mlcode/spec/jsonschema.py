"""The JSON Schema of ml.yaml, generated from the pydantic models (for editors and CI)."""

from __future__ import annotations

import json
from typing import Any

from mlcode.spec.model import MlSpec

SCHEMA_FILE = ".mlcode/ml-yaml.schema.json"


def ml_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ml.yaml v1."""
    schema = MlSpec.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "mlcode ml.yaml (version 1)"
    return schema


def ml_schema_text() -> str:
    """The schema as stable, pretty JSON text ending in a newline."""
    return json.dumps(ml_schema(), indent=2, sort_keys=True) + "\n"
