"""A small OpenAPI 3.0 checker for the contract tests: route a request to its operation, check its
parameters, headers and JSON body, and check each answer against the operation's response schema.

OpenAPI 3.0 schemas are JSON Schema with a few differences; `to_json_schema` turns the ones these
descriptions use (`nullable`, vendor extensions, examples) into plain JSON Schema for `jsonschema`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

_DROP = {"nullable", "example", "examples", "discriminator", "xml", "externalDocs", "deprecated"}


def to_json_schema(schema: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema (draft 7): `nullable: true` admits null."""
    if isinstance(schema, list):
        return [to_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROP or key.startswith("x-"):
            continue
        if key == "properties":
            out[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        else:
            out[key] = to_json_schema(value)
    if schema.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def _validator(schema: Any) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(to_json_schema(schema))


def _problems(validator: jsonschema.Draft7Validator, instance: Any, where: str) -> list[str]:
    return [
        f"{where}: {'/'.join(str(part) for part in error.absolute_path) or '(root)'}: {error.message[:300]}"
        for error in validator.iter_errors(instance)
    ]


@dataclass
class Operation:
    """One method on one path template of the description."""

    method: str
    template: str
    spec: dict[str, Any]
    pattern: re.Pattern[str] = field(init=False)
    _validators: dict[str, jsonschema.Draft7Validator] = field(init=False, default_factory=dict)

    def validator(self, key: str, schema: Any) -> jsonschema.Draft7Validator:
        """The compiled validator of one schema of this operation (compiled once)."""
        if key not in self._validators:
            self._validators[key] = _validator(schema)
        return self._validators[key]

    def __post_init__(self) -> None:
        regex = re.sub(r"\\\{([^}]+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.template))
        self.pattern = re.compile(f"^{regex}$")

    @property
    def operation_id(self) -> str:
        return str(self.spec.get("operationId", f"{self.method} {self.template}"))

    def parameters(self, where: str) -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in self.spec.get("parameters", []) if p.get("in") == where}

    def check_request(
        self,
        path_params: dict[str, str],
        query: dict[str, list[str]],
        body: bytes,
        content_type: str,
    ) -> list[str]:
        """Every way this request breaks the operation's description (empty: none)."""
        problems: list[str] = []
        for name, value in path_params.items():
            declared = self.parameters("path").get(name)
            if declared is None:
                problems.append(f"path parameter {name} is not declared")
                continue
            problems += _problems(
                _validator(declared["schema"]), _coerce(value, declared["schema"]), f"path {name}"
            )
        declared_query = self.parameters("query")
        for name, values in query.items():
            declared = declared_query.get(name)
            if declared is None:
                problems.append(f"query parameter {name!r} is not declared for {self.operation_id}")
                continue
            if len(values) != 1:
                problems.append(f"query parameter {name!r} given {len(values)} times")
            schema = declared.get("schema", {})
            problems += _problems(_validator(schema), _coerce(values[0], schema), f"query {name}")
        for name, declared in declared_query.items():
            if declared.get("required") and name not in query:
                problems.append(f"required query parameter {name!r} missing")
        request_body = self.spec.get("requestBody")
        if body:
            if request_body is None:
                problems.append(f"{self.operation_id} takes no request body")
                return problems
            if not content_type.startswith("application/json"):
                problems.append(
                    f"request body content type {content_type!r} is not application/json"
                )
            try:
                document = json.loads(body)
            except ValueError as error:
                return [*problems, f"request body is not JSON: {error}"]
            schema = request_body["content"]["application/json"]["schema"]
            problems += _problems(self.validator("request", schema), document, "request body")
            problems += _unknown_fields(schema, document)
        elif request_body is not None and request_body.get("required"):
            problems.append(f"{self.operation_id} requires a request body")
        return problems

    def response_schema(self, status: int) -> Any | None:
        """The documented JSON schema of this status, or None when the status is not documented."""
        answer = self.spec.get("responses", {}).get(str(status)) or self.spec.get(
            "responses", {}
        ).get("default")
        if answer is None:
            return None
        content = answer.get("content", {}).get("application/json")
        return {} if content is None else content.get("schema", {})

    def example(self, status: int) -> Any:
        """The description's own example answer for a status: the template a fake fills in."""
        content = self.spec["responses"][str(status)]["content"]["application/json"]
        examples = content.get("examples") or {}
        first = next(iter(examples.values()))
        return json.loads(json.dumps(first["value"]))


def _unknown_fields(schema: dict[str, Any], document: Any) -> list[str]:
    """Top-level body fields the description does not declare: the forge would ignore them
    silently, so the contract tests treat them as a breach (stricter than the schema itself)."""
    declared: set[str] = set(schema.get("properties", {}))
    for branch in schema.get("oneOf", []) + schema.get("anyOf", []):
        declared |= set(branch.get("properties", {}))
    if not declared or not isinstance(document, dict):
        return []
    return [
        f"request body field {name!r} is not in the description"
        for name in sorted(set(document) - declared)
    ]


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        try:
            return int(value)
        except ValueError:
            return value
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    if kind == "array":
        return value.split(",")
    return value


class Description:
    """An OpenAPI description: its operations and the checks made against them."""

    def __init__(self, path: Path, *, error_schema: Any) -> None:
        self.document = json.loads(path.read_text(encoding="utf-8"))
        self.prefix = ""
        self.operations = [
            Operation(method.upper(), template, spec)
            for template, methods in self.document["paths"].items()
            for method, spec in methods.items()
            if method.lower() in ("get", "post", "put", "patch", "delete")
        ]
        self.error_validator = _validator(error_schema)

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation a request is for, with its path parameters (URL-decoded by the caller)."""
        for operation in self.operations:
            if operation.method != method:
                continue
            found = operation.pattern.match(path)
            if found:
                return operation, found.groupdict()
        return None

    def check_response(self, operation: Operation, status: int, document: Any) -> list[str]:
        """How an answer breaks the description: a documented status against its schema, any other
        (401, 429, 5xx that the description leaves out) against the description's error shape."""
        schema = operation.response_schema(status)
        if schema is None:
            if status < 300:
                return [f"{operation.operation_id} documents no {status} answer"]
            return _problems(self.error_validator, document, f"{status} answer")
        if not schema:
            # A documented status without a schema (GitHub: 422 of request-reviewers): any error body.
            if document is None:
                return []
            return _problems(self.error_validator, document, f"{status} answer")
        validator = operation.validator(f"response {status}", schema)
        return _problems(validator, document, f"{operation.operation_id} {status} answer")
