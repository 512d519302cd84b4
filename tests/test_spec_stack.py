"""Stacks: every shipped preset loads and validates; secrets are refused, credentials are names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mlcode.errors import SpecError
from mlcode.resources import stack_presets
from mlcode.spec.load import parse_stack
from mlcode.spec.stack import Stack
from mlcode.spec.yamlsource import load_file, parse

REPO = Path(__file__).resolve().parent.parent
SHIPPED = sorted(p.stem for p in (REPO / "stacks").glob("*.yaml"))


def test_presets_are_the_shipped_files() -> None:
    assert {"local", "github-s3", "gitlab-s3", "github-ssh"} <= set(SHIPPED)
    assert sorted(stack_presets()) == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_stack_loads(name: str) -> None:
    stack = parse_stack(load_file(str(REPO / "stacks" / f"{name}.yaml"), f"stacks/{name}.yaml"))
    assert stack.name == name
    assert stack.description
    for env in stack.remote.credentials.values():
        assert env.isupper()
    if stack.forge.type != "none":
        assert stack.forge.token_env


def test_local_stack_needs_no_network() -> None:
    stack = parse_stack(load_file(str(stack_presets()["local"])))
    assert stack.ci == "none"
    assert stack.forge.type == "none"
    assert stack.remote.type == "local"


def _stack(**remote: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"type": "s3", "url": "s3://bucket/path"}
    base.update(remote)
    return {"name": "mine", "remote": base}


def _problems(doc: dict[str, Any]) -> list[str]:
    source = parse(yaml.safe_dump(doc, sort_keys=False), "stack.yaml")
    with pytest.raises(SpecError) as info:
        parse_stack(source)
    for problem in info.value.problems:
        assert problem.location.line >= 1
    return [f"{p.field}: {p.message}" for p in info.value.problems]


@pytest.mark.parametrize(
    "key", ["secret_access_key", "access_key_id", "password", "Token", "session_token"]
)
def test_secret_as_option_value_refused(key: str) -> None:
    [text] = _problems(_stack(options={key: "AKIAsecretvalue"}))
    assert text.startswith("remote: ")
    assert f"option {key!r} is a credential" in text
    assert "never its value" in text


def test_non_secret_options_allowed() -> None:
    Stack.model_validate(_stack(options={"endpointurl": "https://minio:9000", "region": "x"}))


@pytest.mark.parametrize("value", ["AKIA1234567890abcdef", "my secret", "aws_key", "1ABC", ""])
def test_credentials_must_be_env_var_names(value: str) -> None:
    [text] = _problems(_stack(credentials={"access_key_id": value}))
    assert text.startswith("remote.credentials.access_key_id: ")
    assert "is not an environment variable name" in text


def test_credentials_env_var_names_accepted() -> None:
    stack = Stack.model_validate(_stack(credentials={"access_key_id": "AWS_ACCESS_KEY_ID"}))
    assert stack.remote.credentials == {"access_key_id": "AWS_ACCESS_KEY_ID"}


def test_url_with_password_refused() -> None:
    [text] = _problems(_stack(type="ssh", url="ssh://user:hunter2@host/path"))
    assert "embeds a password" in text


def test_url_must_match_remote_type() -> None:
    [text] = _problems(_stack(type="s3", url="gs://bucket"))
    assert "does not match remote type 's3'" in text


def test_forge_needs_token_env() -> None:
    doc = _stack()
    doc["forge"] = {"type": "github"}
    [text] = _problems(doc)
    assert "needs `token_env`" in text


def test_unknown_stack_key_did_you_mean() -> None:
    doc = _stack()
    doc["remotes"] = {}
    problems = _problems(doc)
    assert any("did you mean 'remote'?" in t for t in problems)
