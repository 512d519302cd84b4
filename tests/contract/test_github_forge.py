"""The GitHub client against a local GitHub that checks every request and answer against GitHub's
own OpenAPI description (tests/contract/github-rest-promotion.openapi.json)."""

from __future__ import annotations

import pytest

from mlcode.errors import UserError
from mlcode.forge.base import Forge
from mlcode.forge.http import ForgeError, RetryPolicy
from mlcode.forge.select import make_forge
from tests.contract.conftest import SENTINEL, TOKEN_ENV, Clock
from tests.contract.github_fake import GitHubFake
from tests.contract.server import ContractServer

HEAD = "mlcode/iris/v1.1.0"
REMOTE = "git@github.com:octo-org/models.git"
WRITES = {
    "pulls/create",
    "pulls/update",
    "issues/add-labels",
    "pulls/request-reviewers",
    "issues/create-comment",
    "issues/update-comment",
}


def client(
    server: ContractServer,
    clock: Clock,
    *,
    token: str = SENTINEL,
    remote: str = REMOTE,
    api_url: str | None = None,
) -> Forge:
    return make_forge(
        "github",
        api_url=api_url or server.url,
        token_env=TOKEN_ENV,
        remote_url=remote,
        environ={TOKEN_ENV: token},
        sleep=clock.sleep,
        clock=clock.time,
    )


def fake(server: ContractServer) -> GitHubFake:
    assert isinstance(server.fake, GitHubFake)
    return server.fake


def promote(forge: Forge, **changes: object) -> object:
    arguments: dict[str, object] = {
        "head": HEAD,
        "base": "main",
        "title": "Promote iris v1.1.0",
        "body": "accuracy 0.97 (champion 0.95)",
        "labels": ["model", "promotion"],
        "reviewers": ["alice"],
    }
    arguments.update(changes)
    return forge.open_or_update(**arguments)  # type: ignore[arg-type]


def writes(server: ContractServer) -> list[str]:
    return [exchange.operation for exchange in server.exchanges if exchange.operation in WRITES]


def test_opens_a_pull_request_with_labels_and_reviewers(
    github: ContractServer, clock: Clock
) -> None:
    fake(github).branches.add(HEAD)
    outcome = promote(client(github, clock))
    assert outcome.action == "created"
    assert outcome.pull is not None
    pull = fake(github).pulls[outcome.pull.number]
    assert (pull.head, pull.base, pull.title, pull.body) == (
        HEAD,
        "main",
        "Promote iris v1.1.0",
        "accuracy 0.97 (champion 0.95)",
    )
    assert pull.labels == ["model", "promotion"]
    assert pull.reviewers == ["alice"]
    assert outcome.pull.url == f"https://github.test/octo-org/models/pull/{pull.number}"
    assert outcome.pull.url in outcome.message
    assert writes(github) == ["pulls/create", "issues/add-labels", "pulls/request-reviewers"]


def test_the_same_promotion_twice_is_one_pull_request_and_changes_nothing(
    github: ContractServer, clock: Clock
) -> None:
    fake(github).branches.add(HEAD)
    forge = client(github, clock)
    first = promote(forge)
    found = forge.find_open("mlcode/iris/")
    again = promote(forge, update=found[0])
    assert (first.action, again.action) == ("created", "unchanged")
    assert again.pull == first.pull
    assert len(fake(github).pulls) == 1
    assert writes(github) == ["pulls/create", "issues/add-labels", "pulls/request-reviewers"]


def test_find_open_returns_only_this_models_open_pull_requests(
    github: ContractServer, clock: Clock
) -> None:
    state = fake(github)
    mine = state.open_pull(head="mlcode/iris/v1.1.0")
    state.open_pull(head="mlcode/iris-large/v2.0.0")
    state.open_pull(head="mlcode/wine/v1.0.0")
    state.open_pull(head="mlcode/iris/v1.0.0").state = "closed"
    found = client(github, clock).find_open("mlcode/iris/")
    assert [(p.number, p.head, p.state) for p in found] == [
        (mine.number, "mlcode/iris/v1.1.0", "open")
    ]


