"""The forge interface: what a promotion asks of GitHub, GitLab or no forge at all.

A forge finds the open promotion pull request of a model, opens or updates it, and keeps one sticky
comment on it. Every client takes plain values; none reads ml.yaml or the stack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Action = Literal["created", "updated", "unchanged", "none"]


@dataclass(frozen=True)
class PullRequest:
    """An open (or closed) pull / merge request as the forge reports it.

    `number` is the number people see (GitHub's number, GitLab's iid); `state` is "open",
    "closed" or "merged" whatever the forge's own word.
    """

    number: int
    url: str
    head: str
    base: str
    title: str
    state: str


@dataclass(frozen=True)
class Outcome:
    """What `open_or_update` did; for the forge `none`, `message` is the compare command to print."""

    pull: PullRequest | None
    action: Action
    message: str


class Forge(Protocol):
    """A place where a promotion becomes a reviewed change."""

    def find_open(self, head_prefix: str) -> list[PullRequest]:
        """Open pull requests of this repository whose head branch starts with `head_prefix`."""
        ...

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
        """Update `update` (or the open one for `head`) or open a new one; the same call twice is
        "unchanged" the second time.

        When `update` comes from another head branch (an older version's), the new one is opened
        first, then the old one gets a "superseded" comment and is closed: forges cannot move a
        pull request to another branch, and one stays open per model.
        """
        ...

    def comment(self, pull: PullRequest, marker: str, body: str) -> None:
        """Keep one comment starting with `marker`: create it, or update it in place."""
        ...

    def file_url(self, commit: str, path: str) -> str | None:
        """Where the forge's web shows the raw bytes of `path` at `commit` (for images in a pull
        request body, which forges do not resolve relative to the repository), or None."""
        ...


SUPERSEDED_MARKER = "<!-- mlcode:superseded -->"


def same_text(stored: object, wanted: str) -> bool:
    """True when the forge's stored text is the text we would send: forges may turn line ends
    into CRLF or trim the ends, which is no change worth an update."""

    def norm(text: str) -> str:
        return text.replace("\r\n", "\n").strip()

    return norm(str(stored or "")) == norm(wanted)


def sticky_text(marker: str, body: str) -> str:
    """The text of a sticky comment: the body, starting with its marker."""
    return body if body.startswith(marker) else f"{marker}\n{body}"


def compare_commands(head: str, base: str) -> str:
    """The commands a person runs to review a promotion branch without a forge."""
    return f"git log --oneline {base}..{head}\ngit diff {base}...{head}"
