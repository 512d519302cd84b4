"""The forge `none`: no API at all; the promotion branch is reviewed with git itself."""

from __future__ import annotations

from collections.abc import Sequence

from mlcode.forge.base import Outcome, PullRequest, compare_commands


class NoForge:
    """A forge that opens nothing and tells how to compare the branch; it touches no network."""

    name = "none"

    def find_open(self, head_prefix: str) -> list[PullRequest]:
        return []

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
        return Outcome(None, "none", compare_commands(head, base))

    def comment(self, pull: PullRequest, marker: str, body: str) -> None:
        return None

    def file_url(self, commit: str, path: str) -> str | None:
        return None