def test_find_open_reads_every_page(github: ContractServer, clock: Clock) -> None:
    state = fake(github)
    for n in range(105):
        state.open_pull(head=f"mlcode/wine/v{n}.0.0")
    last = state.open_pull(head="mlcode/iris/v9.0.0")
    found = client(github, clock).find_open("mlcode/iris/")
    assert [pull.number for pull in found] == [last.number]
    assert len(github.calls("pulls/list")) == 2


def test_a_new_version_updates_the_open_pull_request(github: ContractServer, clock: Clock) -> None:
    state = fake(github)
    old = state.open_pull(head="mlcode/iris/v1.1.0", title="Promote iris v1.1.0", body="old report")
    state.branches.add("mlcode/iris/v1.2.0")
    forge = client(github, clock)
    [found] = forge.find_open("mlcode/iris/")
    outcome = promote(forge, update=found, title="Promote iris v1.2.0", body="new report")
    assert outcome.action == "updated"
    assert outcome.pull is not None
    assert outcome.pull.number == old.number
    assert (old.title, old.body, old.labels, old.reviewers) == (
        "Promote iris v1.2.0",
        "new report",
        ["model", "promotion"],
        ["alice"],
    )
    assert len(state.pulls) == 1


def test_labels_a_person_added_are_kept_and_only_missing_ones_added(
    github: ContractServer, clock: Clock
) -> None:
    pull = fake(github).open_pull(
        head=HEAD, title="Promote iris v1.1.0", body="accuracy 0.97 (champion 0.95)"
    )
    pull.labels = ["needs-data-review", "model"]
    pull.reviewers = ["alice"]
    forge = client(github, clock)
    outcome = promote(forge, update=forge.find_open("mlcode/iris/")[0])
    assert outcome.action == "updated"
    assert pull.labels == ["needs-data-review", "model", "promotion"]
    assert [exchange.body for exchange in github.calls("issues/add-labels")] == [
        {"labels": ["promotion"]}
    ]


def test_the_author_is_not_asked_to_review_their_own_pull_request(
    github: ContractServer, clock: Clock
) -> None:
    fake(github).branches.add(HEAD)
    outcome = promote(client(github, clock), reviewers=["mlcode-bot", "bob"])
    assert outcome.pull is not None
    assert fake(github).pulls[outcome.pull.number].reviewers == ["bob"]


def test_a_reviewer_who_is_not_a_collaborator_is_a_clear_error(
    github: ContractServer, clock: Clock
) -> None:
    fake(github).branches.add(HEAD)
    with pytest.raises(UserError, match=r"request reviews from mallory.*collaborators"):
        promote(client(github, clock), reviewers=["mallory"])


def test_422_already_exists_updates_that_pull_request(github: ContractServer, clock: Clock) -> None:
    existing = fake(github).open_pull(head=HEAD, title="stale", body="stale")
    outcome = promote(client(github, clock))
    assert outcome.action == "updated"
    assert outcome.pull is not None
    assert outcome.pull.number == existing.number
    assert existing.title == "Promote iris v1.1.0"
    assert len(fake(github).pulls) == 1
    assert [exchange.status for exchange in github.calls("pulls/create")] == [422]


def test_422_for_a_branch_github_does_not_have_is_a_clear_error(
    github: ContractServer, clock: Clock
) -> None:
    with pytest.raises(
        UserError,
        match=r"refused to open a pull request from mlcode/iris/v1.1.0 into main \(HTTP 422.*head invalid",
    ):
        promote(client(github, clock))


def test_sticky_comment_is_created_then_updated_in_place(
    github: ContractServer, clock: Clock
) -> None:
    state = fake(github)
    pull = state.open_pull(head=HEAD)
    state.add_comment(pull.number, "Looks good to me", author="alice")
    forge = client(github, clock)
    [found] = forge.find_open("mlcode/iris/")
    forge.comment(found, "<!-- mlcode:gates -->", "| gate | ok |")
    forge.comment(found, "<!-- mlcode:gates -->", "| gate | failed |")
    forge.comment(found, "<!-- mlcode:gates -->", "| gate | failed |")
    assert [(c.author, c.body) for c in state.comments] == [
        ("alice", "Looks good to me"),
        ("mlcode-bot", "<!-- mlcode:gates -->\n| gate | failed |"),
    ]
    assert writes(github) == ["issues/create-comment", "issues/update-comment"]


