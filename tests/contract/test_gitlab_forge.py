"""The GitLab client against a local GitLab that checks every request and answer against the
merge-request slice of GitLab's v4 API (tests/contract/gitlab-merge-requests.openapi.json)."""

from __future__ import annotations

import pytest

from mlcode.errors import UserError
from mlcode.forge.base import Forge, Outcome
from mlcode.forge.http import ForgeError
from mlcode.forge.select import make_forge
from tests.contract.conftest import SENTINEL, TOKEN_ENV, Clock
from tests.contract.gitlab_fake import GitLabFake
from tests.contract.server import ContractServer

HEAD = "mlcode/iris/v1.1.0"
REMOTE = "git@gitlab.example.test:ml-group/vision/models.git"
WRITES = {"merge_requests/create", "merge_requests/update", "notes/create", "notes/update"}


def client(
    server: ContractServer, clock: Clock, *, token: str = SENTINEL, remote: str = REMOTE
) -> Forge:
    return make_forge(
        "gitlab",
        api_url=server.url,
        token_env=TOKEN_ENV,
        remote_url=remote,
        environ={TOKEN_ENV: token},
        sleep=clock.sleep,
        clock=clock.time,
    )


def fake(server: ContractServer) -> GitLabFake:
    assert isinstance(server.fake, GitLabFake)
    return server.fake


def promote(forge: Forge, **changes: object) -> Outcome:
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


def test_opens_a_merge_request_with_labels_and_reviewers(
    gitlab: ContractServer, clock: Clock
) -> None:
    fake(gitlab).branches.add(HEAD)
    outcome = promote(client(gitlab, clock))
    assert outcome.action == "created"
    assert outcome.pull is not None
    mr = fake(gitlab).merge_requests[outcome.pull.number]
    assert (mr.source, mr.target, mr.title, mr.description) == (
        HEAD,
        "main",
        "Promote iris v1.1.0",
        "accuracy 0.97 (champion 0.95)",
    )
    assert mr.labels == ["model", "promotion"]
    assert mr.reviewers == ["alice"]
    assert (
        outcome.pull.url == f"https://gitlab.test/ml-group/vision/models/-/merge_requests/{mr.iid}"
    )
    assert outcome.pull.state == "open"
    assert writes(gitlab) == ["merge_requests/create"]
    [create] = gitlab.calls("merge_requests/create")
    assert create.path == "/api/v4/projects/ml-group%2Fvision%2Fmodels/merge_requests"
    assert create.body["reviewer_ids"] == [100]
    assert create.body["labels"] == "model,promotion"


def test_the_same_promotion_twice_is_one_merge_request_and_changes_nothing(
    gitlab: ContractServer, clock: Clock
) -> None:
    fake(gitlab).branches.add(HEAD)
    forge = client(gitlab, clock)
    first = promote(forge)
    again = promote(forge, update=forge.find_open("mlcode/iris/")[0])
    assert (first.action, again.action) == ("created", "unchanged")
    assert again.pull == first.pull
    assert len(fake(gitlab).merge_requests) == 1
    assert writes(gitlab) == ["merge_requests/create"]


def test_find_open_returns_only_this_models_open_merge_requests(
    gitlab: ContractServer, clock: Clock
) -> None:
    state = fake(gitlab)
    mine = state.open_merge_request(source="mlcode/iris/v1.1.0")
    state.open_merge_request(source="mlcode/iris-large/v2.0.0")
    state.open_merge_request(source="mlcode/iris/v1.0.0").state = "merged"
    state.open_merge_request(source="mlcode/iris/v0.9.0").source_project_id = 99  # from a fork
    found = client(gitlab, clock).find_open("mlcode/iris/")
    assert [(p.number, p.head, p.state) for p in found] == [
        (mine.iid, "mlcode/iris/v1.1.0", "open")
    ]


def test_a_new_version_updates_the_open_merge_request_keeping_people_s_labels_and_reviewers(
    gitlab: ContractServer, clock: Clock
) -> None:
    state = fake(gitlab)
    old = state.open_merge_request(
        source="mlcode/iris/v1.1.0", title="Promote iris v1.1.0", description="old"
    )
    old.labels = ["needs-data-review", "model"]
    old.reviewers = ["bob"]
    state.branches.add("mlcode/iris/v1.2.0")
    forge = client(gitlab, clock)
    [found] = forge.find_open("mlcode/iris/")
    outcome = promote(forge, update=found, title="Promote iris v1.2.0", body="new report")
    assert outcome.action == "updated"
    assert outcome.pull is not None
    assert outcome.pull.number == old.iid
    assert (old.title, old.description) == ("Promote iris v1.2.0", "new report")
    assert old.labels == ["needs-data-review", "model", "promotion"]
    assert sorted(old.reviewers) == ["alice", "bob"]
    [update] = gitlab.calls("merge_requests/update")
    assert update.body["add_labels"] == "promotion"
    assert len(state.merge_requests) == 1


