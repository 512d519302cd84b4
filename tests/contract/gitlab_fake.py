"""GitLab played for the contract tests: one project's merge requests, users and notes behind the
operations of the hand-written slice of GitLab's v4 API (gitlab-merge-requests.openapi.json).

GitLab's documented behaviours are played: `401 Unauthorized` for a wrong token, `404 Project Not
Found` for another project, 409 "Another open merge request already exists for this source branch",
an empty list from /users for an unknown username, and the project path URL-encoded in one segment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.contract.openapi import Description, Operation
from tests.contract.server import Answer, Fake

HERE = Path(__file__).parent
DESCRIPTION_FILE = HERE / "gitlab-merge-requests.openapi.json"
STAMP = "2026-11-30T12:00:00.000Z"

_description: Description | None = None


def description() -> Description:
    """The GitLab slice, parsed once per test session."""
    global _description  # noqa: PLW0603 - a read-only cache of a vendored file
    if _description is None:
        document = json.loads(DESCRIPTION_FILE.read_text(encoding="utf-8"))
        error = document["paths"]["/projects/{id}/merge_requests"]["post"]["responses"]["409"]
        _description = Description(
            DESCRIPTION_FILE, error_schema=error["content"]["application/json"]["schema"]
        )
    return _description


@dataclass
class MergeRequest:
    iid: int
    title: str
    description: str
    source: str
    target: str
    author: str
    state: str = "opened"
    labels: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)
    source_project_id: int = 7


@dataclass
class Note:
    id: int
    iid: int
    body: str
    author: str
    system: bool = False


class GitLabFake(Fake):
    """One project `path` (groups allowed) on a GitLab whose API lives under /api/v4."""

    project_id = 7

    def __init__(self, *, token: str, path: str = "ml-group/vision/models") -> None:
        self.description = description()
        self.prefix = "/api/v4"
        self.token = token
        self.path = path
        self.login = "mlcode-bot"
        self.users = {name: index + 100 for index, name in enumerate(["alice", "bob", self.login])}
        self.branches = {"main"}
        self.merge_requests: dict[int, MergeRequest] = {}
        self.notes: list[Note] = []
        self.next_iid = 1
        self.next_note = 1
        self.raw_paths: list[str] = []

    def check_headers(self, headers: dict[str, str], has_body: bool) -> list[str]:
        problems = []
        if not headers.get("private-token"):
            problems.append("no PRIVATE-TOKEN header")
        if "authorization" in headers:
            problems.append("an Authorization header besides PRIVATE-TOKEN")
        if not headers.get("user-agent"):
            problems.append("no User-Agent")
        return problems

    def authorize(self, headers: dict[str, str]) -> Answer | None:
        if headers.get("private-token") != self.token:
            return Answer(401, {"message": "401 Unauthorized"})
        return None

    def handle(
        self, operation: Operation, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Answer:
        if "id" in params and params["id"] not in (self.path, str(self.project_id)):
            return Answer(404, {"message": "404 Project Not Found"})
        if (
            "merge_request_iid" in params
            and int(params["merge_request_iid"]) not in self.merge_requests
        ):
            return Answer(404, {"message": "404 Not found"})
        return super().handle(operation, params, query, body)

    # ---- operations -----------------------------------------------------------------------

    def op_merge_requests__list(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Answer:
        state = query.get("state", "all")
        found = [mr for mr in self.merge_requests.values() if state in ("all", mr.state)]
        if "source_branch" in query:
            found = [mr for mr in found if mr.source == query["source_branch"]]
        found.sort(key=lambda mr: mr.iid, reverse=query.get("sort", "desc") == "desc")
        per_page, page = int(query.get("per_page", 20)), int(query.get("page", 1))
        return Answer(
            200, [self._render(mr) for mr in found[(page - 1) * per_page : page * per_page]]
        )

    def op_merge_requests__create(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Answer:
        source, target = body["source_branch"], body["target_branch"]
        for name, branch in (("source_branch", source), ("target_branch", target)):
            if branch not in self.branches:
                return Answer(422, {"message": {name: ["is invalid"]}})
        for mr in self.merge_requests.values():
            if mr.source == source and mr.state == "opened":
                return Answer(
                    409,
                    {
                        "message": [
                            f"Another open merge request already exists for this source branch: !{mr.iid}"
                        ]
                    },
                )
        unknown = [uid for uid in body.get("reviewer_ids", []) if uid not in self.users.values()]
        if unknown:
            return Answer(400, {"message": {"reviewer_ids": [f"unknown user {unknown[0]}"]}})
        mr = self.open_merge_request(
            source=source,
            target=target,
            title=body["title"],
            description=body.get("description", ""),
        )
        mr.labels = _labels(body.get("labels", ""))
        mr.reviewers = [self._name(uid) for uid in body.get("reviewer_ids", [])]
        return Answer(201, self._render(mr))

    def op_merge_requests__get(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Answer:
        return Answer(200, self._render(self.merge_requests[int(params["merge_request_iid"])]))

    def op_merge_requests__update(
        self, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Answer:
        mr = self.merge_requests[int(params["merge_request_iid"])]
        if "target_branch" in body and body["target_branch"] not in self.branches:
            return Answer(422, {"message": {"target_branch": ["is invalid"]}})
        mr.title = body.get("title", mr.title)
        mr.description = body.get("description", mr.description)
        mr.target = body.get("target_branch", mr.target)
        if "labels" in body:
            mr.labels = _labels(body["labels"])
        for name in _labels(body.get("add_labels", "")):
            if name not in mr.labels:
                mr.labels.append(name)
        mr.labels = [
            name for name in mr.labels if name not in _labels(body.get("remove_labels", ""))
        ]
        if "reviewer_ids" in body:
            mr.reviewers = [self._name(uid) for uid in body["reviewer_ids"]]
        if "state_event" in body:
            mr.state = {"close": "closed", "reopen": "opened"}[body["state_event"]]
        return Answer(200, self._render(mr))

    def op_users__list(self, params: dict[str, str], query: dict[str, str], body: Any) -> Answer:
        wanted = query.get("username", "").lower()
        return Answer(200, [self._user(name) for name in self.users if name.lower() == wanted])

    def op_notes__list(self, params: dict[str, str], query: dict[str, str], body: Any) -> Answer:
        iid = int(params["merge_request_iid"])
        found = [note for note in self.notes if note.iid == iid]
        if query.get("sort", "desc") == "desc":
            found.reverse()
        per_page, page = int(query.get("per_page", 20)), int(query.get("page", 1))
        return Answer(
            200, [self._note(note) for note in found[(page - 1) * per_page : page * per_page]]
        )

    def op_notes__create(self, params: dict[str, str], query: dict[str, str], body: Any) -> Answer:
        note = self.add_note(int(params["merge_request_iid"]), body["body"], author=self.login)
        return Answer(201, self._note(note))

    def op_notes__update(self, params: dict[str, str], query: dict[str, str], body: Any) -> Answer:
        for note in self.notes:
            if note.id == int(params["note_id"]) and note.iid == int(params["merge_request_iid"]):
                note.body = body["body"]
                return Answer(200, self._note(note))
        return Answer(404, {"message": "404 Not found"})

    # ---- state a test sets up directly ------------------------------------------------------

    def open_merge_request(
        self,
        *,
        source: str,
        target: str = "main",
        title: str = "t",
        description: str = "",
        author: str | None = None,
    ) -> MergeRequest:
        self.branches.add(source)
        mr = MergeRequest(self.next_iid, title, description, source, target, author or self.login)
        self.merge_requests[mr.iid] = mr
        self.next_iid += 1
        return mr

    def add_note(self, iid: int, body: str, *, author: str, system: bool = False) -> Note:
        note = Note(self.next_note, iid, body, author, system)
        self.notes.append(note)
        self.next_note += 1
        return note

    # ---- answers ----------------------------------------------------------------------------

    def _name(self, uid: int) -> str:
        return next(name for name, known in self.users.items() if known == uid)

    def _user(self, name: str) -> dict[str, Any]:
        uid = self.users.get(name, 999)
        return {
            "id": uid,
            "username": name,
            "name": name.title(),
            "state": "active",
            "locked": False,
            "avatar_url": None,
            "web_url": f"https://gitlab.test/{name}",
        }

    def _render(self, mr: MergeRequest) -> dict[str, Any]:
        web = f"https://gitlab.test/{self.path}/-/merge_requests/{mr.iid}"
        return {
            "id": 5000 + mr.iid,
            "iid": mr.iid,
            "project_id": self.project_id,
            "title": mr.title,
            "description": mr.description,
            "state": mr.state,
            "created_at": STAMP,
            "updated_at": STAMP,
            "merged_at": STAMP if mr.state == "merged" else None,
            "closed_at": STAMP if mr.state == "closed" else None,
            "target_branch": mr.target,
            "source_branch": mr.source,
            "author": self._user(mr.author),
            "assignees": [],
            "reviewers": [self._user(name) for name in mr.reviewers],
            "source_project_id": mr.source_project_id,
            "target_project_id": self.project_id,
            "labels": list(mr.labels),
            "draft": False,
            "work_in_progress": False,
            "merge_status": "can_be_merged",
            "detailed_merge_status": "mergeable",
            "sha": "8888888888888888888888888888888888888888",
            "web_url": web,
            "references": {
                "short": f"!{mr.iid}",
                "relative": f"!{mr.iid}",
                "full": f"{self.path}!{mr.iid}",
            },
        }

    def _note(self, note: Note) -> dict[str, Any]:
        return {
            "id": note.id,
            "type": None,
            "body": note.body,
            "author": self._user(note.author),
            "created_at": STAMP,
            "updated_at": STAMP,
            "system": note.system,
            "noteable_id": 5000 + note.iid,
            "noteable_type": "MergeRequest",
            "noteable_iid": note.iid,
            "project_id": self.project_id,
            "resolvable": False,
            "confidential": False,
            "internal": False,
        }


def encoded(path: str) -> str:
    """A project path as GitLab wants it in a URL: one segment, slashes as %2F."""
    return quote(path, safe="")


def _labels(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]