def test_401_names_the_token_variable_never_the_token(github: ContractServer, clock: Clock) -> None:
    wrong = "sentinel-wrong-9d8c7b"
    with pytest.raises(UserError) as caught:
        client(github, clock, token=wrong).find_open("mlcode/iris/")
    text = caught.value.render()
    assert TOKEN_ENV in text
    assert "HTTP 401: Bad credentials" in text
    assert wrong not in text
    assert SENTINEL not in text


def test_403_without_a_rate_limit_is_a_permission_error(
    github: ContractServer, clock: Clock
) -> None:
    fake(github).branches.add(HEAD)
    github.fail(
        "pulls/create",
        403,
        {
            "message": "Resource not accessible by integration",
            "documentation_url": "https://docs.github.com/rest",
        },
    )
    with pytest.raises(
        ForgeError, match=r"denied permission to open a pull request.*Resource not accessible"
    ) as caught:
        promote(client(github, clock))
    assert caught.value.status == 403
    assert TOKEN_ENV in caught.value.render()
    assert clock.slept == []


def test_403_actions_may_not_open_pull_requests_names_the_repository_setting(
    github: ContractServer, clock: Clock
) -> None:
    """GITHUB_TOKEN has pull-request write access, yet the repository forbids workflows to open
    pull requests: the hint is that setting, not more token scopes."""
    fake(github).branches.add(HEAD)
    github.fail(
        "pulls/create",
        403,
        {
            "message": "GitHub Actions is not permitted to create or approve pull requests.",
            "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
            "status": "403",
        },
    )
    with pytest.raises(ForgeError, match=r"not permitted to create or approve") as caught:
        promote(client(github, clock))
    assert caught.value.status == 403
    hint = caught.value.hint or ""
    assert "Settings → Actions → General → Workflow permissions" in hint
    assert "Allow GitHub Actions to create and approve pull requests" in hint
    assert "octo-org/models" in hint
    assert "write access" not in hint
    assert SENTINEL not in caught.value.render()
    assert clock.slept == []
    assert len(fake(github).pulls) == 0


def test_403_secondary_rate_limit_waits_retry_after_then_succeeds(
    github: ContractServer, clock: Clock
) -> None:
    fake(github).branches.add(HEAD)
    secondary = {
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        "documentation_url": "https://docs.github.com/rest",
    }
    github.fail("pulls/create", 403, secondary, headers={"retry-after": "42"})
    outcome = promote(client(github, clock))
    assert outcome.action == "created"
    assert clock.slept == [42.0]
    assert len(fake(github).pulls) == 1


def test_403_secondary_rate_limit_without_headers_waits_a_minute(
    github: ContractServer, clock: Clock
) -> None:
    secondary = {
        "message": "You have exceeded a secondary rate limit.",
        "documentation_url": "https://docs.github.com/rest",
    }
    github.fail("pulls/list", 403, secondary)
    assert client(github, clock).find_open("mlcode/iris/") == []
    assert clock.slept == [60.0]


def test_403_exhausted_primary_rate_limit_waits_until_the_reset(
    github: ContractServer, clock: Clock
) -> None:
    reset = int(clock.now) + 30
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}
    github.fail(
        "pulls/list", 403, {"message": "API rate limit exceeded for user ID 1."}, headers=headers
    )
    assert client(github, clock).find_open("mlcode/iris/") == []
    assert clock.slept == [31.0]


def test_429_retry_after_is_honoured(github: ContractServer, clock: Clock) -> None:
    github.fail(
        "pulls/list", 429, {"message": "Too Many Requests"}, headers={"retry-after": "5"}, times=2
    )
    assert client(github, clock).find_open("mlcode/iris/") == []
    assert clock.slept == [5.0, 5.0]


def test_a_wait_longer_than_the_budget_is_an_error_not_a_long_sleep(
    github: ContractServer, clock: Clock
) -> None:
    github.fail(
        "pulls/list", 429, {"message": "Too Many Requests"}, headers={"retry-after": "3600"}
    )
    with pytest.raises(
        ForgeError,
        match=r"rate-limited the request to list pull requests \(HTTP 429\) and asks to wait 3600 s",
    ) as caught:
        client(github, clock).find_open("mlcode/iris/")
    assert caught.value.status == 429
    assert clock.slept == []


