"""GitHub played for the contract tests: repository state (branches, pull requests, labels,
reviewers, comments) behind the operations of GitHub's own OpenAPI description.

Answers are built from the description's own examples with the state filled in, and the server
checks each one against the response schema. GitHub's documented behaviours are played: 401 "Bad
credentials" for a wrong token, 404 for an unknown repository, 422 "A pull request already exists"
for a second open pull request of one head, 422 for a reviewer who is not a collaborator.
"""

from __future__ import annotations

import copy
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.contract.openapi import Description, Operation
from tests.contract.server import Answer, Fake

HERE = Path(__file__).parent
DESCRIPTION_FILE = HERE / "github-rest-promotion.openapi.json"
DOCS = "https://docs.github.com/rest"
BASIC_ERROR = {
    "type": "object",
    "required": ["message"],
    "properties": {
        "documentation_url": {"type": "string"},
        "message": {"type": "string"},
        "status": {"type": "string"},
        "url": {"type": "string"},
    },
}

_description: Description | None = None


def description() -> Description:
    """GitHub's description, parsed once per test session (it is a megabyte of JSON)."""
    global _description  # noqa: PLW0603 - a read-only cache of a vendored file
    if _description is None:
        _description = Description(DESCRIPTION_FILE, error_schema=BASIC_ERROR)
    return _description


@dataclass
class Pull:
    number: int
    title: str
    body: str
    head: str
    base: str
    author: str
    state: str = "open"
    labels: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)


@dataclass
class Comment:
    id: int
    issue: int
    body: str
    author: str


