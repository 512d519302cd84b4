"""The GitHub forge: pull requests through GitHub's REST API v3 (github.com or Enterprise Server).

Only the endpoints in tests/contract/github-rest-promotion.openapi.json are used: list, create,
get and update pull requests, add labels, request reviewers, list/create/update issue comments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote

from mlcode.forge.base import SUPERSEDED_MARKER, Outcome, PullRequest, same_text, sticky_text
from mlcode.forge.http import HttpClient, Response

API_VERSION = "2022-11-28"
DEFAULT_API = "https://api.github.com"


def api_url_for(host: str, origin: str) -> str:
    """GitHub's API base for a repository host: api.github.com, or Enterprise's /api/v3."""
    if host in ("github.com", "www.github.com", "ssh.github.com"):  # ssh.github.com: SSH over 443
        return DEFAULT_API
    return f"{origin}/api/v3"


def headers(token: str) -> dict[str, str]:
    """The headers every GitHub request carries besides the User-Agent."""
    return {"Authorization": f"Bearer {token}"}


EXTRA_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}


def rate_limit_wait(response: Response, now: float) -> float | None:
    """Seconds GitHub asks us to wait before retrying, or None when the answer is no rate limit.

    GitHub's documented rules: `retry-after` first; else an exhausted primary limit
    (`x-ratelimit-remaining: 0`) until `x-ratelimit-reset`; else a secondary limit: one minute.
    """
    if response.status not in (403, 429):
        return None
    found = response.headers
    retry_after = _number(found.get("retry-after"))
    if retry_after is not None:
        return retry_after
    reset = _number(found.get("x-ratelimit-reset"))
    if found.get("x-ratelimit-remaining") == "0" and reset is not None:
        return max(0.0, reset - now) + 1.0
    if response.status == 429 or "rate limit" in response.message().lower():
        return 60.0
    return None


ACTIONS_MAY_NOT_OPEN = "github actions is not permitted to create or approve pull requests"


def permission_hint(response: Response, repository: str) -> str | None:
    """GitHub's own hint for a 403, or None for the usual one (give the token write access).

    A workflow's GITHUB_TOKEN may have `pull-requests: write` and still be refused: opening pull
    requests from workflows is a repository (and organization) setting, off by default.
    """
    if ACTIONS_MAY_NOT_OPEN not in response.message().lower():
        return None
    return (
        f"The repository forbids workflows to open pull requests: in {repository} on GitHub, "
        "Settings → Actions → General → Workflow permissions, tick "
        '"Allow GitHub Actions to create and approve pull requests" and save (if it is greyed '
        "out, an organization owner must allow it first in the organization's Actions settings)."
    )


class GitHubForge:
    """Pull requests of one GitHub repository."""

    name = "GitHub"

    def __init__(self, http: HttpClient, owner: str, repo: str, web_origin: str = "") -> None:
        self.http = http
        self.owner = owner
        self.repo = repo
        self.web_origin = web_origin
        self._base = f"/repos/{quote(owner, safe='')}/{quote(repo, safe='')}"

    def find_open(self, head_prefix: str) -> list[PullRequest]:
        found = []
        for item in self.http.pages(
            f"{self._base}/pulls", query={"state": "open"}, what="list pull requests"
        ):
            if self._ours(item) and str(item["head"]["ref"]).startswith(head_prefix):
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
        data: Mapping[str, Any] | None = None
        created = False
        superseded: PullRequest | None = None
        if update is not None:
            data = self._get(update.number)
            if data.get("state") != "open":
                data = None
            elif data["head"]["ref"] != head:
                # GitHub cannot move a pull request to another head branch: open the new one and
                # close this one (after the new one exists), so one stays open per model.
                superseded, data = _pull(data), None
        if data is None:
            data, created = self._create(head=head, base=base, title=title, body=body)
        number = int(data["number"])
        changed: list[str] = []
        if not created:
            patch: dict[str, str] = {}
            if not same_text(data.get("title"), title):
                patch["title"] = title
            if not same_text(data.get("body"), body):
                patch["body"] = body
            if data["base"]["ref"] != base:
                patch["base"] = base
            if patch:
                data = self.http.request(
                    "PATCH",
                    f"{self._base}/pulls/{number}",
                    body=patch,
                    what=f"update pull request #{number}",
                ).data
                changed.extend(patch)
        # GitHub's label names are case-insensitive: "Model" is already "model".
        have = {str(label["name"]).casefold() for label in data.get("labels") or []}
        missing_labels = _unique(label for label in labels if label.casefold() not in have)
        if missing_labels:
            self.http.request(
                "POST",
                f"{self._base}/issues/{number}/labels",
                body={"labels": missing_labels},
                what=f"label pull request #{number}",
            )
            changed.append("labels")
        request = self._missing_reviewers(data, reviewers)
        if request:
            named = [*request.get("reviewers", []), *request.get("team_reviewers", [])]
            self.http.request(
                "POST",
                f"{self._base}/pulls/{number}/requested_reviewers",
                body=request,
                what=f"request reviews from {', '.join(named)} on pull request #{number}",
            )
            changed.append("reviewers")
        pull = _pull(data)
        if superseded is not None:
            self._supersede(superseded, pull)
            action: Literal["created", "updated"] = "created" if created else "updated"
            verb = "opened" if created else "updated"
            return Outcome(
                pull,
                action,
                f"{verb} pull request #{pull.number}: {pull.url} (closed #{superseded.number}, "
                f"from {superseded.head}, as superseded)",
            )
        if created:
            return Outcome(pull, "created", f"opened pull request #{pull.number}: {pull.url}")
        if changed:
            return Outcome(
                pull,
                "updated",
                f"updated pull request #{pull.number} ({', '.join(changed)}): {pull.url}",
            )
        return Outcome(pull, "unchanged", f"pull request #{pull.number} is up to date: {pull.url}")

    def file_url(self, commit: str, path: str) -> str | None:
        """`<web>/<owner>/<repo>/blob/<commit>/<path>?raw=true`: GitHub serves the bytes to anyone
        who may read the repository (private ones included), so the PR body shows the image."""
        if not self.web_origin:
            return None
        owner, repo = quote(self.owner, safe=""), quote(self.repo, safe="")
        return f"{self.web_origin}/{owner}/{repo}/blob/{commit}/{quote(path)}?raw=true"

    def comment(self, pull: PullRequest, marker: str, body: str) -> None:
        text = sticky_text(marker, body)
        what = f"read the comments of pull request #{pull.number}"
        for item in self.http.pages(f"{self._base}/issues/{pull.number}/comments", what=what):
            if str(item.get("body") or "").startswith(marker):
                if not same_text(item.get("body"), text):
                    self.http.request(
                        "PATCH",
                        f"{self._base}/issues/comments/{int(item['id'])}",
                        body={"body": text},
                        what=f"update the comment on pull request #{pull.number}",
                    )
                return
        self.http.request(
            "POST",
            f"{self._base}/issues/{pull.number}/comments",
            body={"body": text},
            what=f"comment on pull request #{pull.number}",
        )

    def _missing_reviewers(
        self, data: Mapping[str, Any], reviewers: Sequence[str]
    ) -> dict[str, list[str]]:
        """The users and teams (`org/team`) not yet asked to review; never the author.

        A reviewer who already reviewed is no longer "requested" on GitHub, so a re-run after a
        review asks again: a re-run means a new look is wanted.
        """
        author = str((data.get("user") or {}).get("login", "")).lower()
        users = {str(user["login"]).lower() for user in data.get("requested_reviewers") or []}
        teams = {str(team["slug"]).lower() for team in data.get("requested_teams") or []}
        want_users: list[str] = []
        want_teams: list[str] = []
        for raw in _unique(name.strip().lstrip("@") for name in reviewers):
            if "/" in raw:
                slug = raw.split("/", 1)[1]
                if slug.lower() not in teams and slug not in want_teams:
                    want_teams.append(slug)
            elif raw.lower() not in users and raw.lower() != author and raw not in want_users:
                want_users.append(raw)
        request = {}
        if want_users:
            request["reviewers"] = want_users
        if want_teams:
            request["team_reviewers"] = want_teams
        return request

    def _supersede(self, old: PullRequest, new: PullRequest) -> None:
        self.comment(old, SUPERSEDED_MARKER, f"Superseded by #{new.number} ({new.head}).")
        self.http.request(
            "PATCH",
            f"{self._base}/pulls/{old.number}",
            body={"state": "closed"},
            what=f"close the superseded pull request #{old.number}",
        )

    def _get(self, number: int) -> Mapping[str, Any]:
        data: Mapping[str, Any] = self.http.request(
            "GET", f"{self._base}/pulls/{number}", what=f"read pull request #{number}"
        ).data
        return data

    def _create(
        self, *, head: str, base: str, title: str, body: str
    ) -> tuple[Mapping[str, Any], bool]:
        what = f"open a pull request from {head} into {base}"
        response = self.http.request(
            "POST",
            f"{self._base}/pulls",
            body={"title": title, "head": head, "base": base, "body": body},
            expect=(201,),
            allow=(422,),
            what=what,
        )
        if response.status == 201:
            return response.data, True
        if "already exists" in response.message().lower():
            for item in self.http.pages(
                f"{self._base}/pulls",
                query={"state": "open", "head": f"{self.owner}:{head}"},
                what="find the open pull request",
            ):
                if self._ours(item) and item["head"]["ref"] == head:
                    return self._get(int(item["number"])), False
        raise self.http.error(response, what)

    def _ours(self, item: Mapping[str, Any]) -> bool:
        repo = item.get("head", {}).get("repo") or {}
        return str(repo.get("full_name", "")).lower() == f"{self.owner}/{self.repo}".lower()


def _pull(data: Mapping[str, Any]) -> PullRequest:
    state = "merged" if data.get("merged_at") else str(data.get("state", ""))
    return PullRequest(
        number=int(data["number"]),
        url=str(data.get("html_url", "")),
        head=str(data["head"]["ref"]),
        base=str(data["base"]["ref"]),
        title=str(data.get("title", "")),
        state=state,
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
