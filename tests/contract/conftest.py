"""Fixtures of the forge contract tests: a fake forge served on 127.0.0.1 per test, a client
pointed at it with a sentinel token, and a recorded (never real) sleep."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.contract.github_fake import GitHubFake
from tests.contract.gitlab_fake import GitLabFake
from tests.contract.server import ContractServer

SENTINEL = "sentinel-tok-3f9c2b7e1d"  # the token every test uses; it must never be shown
TOKEN_ENV = "MLCODE_TEST_FORGE_TOKEN"


@dataclass
class Clock:
    """A fake clock and sleep: `sleep` records the wait and moves the clock, never blocks."""

    now: float = 1_700_000_000.0
    slept: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def github() -> Iterator[ContractServer]:
    """GitHub (github.com's API layout) for `octo-org/models`; fails the test on any contract breach."""
    with ContractServer(GitHubFake(token=SENTINEL)) as server:
        yield server
        assert server.violations == [], "\n".join(server.violations)


@pytest.fixture
def gitlab() -> Iterator[ContractServer]:
    """GitLab (API under /api/v4) for `ml-group/vision/models`; fails the test on any contract breach."""
    with ContractServer(GitLabFake(token=SENTINEL)) as server:
        yield server
        assert server.violations == [], "\n".join(server.violations)