class GitHubFake(Fake):
    """One repository `owner/repo` on a GitHub whose API lives under `prefix`."""

    def __init__(
        self, *, token: str, owner: str = "octo-org", repo: str = "models", prefix: str = ""
    ) -> None:
        self.description = description()
        self.prefix = prefix
        self.token = token
        self.owner = owner
        self.repo = repo
        self.login = "mlcode-bot"
        self.branches = {"main"}
        self.collaborators = {"alice", "bob", self.login}
        self.teams = {"ml-reviewers"}
        self.pulls: dict[int, Pull] = {}
        self.comments: list[Comment] = []
        self.workflows = {"mlcode-pr.yml", "mlcode-retrain.yml", "mlcode-finalize.yml"}
        self.dispatches: list[tuple[str, str]] = []  # (workflow file, ref) of each dispatch
        self.next_number = 1
        self.next_comment = 1

    # ---- the rules every request follows -------------------------------------------------

    def check_headers(self, headers: dict[str, str], has_body: bool) -> list[str]:
        problems = []
        if headers.get("accept") != "application/vnd.github+json":
            problems.append(f"Accept is {headers.get('accept')!r}, not application/vnd.github+json")
        if headers.get("x-github-api-version") != "2022-11-28":
            problems.append(f"X-GitHub-Api-Version is {headers.get('x-github-api-version')!r}")
        if not headers.get("user-agent"):
            problems.append("no User-Agent (GitHub rejects requests without one)")
        if not headers.get("authorization", "").startswith("Bearer "):
            problems.append("no Authorization: Bearer header")
        return problems

    def authorize(self, headers: dict[str, str]) -> Answer | None:
        if headers.get("authorization") != f"Bearer {self.token}":
            return Answer(
                401, {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"}
            )
        return None

    def handle(
        self, operation: Operation, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Answer:
        if (params.get("owner", "").lower(), params.get("repo", "").lower()) != (
            self.owner.lower(),
            self.repo.lower(),
        ):
            return Answer(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})
        self._operation = operation
        return super().handle(operation, params, query, body)

    # ---- operations -----------------------------------------------------------------------

    def op_pulls__list(self, params: dict[str, str], query: dict[str, str], body: Any) -> Answer:
        state = query.get("state", "open")
        found = [pull for pull in self.pulls.values() if state in ("all", pull.state)]
        if "head" in query:
            found = [pull for pull in found if f"{self.owner}:{pull.head}" == query["head"]]
        if "base" in query:
            found = [pull for pull in found if pull.base == query["base"]]
        found.sort(key=lambda pull: pull.number, reverse=query.get("direction", "desc") == "desc")
        per_page, page = int(query.get("per_page", 30)), int(query.get("page", 1))
        chunk = found[(page - 1) * per_page : page * per_page]
        return Answer(200, [self._render(pull, simple=True) for pull in chunk])

    def op_pulls__create(self, params: dict[str, str], query: dict[str, str], body: Any) -> Answer:
        head, base = body["head"], body["base"]
        errors = [
            {"resource": "PullRequest", "field": name, "code": "invalid"}
            for name, branch in (("base", base), ("head", head))
            if branch not in self.branches
        ]
        if errors:
            return self._invalid(errors)
        if any(
            pull.head == head and pull.base == base and pull.state == "open"
            for pull in self.pulls.values()
        ):
            message = f"A pull request already exists for {self.owner}:{head}."
            return self._invalid(
                [{"resource": "PullRequest", "code": "custom", "message": message}]
            )
        pull = self.open_pull(
            head=head, base=base, title=body.get("title", ""), body=body.get("body", "")
        )
        return Answer(201, self._render(pull), {"Location": self._api(f"pulls/{pull.number}")})

    def op_pulls__get(self, params: dict[str, str], query: dict[str, str], body: Any) -> Answer:
        pull = self.pulls.get(int(params["pull_number"]))
        if pull is None:
            return Answer(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})
        return Answer(200, self._render(pull))

    def op_pulls__update(self, params: dict[str, str], query: dict[str, str], body: Any) -> Answer:
        pull = self.pulls.get(int(params["pull_number"]))
        if pull is None:
            return Answer(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})
        if "base" in body and body["base"] not in self.branches:
            return self._invalid([{"resource": "PullRequest", "field": "base", "code": "invalid"}])
        pull.title = body.get("title", pull.title)
        pull.body = body.get("body", pull.body)
        pull.base = body.get("base", pull.base)
        pull.state = body.get("state", pull.state)
        return Answer(200, self._render(pull))

    def op_issues__add_labels(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Answer:
        pull = self.pulls.get(int(params["issue_number"]))
        if pull is None:
            return Answer(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})
        names = body["labels"] if isinstance(body, dict) else body
        for item in names:
            name = item if isinstance(item, str) else item["name"]
            if name not in pull.labels:
                pull.labels.append(name)
        return Answer(200, [self._label(name) for name in pull.labels])

    def op_pulls__request_reviewers(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Answer:
        pull = self.pulls.get(int(params["pull_number"]))
        if pull is None:
            return Answer(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})
        names = body.get("reviewers", [])
        teams = body.get("team_reviewers", [])
        if any(team not in self.teams for team in teams):
            return self._invalid(
                [], message="Could not resolve to a node with the global id of ''."
            )
        if pull.author in names:
            return self._invalid([], message="Review cannot be requested from pull request author.")
        if any(name not in self.collaborators for name in names):
            message = (
                "Reviews may only be requested from collaborators. One or more of the users or teams you "
                f"specified is not a collaborator of the {self.owner}/{self.repo} repository."
            )
            return self._invalid([], message=message)
        for name in names:
            if name not in pull.reviewers:
                pull.reviewers.append(name)
        for team in teams:
            if team not in pull.teams:
                pull.teams.append(team)
        return Answer(201, self._render(pull, simple=True))

    def op_issues__list_comments(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Answer:
        number = int(params["issue_number"])
        if number not in self.pulls:
            return Answer(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})
        found = [comment for comment in self.comments if comment.issue == number]
        per_page, page = int(query.get("per_page", 30)), int(query.get("page", 1))
        return Answer(
            200, [self._comment(c) for c in found[(page - 1) * per_page : page * per_page]]
        )

    def op_issues__create_comment(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Answer:
        number = int(params["issue_number"])
        if number not in self.pulls:
            return Answer(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})
        comment = self.add_comment(number, body["body"], author=self.login)
        return Answer(201, self._comment(comment))

    def op_issues__update_comment(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Answer:
        for comment in self.comments:
            if comment.id == int(params["comment_id"]):
                comment.body = body["body"]
                return Answer(200, self._comment(comment))
        return Answer(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})

    def op_actions__create_workflow_dispatch(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Answer:
        if params["workflow_id"] not in self.workflows:
            return Answer(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})
        ref = body["ref"].removeprefix("refs/heads/")
        if ref not in self.branches:
            return Answer(
                422, {"message": f"No ref found for: {body['ref']}", "documentation_url": DOCS}
            )
        self.dispatches.append((params["workflow_id"], ref))
        return Answer(204)

    # ---- state a test sets up directly ------------------------------------------------------

    def open_pull(
        self,
        *,
        head: str,
        base: str = "main",
        title: str = "t",
        body: str = "",
        author: str | None = None,
    ) -> Pull:
        self.branches.add(head)
        pull = Pull(self.next_number, title, body, head, base, author or self.login)
        self.pulls[pull.number] = pull
        self.next_number += 1
        return pull

    def add_comment(self, issue: int, body: str, *, author: str) -> Comment:
        comment = Comment(self.next_comment, issue, body, author)
        self.comments.append(comment)
        self.next_comment += 1
        return comment

    # ---- answers built from the description's examples -----------------------------------

    def _invalid(self, errors: list[dict[str, Any]], message: str = "Validation Failed") -> Answer:
        return Answer(422, {"message": message, "errors": errors, "documentation_url": DOCS})

    def _api(self, rest: str) -> str:
        return f"https://api.github.test/repos/{self.owner}/{self.repo}/{rest}"

    def _example(self, operation_id: str, status: int) -> Any:
        for operation in self.description.operations:
            if operation.operation_id == operation_id:
                return operation.example(status)
        raise KeyError(operation_id)

    def _user(self, login: str) -> dict[str, Any]:
        user: dict[str, Any] = self._example("issues/create-comment", 201)["user"]
        user.update(
            login=login,
            id=zlib.crc32(login.encode()) % 10**6,
            html_url=f"https://github.test/{login}",
        )
        return user

    def _team(self, slug: str) -> dict[str, Any]:
        team: dict[str, Any] = self._example("pulls/get", 200)["requested_teams"][0]
        team.update(slug=slug, name=slug, type="organization", id=zlib.crc32(slug.encode()) % 10**6)
        team.setdefault("parent", None)
        team["html_url"] = f"https://github.test/orgs/{self.owner}/teams/{slug}"
        return team

    def _label(self, name: str) -> dict[str, Any]:
        label: dict[str, Any] = self._example("issues/add-labels", 200)[0]
        label.update(
            name=name,
            id=zlib.crc32(name.encode()) % 10**8,
            default=False,
            description=f"{name} (set by the test)",
        )
        return label

    def _render(self, pull: Pull, *, simple: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = (
            self._example("pulls/list", 200)[0] if simple else self._example("pulls/get", 200)
        )
        full_name = f"{self.owner}/{self.repo}"
        for side, ref in (("head", pull.head), ("base", pull.base)):
            part = data[side]
            part.update(ref=ref, label=f"{self.owner}:{ref}")
            part["repo"] = copy.deepcopy(part["repo"])
            part["repo"].update(full_name=full_name, name=self.repo)
            part["repo"]["owner"]["login"] = self.owner
        data.update(
            number=pull.number,
            id=1000 + pull.number,
            title=pull.title,
            body=pull.body,
            state="closed" if pull.state != "open" else "open",
            html_url=f"https://github.test/{full_name}/pull/{pull.number}",
            url=self._api(f"pulls/{pull.number}"),
            user=self._user(pull.author),
            labels=[self._label(name) for name in pull.labels],
            requested_reviewers=[self._user(name) for name in pull.reviewers],
            requested_teams=[self._team(slug) for slug in pull.teams],
            merged_at=None,
            closed_at=None,
            draft=False,
        )
        if not simple:
            data.update(merged=False, mergeable=True, merged_by=None)
        return data

    def _comment(self, comment: Comment) -> dict[str, Any]:
        data: dict[str, Any] = self._example("issues/create-comment", 201)
        data.update(
            id=comment.id,
            body=comment.body,
            user=self._user(comment.author),
            html_url=f"https://github.test/{self.owner}/{self.repo}/pull/{comment.issue}#issuecomment-{comment.id}",
            url=self._api(f"issues/comments/{comment.id}"),
        )
        return data
