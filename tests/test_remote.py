"""Desired DVC remote vs `.dvc/config`, parsed the way DVC writes it."""

from __future__ import annotations

from mlcode.project.remote import RemoteConfig, desired_url, parse_config, remote_change
from mlcode.spec.stack import Stack


def _stack(url: str, kind: str = "local", options: dict[str, str] | None = None) -> Stack:
    return Stack.model_validate(
        {"name": "t", "remote": {"name": "st", "type": kind, "url": url, "options": options or {}}}
    )


def test_local_url_is_relative_to_dvc_folder() -> None:
    assert desired_url(_stack("../store/{project}"), "p") == "../../store/p"
    assert desired_url(_stack("/abs/{project}"), "p") == "/abs/p"
    assert desired_url(_stack("s3://b/{project}", "s3"), "p") == "s3://b/p"


def test_parse_config_as_dvc_writes_it() -> None:
    text = (
        "[core]\n    remote = st\n['remote \"st\"']\n    url = ../../x\n"
        "    endpointurl = http://127.0.0.1:9000\n['remote \"other\"']\n    url = s3://b\n"
    )
    cfg = parse_config(text)
    assert cfg.default == "st"
    assert cfg.remotes["st"] == {"url": "../../x", "endpointurl": "http://127.0.0.1:9000"}
    assert cfg.remotes["other"] == {"url": "s3://b"}


def test_remote_change() -> None:
    stack = _stack("s3://b/{project}", "s3", {"endpointurl": "http://h"})
    change = remote_change(stack, "p", RemoteConfig({}, None))
    assert change is not None
    assert change.old_url is None
    assert change.new_url == "s3://b/p"
    assert change.options == {"endpointurl": "http://h"}
    assert change.make_default
    same = RemoteConfig({"st": {"url": "s3://b/p", "endpointurl": "http://h"}}, "st")
    assert remote_change(stack, "p", same) is None


def test_credential_hint_splits_native_and_configured() -> None:
    from mlcode.project.remote import credential_hint

    stack = Stack.model_validate(
        {
            "name": "t",
            "remote": {
                "name": "st",
                "type": "s3",
                "url": "s3://b",
                "credentials": {
                    "access_key_id": "AWS_ACCESS_KEY_ID",
                    "sse_customer_key": "TEAM_SSE_KEY",
                },
            },
        }
    )
    hint = credential_hint(stack)
    assert hint is not None
    assert "reads AWS_ACCESS_KEY_ID from the environment" in hint
    assert (
        'dvc remote modify --local st sse_customer_key "$TEAM_SSE_KEY"  # TEAM_SSE_KEY: the value'
        in hint
    )
    assert credential_hint(_stack("../x")) is None