def test_rate_limits_that_never_end_stop_after_the_attempts(
    github: ContractServer, clock: Clock
) -> None:
    github.fail(
        "pulls/list",
        429,
        {"message": "Too Many Requests"},
        headers={"retry-after": "10"},
        times=100,
    )
    with pytest.raises(
        ForgeError, match=r"rate-limited .* \(HTTP 429\) and still did after 4 tries"
    ):
        client(github, clock).find_open("mlcode/iris/")
    assert clock.slept == [10.0] * (RetryPolicy().attempts - 1)
    assert len(github.calls("pulls/list")) == RetryPolicy().attempts


@pytest.mark.parametrize("status", [500, 502])
def test_5xx_is_retried_with_backoff(github: ContractServer, clock: Clock, status: int) -> None:
    fake(github).branches.add(HEAD)
    github.fail("pulls/create", status, {"message": "Server Error"}, times=2)
    outcome = promote(client(github, clock))
    assert outcome.action == "created"
    assert clock.slept == [1.0, 2.0]


def test_5xx_that_persists_is_a_clear_error_after_bounded_tries(
    github: ContractServer, clock: Clock
) -> None:
    github.fail("pulls/list", 502, {"message": "Server Error"}, times=100)
    with pytest.raises(
        ForgeError, match=r"GitHub failed to list pull requests: HTTP 502 after 4 tries"
    ) as caught:
        client(github, clock).find_open("mlcode/iris/")
    assert caught.value.status == 502
    assert clock.slept == [1.0, 2.0, 4.0]


def test_an_unknown_repository_is_a_clear_404(github: ContractServer, clock: Clock) -> None:
    forge = client(github, clock, remote="https://github.com/octo-org/no-such-repo.git")
    with pytest.raises(
        ForgeError, match=r"answered 404 to the request to list pull requests \(HTTP 404: Not Found"
    ) as caught:
        forge.find_open("mlcode/iris/")
    assert "repository octo-org/no-such-repo exists" in caught.value.render()


def test_a_dead_api_is_a_clear_network_error(clock: Clock) -> None:
    with ContractServer(GitHubFake(token=SENTINEL)) as server:
        url = server.url
    forge = make_forge(
        "github",
        api_url=url,
        token_env=TOKEN_ENV,
        remote_url=REMOTE,
        environ={TOKEN_ENV: SENTINEL},
        sleep=clock.sleep,
        clock=clock.time,
    )
    with pytest.raises(
        ForgeError, match=r"cannot reach GitHub at http://127\.0\.0\.1:\d+ \(list pull requests\)"
    ) as caught:
        forge.find_open("mlcode/iris/")
    assert caught.value.status == 0


def test_a_redirect_is_refused_so_the_token_never_travels_elsewhere(
    github: ContractServer, clock: Clock
) -> None:
    with ContractServer(GitHubFake(token="other")) as elsewhere:
        github.fail(
            "pulls/list",
            307,
            {"message": "Moved"},
            headers={"Location": f"{elsewhere.url}/repos/octo-org/models/pulls"},
        )
        with pytest.raises(ForgeError, match="redirected"):
            client(github, clock).find_open("mlcode/iris/")
        assert elsewhere.exchanges == []


def test_enterprise_api_under_api_v3(clock: Clock) -> None:
    with ContractServer(GitHubFake(token=SENTINEL, prefix="/api/v3")) as server:
        forge = client(server, clock, remote="https://ghe.example.test/octo-org/models.git")
        fake(server).branches.add(HEAD)
        assert promote(forge).action == "created"
        assert all(
            exchange.path.startswith("/api/v3/repos/octo-org/models/")
            for exchange in server.exchanges
        )
        assert server.violations == []


def test_the_token_travels_only_in_the_authorization_header(
    github: ContractServer, clock: Clock
) -> None:
    fake(github).branches.add(HEAD)
    forge = client(github, clock)
    outcome = promote(forge)
    assert outcome.pull is not None
    forge.comment(outcome.pull, "<!-- m -->", "hello")
    for exchange in github.exchanges:
        assert SENTINEL not in exchange.path
        assert SENTINEL not in repr(exchange.body)
        assert [key for key, value in exchange.headers.items() if SENTINEL in value] == [
            "authorization"
        ]
        assert exchange.headers["user-agent"].startswith("mlcode")