def test_409_already_exists_updates_that_merge_request(
    gitlab: ContractServer, clock: Clock
) -> None:
    existing = fake(gitlab).open_merge_request(source=HEAD, title="stale")
    outcome = promote(client(gitlab, clock))
    assert outcome.action == "updated"
    assert outcome.pull is not None
    assert outcome.pull.number == existing.iid
    assert existing.title == "Promote iris v1.1.0"
    assert existing.reviewers == ["alice"]
    assert [exchange.status for exchange in gitlab.calls("merge_requests/create")] == [409]


def test_an_unknown_reviewer_is_a_clear_error_before_anything_is_opened(
    gitlab: ContractServer, clock: Clock
) -> None:
    fake(gitlab).branches.add(HEAD)
    with pytest.raises(UserError, match="GitLab has no user 'mallory'"):
        promote(client(gitlab, clock), reviewers=["alice", "mallory"])
    assert fake(gitlab).merge_requests == {}


def test_the_author_is_not_made_a_reviewer_on_update(gitlab: ContractServer, clock: Clock) -> None:
    fake(gitlab).open_merge_request(
        source=HEAD, title="Promote iris v1.1.0", description="accuracy 0.97 (champion 0.95)"
    ).labels = ["model", "promotion"]
    forge = client(gitlab, clock)
    outcome = promote(forge, update=forge.find_open("mlcode/iris/")[0], reviewers=["mlcode-bot"])
    assert outcome.action == "unchanged"


def test_a_branch_gitlab_does_not_have_is_a_clear_error(
    gitlab: ContractServer, clock: Clock
) -> None:
    with pytest.raises(
        ForgeError,
        match=r"refused to open a merge request from mlcode/iris/v1.1.0 into main \(HTTP 422: source_branch is invalid",
    ):
        promote(client(gitlab, clock))


def test_sticky_note_is_created_then_updated_in_place(gitlab: ContractServer, clock: Clock) -> None:
    state = fake(gitlab)
    mr = state.open_merge_request(source=HEAD)
    state.add_note(
        mr.iid, "<!-- mlcode:gates --> changed the description", author="mlcode-bot", system=True
    )
    state.add_note(mr.iid, "Looks good", author="alice")
    forge = client(gitlab, clock)
    [found] = forge.find_open("mlcode/iris/")
    forge.comment(found, "<!-- mlcode:gates -->", "| gate | ok |")
    forge.comment(found, "<!-- mlcode:gates -->", "| gate | failed |")
    forge.comment(found, "<!-- mlcode:gates -->", "| gate | failed |")
    assert [(n.author, n.body) for n in state.notes if not n.system] == [
        ("alice", "Looks good"),
        ("mlcode-bot", "<!-- mlcode:gates -->\n| gate | failed |"),
    ]
    assert writes(gitlab) == ["notes/create", "notes/update"]


def test_401_names_the_token_variable_never_the_token(gitlab: ContractServer, clock: Clock) -> None:
    wrong = "sentinel-wrong-gl-5a4b"
    with pytest.raises(ForgeError) as caught:
        client(gitlab, clock, token=wrong).find_open("mlcode/iris/")
    text = caught.value.render()
    assert TOKEN_ENV in text
    assert "HTTP 401: 401 Unauthorized" in text
    assert wrong not in text
    assert SENTINEL not in text


def test_403_is_a_permission_error(gitlab: ContractServer, clock: Clock) -> None:
    fake(gitlab).branches.add(HEAD)
    gitlab.fail("merge_requests/create", 403, {"message": "403 Forbidden"})
    with pytest.raises(
        ForgeError, match=r"denied permission to open a merge request .*403 Forbidden"
    ):
        promote(client(gitlab, clock))
    assert clock.slept == []


def test_429_retry_after_is_honoured(gitlab: ContractServer, clock: Clock) -> None:
    gitlab.fail(
        "merge_requests/list",
        429,
        {"message": "Retry later"},
        headers={"Retry-After": "7", "RateLimit-Reset": str(int(clock.now) + 7)},
    )
    assert client(gitlab, clock).find_open("mlcode/iris/") == []
    assert clock.slept == [7.0]


def test_429_without_retry_after_waits_until_ratelimit_reset(
    gitlab: ContractServer, clock: Clock
) -> None:
    gitlab.fail(
        "merge_requests/list",
        429,
        {"message": "Retry later"},
        headers={"RateLimit-Reset": str(int(clock.now) + 20)},
    )
    assert client(gitlab, clock).find_open("mlcode/iris/") == []
    assert clock.slept == [21.0]


