"""No secrets: with a sentinel token, every path of both clients (success and each failure) leaves
the token out of every exception text, traceback, log record and stdout/stderr line."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

import pytest

from mlcode.forge.base import Forge
from mlcode.forge.select import make_forge
from tests.contract.conftest import SENTINEL, TOKEN_ENV, Clock
from tests.contract.github_fake import GitHubFake
from tests.contract.gitlab_fake import GitLabFake
from tests.contract.server import ContractServer

HEAD = "mlcode/iris/v1.1.0"
# The remote URL carries the token too, as CI checkouts often do: it must not leak from there either.
GITHUB_REMOTE = f"https://x-access-token:{SENTINEL}@github.com/octo-org/models.git"
GITLAB_REMOTE = f"https://oauth2:{SENTINEL}@gitlab.example.test/ml-group/vision/models.git"

Scenario = Callable[[ContractServer], None]


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Scenario:
    def play(server: ContractServer) -> None:
        body = {"message": message, "documentation_url": "https://docs.github.com/rest"}
        server.fail(None, status, body, headers=headers or {}, times=100)

    return play


SCENARIOS: dict[str, Scenario] = {
    "success": lambda server: None,
    "401": _error(401, "Bad credentials"),
    "403": _error(403, "Resource not accessible by integration"),
    "404": _error(404, "Not Found"),
    "422": _error(422, "Validation Failed"),
    "429 over budget": _error(429, "Too Many Requests", {"retry-after": "100000"}),
    "429 retried": _error(429, "Too Many Requests", {"retry-after": "1"}),
    "500": _error(500, "Server Error"),
    "502": _error(502, "Bad Gateway"),
    "redirect": _error(307, "Moved", {"Location": "http://127.0.0.1:9/elsewhere"}),
    "echoed token": _error(400, f"bad request with token {SENTINEL}"),
}


def _run(forge: Forge) -> None:
    forge.find_open("mlcode/iris/")
    outcome = forge.open_or_update(
        head=HEAD, base="main", title="t", body="b", labels=["l"], reviewers=["alice"]
    )
    assert outcome.pull is not None
    forge.comment(outcome.pull, "<!-- m -->", "table")


@pytest.mark.parametrize("kind", ["github", "gitlab"])
@pytest.mark.parametrize("scenario", [*SCENARIOS, "dead API"])
def test_the_token_appears_in_no_error_log_or_output(
    kind: str,
    scenario: str,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = GitHubFake(token=SENTINEL) if kind == "github" else GitLabFake(token=SENTINEL)
    fake.branches.add(HEAD)
    texts: list[str] = []
    with ContractServer(fake) as server:
        url = server.url
        if scenario != "dead API":
            SCENARIOS[scenario](server)
            forge = make_forge(
                kind,  # type: ignore[arg-type]
                api_url=url,
                token_env=TOKEN_ENV,
                remote_url=GITHUB_REMOTE if kind == "github" else GITLAB_REMOTE,
                environ={TOKEN_ENV: SENTINEL},
                sleep=clock.sleep,
                clock=clock.time,
            )
            try:
                _run(forge)
            except Exception as error:
                texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
                texts += [getattr(error, "render", lambda: "")()]
                assert scenario != "success", texts
            else:
                assert scenario in ("success", "429 retried"), f"{scenario} raised nothing"
            assert server.violations == []
    if scenario == "dead API":
        forge = make_forge(
            kind,
            api_url=url,
            token_env=TOKEN_ENV,
            remote_url=GITHUB_REMOTE if kind == "github" else GITLAB_REMOTE,
            environ={TOKEN_ENV: SENTINEL},
            sleep=clock.sleep,
            clock=clock.time,
        )  # type: ignore[arg-type]
        with pytest.raises(Exception) as caught:
            _run(forge)
        texts += [
            str(caught.value),
            repr(caught.value),
            "".join(traceback.format_exception(caught.value)),
        ]
    out, err = capfd.readouterr()
    texts += [out, err, caplog.text, *(record.getMessage() for record in caplog.records)]
    leaks = [text for text in texts if SENTINEL in text]
    assert leaks == []
    assert any(record.name == "mlcode.forge" for record in caplog.records) or scenario == "dead API"