def test_a_new_version_on_a_new_branch_supersedes_the_old_pull_request(
    github: ContractServer, clock: Clock
) -> None:
    state = fake(github)
    old = state.open_pull(head="mlcode/iris/v1.1.0", title="Promote iris v1.1.0")
    state.branches.add("mlcode/iris/v1.2.0")
    forge = client(github, clock)
    [found] = forge.find_open("mlcode/iris/")
    outcome = promote(forge, update=found, head="mlcode/iris/v1.2.0", title="Promote iris v1.2.0")
    assert outcome.action == "created"
    assert outcome.pull is not None
    assert outcome.pull.head == "mlcode/iris/v1.2.0"
    assert f"closed #{old.number}" in outcome.message
    assert old.state == "closed"
    assert [c.body for c in state.comments if c.issue == old.number] == [
        f"<!-- mlcode:superseded -->\nSuperseded by #{outcome.pull.number} (mlcode/iris/v1.2.0)."
    ]
    assert [p.head for p in forge.find_open("mlcode/iris/")] == ["mlcode/iris/v1.2.0"]
    again = promote(
        forge,
        update=forge.find_open("mlcode/iris/")[0],
        head="mlcode/iris/v1.2.0",
        title="Promote iris v1.2.0",
    )
    assert again.action == "unchanged"


def test_a_dropped_connection_on_a_read_is_retried(github: ContractServer, clock: Clock) -> None:
    github.drop("pulls/list")
    assert client(github, clock).find_open("mlcode/iris/") == []
    assert clock.slept == [1.0]
    assert len(github.calls("pulls/list")) == 2


def test_a_dropped_connection_on_a_create_is_not_retried_and_a_re_run_completes(
    github: ContractServer, clock: Clock
) -> None:
    fake(github).branches.add(HEAD)
    github.drop("pulls/create")
    forge = client(github, clock)
    with pytest.raises(
        ForgeError,
        match=r"cannot reach GitHub at .* \(open a pull request from mlcode/iris/v1.1.0 into main\)",
    ) as caught:
        promote(forge)
    assert caught.value.status == 0
    assert len(github.calls("pulls/create")) == 1
    assert promote(forge).action == "created"
    assert len(fake(github).pulls) == 1


def test_teams_and_at_names_are_requested_as_github_expects(
    github: ContractServer, clock: Clock
) -> None:
    fake(github).branches.add(HEAD)
    forge = client(github, clock)
    outcome = promote(forge, reviewers=["@alice", "octo-org/ml-reviewers", "bob"])
    assert outcome.pull is not None
    pull = fake(github).pulls[outcome.pull.number]
    assert (pull.reviewers, pull.teams) == (["alice", "bob"], ["ml-reviewers"])
    assert [e.body for e in github.calls("pulls/request-reviewers")] == [
        {"reviewers": ["alice", "bob"], "team_reviewers": ["ml-reviewers"]}
    ]
    again = promote(
        forge, update=outcome.pull, reviewers=["@alice", "octo-org/ml-reviewers", "bob"]
    )
    assert again.action == "unchanged"


def test_a_changed_base_moves_the_pull_request(github: ContractServer, clock: Clock) -> None:
    state = fake(github)
    state.branches.add("release")
    pull = state.open_pull(
        head=HEAD, title="Promote iris v1.1.0", body="accuracy 0.97 (champion 0.95)"
    )
    pull.labels, pull.reviewers = ["model", "promotion"], ["alice"]
    forge = client(github, clock)
    outcome = promote(forge, update=forge.find_open("mlcode/iris/")[0], base="release")
    assert outcome.action == "updated"
    assert pull.base == "release"
    assert [e.body for e in github.calls("pulls/update")] == [{"base": "release"}]


def test_what_github_normalised_is_no_change(github: ContractServer, clock: Clock) -> None:
    pull = fake(github).open_pull(
        head=HEAD, title="Promote iris v1.1.0 ", body="accuracy 0.97 (champion 0.95)\r\n"
    )
    pull.labels, pull.reviewers = ["Model", "PROMOTION"], ["alice"]
    forge = client(github, clock)
    assert promote(forge, update=forge.find_open("mlcode/iris/")[0]).action == "unchanged"
    assert writes(github) == []