def test_5xx_is_retried_then_a_clear_error(gitlab: ContractServer, clock: Clock) -> None:
    gitlab.fail("merge_requests/list", 500, {"message": "500 Internal Server Error"}, times=100)
    with pytest.raises(
        ForgeError, match="GitLab failed to list merge requests: HTTP 500 after 4 tries"
    ):
        client(gitlab, clock).find_open("mlcode/iris/")
    assert clock.slept == [1.0, 2.0, 4.0]


def test_502_once_is_retried_and_succeeds(gitlab: ContractServer, clock: Clock) -> None:
    fake(gitlab).branches.add(HEAD)
    gitlab.fail("merge_requests/create", 502, {"message": "502 Bad Gateway"})
    assert promote(client(gitlab, clock)).action == "created"
    assert clock.slept == [1.0]


def test_an_unknown_project_is_a_clear_404(gitlab: ContractServer, clock: Clock) -> None:
    forge = client(gitlab, clock, remote="https://gitlab.example.test/ml-group/elsewhere.git")
    with pytest.raises(
        ForgeError,
        match=r"answered 404 to the request to list merge requests \(HTTP 404: 404 Project Not Found",
    ):
        forge.find_open("mlcode/iris/")


def test_the_token_travels_only_in_the_private_token_header(
    gitlab: ContractServer, clock: Clock
) -> None:
    fake(gitlab).branches.add(HEAD)
    forge = client(gitlab, clock)
    outcome = promote(forge)
    assert outcome.pull is not None
    forge.comment(outcome.pull, "<!-- m -->", "hello")
    for exchange in gitlab.exchanges:
        assert SENTINEL not in exchange.path
        assert SENTINEL not in repr(exchange.body)
        assert [key for key, value in exchange.headers.items() if SENTINEL in value] == [
            "private-token"
        ]


def test_a_new_version_on_a_new_branch_supersedes_the_old_merge_request(
    gitlab: ContractServer, clock: Clock
) -> None:
    state = fake(gitlab)
    old = state.open_merge_request(source="mlcode/iris/v1.1.0", title="Promote iris v1.1.0")
    state.branches.add("mlcode/iris/v1.2.0")
    forge = client(gitlab, clock)
    [found] = forge.find_open("mlcode/iris/")
    outcome = promote(forge, update=found, head="mlcode/iris/v1.2.0", title="Promote iris v1.2.0")
    assert outcome.action == "created"
    assert outcome.pull is not None
    assert f"closed !{old.iid}" in outcome.message
    assert old.state == "closed"
    assert [n.body for n in state.notes if n.iid == old.iid] == [
        f"<!-- mlcode:superseded -->\nSuperseded by !{outcome.pull.number} (mlcode/iris/v1.2.0)."
    ]
    assert [p.head for p in forge.find_open("mlcode/iris/")] == ["mlcode/iris/v1.2.0"]
    again = promote(
        forge,
        update=forge.find_open("mlcode/iris/")[0],
        head="mlcode/iris/v1.2.0",
        title="Promote iris v1.2.0",
    )
    assert again.action == "unchanged"


def test_at_names_are_usernames_and_a_group_is_refused_before_any_request(
    gitlab: ContractServer, clock: Clock
) -> None:
    fake(gitlab).branches.add(HEAD)
    outcome = promote(client(gitlab, clock), reviewers=["@alice", "bob"])
    assert outcome.pull is not None
    assert fake(gitlab).merge_requests[outcome.pull.number].reviewers == ["alice", "bob"]
    before = len(gitlab.exchanges)
    with pytest.raises(
        UserError, match="GitLab asks users, not groups, for reviews: ml-group/reviewers"
    ):
        promote(client(gitlab, clock), reviewers=["ml-group/reviewers"])
    assert len(gitlab.exchanges) == before


def test_a_label_with_a_comma_is_refused_before_any_request(
    gitlab: ContractServer, clock: Clock
) -> None:
    fake(gitlab).branches.add(HEAD)
    with pytest.raises(
        UserError, match="GitLab label names cannot contain a comma: 'needs,review'"
    ):
        promote(client(gitlab, clock), labels=["model", "needs,review"])
    assert gitlab.exchanges == []


def test_what_gitlab_normalised_is_no_change(gitlab: ContractServer, clock: Clock) -> None:
    mr = fake(gitlab).open_merge_request(
        source=HEAD, title="Promote iris v1.1.0", description="accuracy 0.97 (champion 0.95)\r\n"
    )
    mr.labels, mr.reviewers = ["model", "promotion"], ["alice"]
    forge = client(gitlab, clock)
    assert promote(forge, update=forge.find_open("mlcode/iris/")[0]).action == "unchanged"
    assert writes(gitlab) == []
