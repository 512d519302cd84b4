"""The GitLab forge: merge requests through GitLab's REST API v4 (gitlab.com or self-hosted).

Endpoints (the slice in tests/contract/gitlab-merge-requests.openapi.json): list, create, get and
update merge requests, look users up by username (reviewers are `reviewer_ids`), list/create/update
merge-request notes. Labels go with the create/update call itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote

from mlcode.errors import UserError
from mlcode.forge.base import SUPERSEDED_MARKER, Outcome, PullRequest, same_text, sticky_text
from mlcode.forge.http import HttpClient, Response

DEFAULT_API = "https://gitlab.com/api/v4"
_STATES = {"opened": "open", "closed": "closed", "merged": "merged", "locked": "open"}


def api_url_for(host: str, origin: str) -> str:
    """GitLab's API base for a repository host (altssh.gitlab.com is gitlab.com's SSH over 443)."""
    return DEFAULT_API if host in ("gitlab.com", "altssh.gitlab.com") else f"{origin}/api/v4"


def headers(token: str) -> dict[str, str]:
    """The authentication header of every GitLab request."""
    return {"PRIVATE-TOKEN": token}


def rate_limit_wait(response: Response, now: float) -> float | None:
    """Seconds GitLab asks us to wait (429 with `retry-after`, else until `ratelimit-reset`)."""
    if response.status != 429:
        return None
    found = response.headers
    for key in ("retry-after",):
        value = _number(found.get(key))
        if value is not None:
            return value
    reset = _number(found.get("ratelimit-reset"))
    if reset is not None:
        return max(0.0, reset - now) + 1.0
    return 60.0


class GitLabForge:
    """Merge requests of one GitLab project."""

    name = "GitLab"

    def __init__(self, http: HttpClient, project: str, web_origin: str = "") -> None:
        self.http = http
        self.project = project
        self.web_origin = web_origin
        self._base = f"/projects/{quote(project, safe='')}"
        self._user_ids: dict[str, int] = {}

    def find_open(self, head_prefix: str) -> list[PullRequest]:
        found = []
        what = "list merge requests"
        for item in self.http.pages(
            f"{self._base}/merge_requests", query={"state": "opened"}, what=what
        ):
            if _same_project(item) and str(item["source_branch"]).startswith(head_prefix):
                found.append(_pull(item))
        return sorted(found, key=lambda pull: pull.number)

    def open_or_update(
        self,
        *,
        head: str,
        base: str,
        title: str,
        body: str,
        labels: Sequence[str],
        reviewers: Sequence[str],
        update: PullRequest | None = None,
    ) -> Outcome:
        reviewers = _usernames(reviewers)
        commas = [label for label in labels if "," in label]
        if commas:
            raise UserError(
                f"GitLab label names cannot contain a comma: {', '.join(map(repr, commas))}",
                hint="GitLab's API takes labels as one comma-separated list; rename the label in ml.yaml.",
            )
        data: Mapping[str, Any] | None = None
        superseded: PullRequest | None = None
        if update is not None:
            data = self._get(update.number)
            if data.get("state") != "opened":
                data = None
            elif data["source_branch"] != head:
                # GitLab cannot move a merge request to another source branch: open the new one
                # and close this one (after the new one exists), so one stays open per model.
                superseded, data = _pull(data), None
        outcome = self._open_or_update(
            data, head=head, base=base, title=title, body=body, labels=labels, reviewers=reviewers
        )
        if superseded is None or outcome.pull is None:
            return outcome
        self._supersede(superseded, outcome.pull)
        action: Literal["created", "updated"] = (
            "created" if outcome.action == "created" else "updated"
        )
        return Outcome(
            outcome.pull,
            action,
            f"{outcome.message} (closed !{superseded.number}, from {superseded.head}, as superseded)",
        )

    def _open_or_update(
        self,
        data: Mapping[str, Any] | None,
        *,
        head: str,
        base: str,
        title: str,
        body: str,
        labels: Sequence[str],
        reviewers: Sequence[str],
    ) -> Outcome:
        if data is None:
            data = self._create(
                head=head, base=base, title=title, body=body, labels=labels, reviewers=reviewers
            )
            if data.get("_created"):
                pull = _pull(data)
                return Outcome(pull, "created", f"opened merge request !{pull.number}: {pull.url}")
        iid = int(data["iid"])
        change: dict[str, Any] = {}
        if not same_text(data.get("title"), title):
            change["title"] = title
        if not same_text(data.get("description"), body):
            change["description"] = body
        if data.get("target_branch") != base:
            change["target_branch"] = base
        have = {str(label) for label in data.get("labels") or []}
        missing_labels = _unique(label for label in labels if label not in have)
        if missing_labels:
            change["add_labels"] = ",".join(missing_labels)
        current = {
            str(user["username"]).lower(): int(user["id"]) for user in data.get("reviewers") or []
        }
        author = str((data.get("author") or {}).get("username", "")).lower()
        wanted = [
            name
            for name in _unique(reviewers)
            if name.lower() not in current and name.lower() != author
        ]
        if wanted:
            change["reviewer_ids"] = sorted({*current.values(), *self._ids(wanted)})
        pull = _pull(data)
        if not change:
            return Outcome(pull, "unchanged", f"merge request !{iid} is up to date: {pull.url}")
        data = self.http.request(
            "PUT",
            f"{self._base}/merge_requests/{iid}",
            body=change,
            what=f"update merge request !{iid}",
        ).data
        pull = _pull(data)
        named = [
            {"add_labels": "labels", "reviewer_ids": "reviewers"}.get(key, key) for key in change
        ]
        return Outcome(
            pull, "updated", f"updated merge request !{iid} ({', '.join(named)}): {pull.url}"
        )

    def file_url(self, commit: str, path: str) -> str | None:
        """`<web>/<project>/-/raw/<commit>/<path>`: GitLab's raw file URL for the project."""
        if not self.web_origin:
            return None
        return f"{self.web_origin}/{quote(self.project)}/-/raw/{commit}/{quote(path)}"

    def comment(self, pull: PullRequest, marker: str, body: str) -> None:
        text = sticky_text(marker, body)
        notes = f"{self._base}/merge_requests/{pull.number}/notes"
        what = f"read the notes of merge request !{pull.number}"
        for item in self.http.pages(
            notes, query={"sort": "asc", "order_by": "created_at"}, what=what
        ):
            if not item.get("system") and str(item.get("body") or "").startswith(marker):
                if not same_text(item.get("body"), text):
                    self.http.request(
                        "PUT",
                        f"{notes}/{int(item['id'])}",
                        body={"body": text},
                        what=f"update the note on merge request !{pull.number}",
                    )
                return
        self.http.request(
            "POST", notes, body={"body": text}, what=f"comment on merge request !{pull.number}"
        )

    def _supersede(self, old: PullRequest, new: PullRequest) -> None:
        self.comment(old, SUPERSEDED_MARKER, f"Superseded by !{new.number} ({new.head}).")
        self.http.request(
            "PUT",
            f"{self._base}/merge_requests/{old.number}",
            body={"state_event": "close"},
            what=f"close the superseded merge request !{old.number}",
        )

    def _get(self, iid: int) -> Mapping[str, Any]:
        data: Mapping[str, Any] = self.http.request(
            "GET", f"{self._base}/merge_requests/{iid}", what=f"read merge request !{iid}"
        ).data
        return data

    def _create(
        self,
        *,
        head: str,
        base: str,
        title: str,
        body: str,
        labels: Sequence[str],
        reviewers: Sequence[str],
    ) -> Mapping[str, Any]:
        what = f"open a merge request from {head} into {base}"
        request: dict[str, Any] = {
            "source_branch": head,
            "target_branch": base,
            "title": title,
            "description": body,
        }
        if labels:
            request["labels"] = ",".join(_unique(labels))
        if reviewers:
            request["reviewer_ids"] = self._ids(_unique(reviewers))
        response = self.http.request(
            "POST",
            f"{self._base}/merge_requests",
            body=request,
            expect=(201,),
            allow=(409,),
            what=what,
        )
        if response.status == 201:
            return {**response.data, "_created": True}
        what_find = "find the open merge request"
        query = {"state": "opened", "source_branch": head}
        for item in self.http.pages(f"{self._base}/merge_requests", query=query, what=what_find):
            if _same_project(item) and item["source_branch"] == head:
                return self._get(int(item["iid"]))
        raise self.http.error(response, what)

    def _ids(self, usernames: Sequence[str]) -> list[int]:
        ids = []
        for name in usernames:
            if name.lower() not in self._user_ids:
                found = self.http.request(
                    "GET", "/users", query={"username": name}, what=f"look up user {name}"
                ).data
                match = [
                    user
                    for user in found or []
                    if str(user.get("username", "")).lower() == name.lower()
                ]
                if not match:
                    raise UserError(
                        f"GitLab has no user {name!r} to ask for a review",
                        hint="Fix the reviewers of this model in ml.yaml (GitLab usernames, without @).",
                    )
                self._user_ids[name.lower()] = int(match[0]["id"])
            ids.append(self._user_ids[name.lower()])
        return ids


def _usernames(reviewers: Sequence[str]) -> list[str]:
    """Reviewers as GitLab usernames (`@name` is accepted); GitLab reviews come from users only."""
    names = _unique(name.strip().lstrip("@") for name in reviewers)
    teams = [name for name in names if "/" in name]
    if teams:
        raise UserError(
            f"GitLab asks users, not groups, for reviews: {', '.join(teams)} in the reviewers",
            hint="List GitLab usernames as the model's reviewers in ml.yaml.",
        )
    return names


def _same_project(item: Mapping[str, Any]) -> bool:
    return item.get("source_project_id") == item.get("target_project_id")


def _pull(data: Mapping[str, Any]) -> PullRequest:
    state = str(data.get("state", ""))
    return PullRequest(
        number=int(data["iid"]),
        url=str(data.get("web_url", "")),
        head=str(data["source_branch"]),
        base=str(data["target_branch"]),
        title=str(data.get("title", "")),
        state=_STATES.get(state, state),
    )


def _unique(names: Any) -> list[str]:
    seen: dict[str, None] = {}
    for name in names:
        seen.setdefault(str(name), None)
    return list(seen)


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text.strip())
    except ValueError:
        return None
