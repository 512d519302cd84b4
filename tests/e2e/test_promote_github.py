"""`mlcode promote` on a GitHub stack, end to end: the real git pushes to a bare repository that
plays GitHub's git side (through git's `insteadOf`), and the forge contract server plays GitHub's
REST API, checking every request and answer against GitHub's own OpenAPI description. One pull
request per model; a sentinel token and a sentinel DVC remote key appear nowhere."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.contract.github_fake import GitHubFake
from tests.contract.server import ContractServer
from tests.e2e.helpers import BIN, env, git
from tests.e2e.promote_helpers import gto_show, origin, remote_refs

pytestmark = pytest.mark.slow

TOKEN = "sentinel-promote-tok-5b1e9d"  # a sentinel, never a real token
REMOTE_KEY = "sentinel-remote-key-8c2f4a"
TOKEN_ENV = "PROMOTE_TEST_TOKEN"
GITHUB_URL = "https://github.com/octo-org/models.git"


class PushedBranches:
    """The fake GitHub's branches: those the bare repository holds (what was really pushed)."""

    def __init__(self, bare: Path) -> None:
        self.bare = bare

    def __contains__(self, name: object) -> bool:
        return bool(git(self.bare, "for-each-ref", f"refs/heads/{name}").strip())

    def add(self, name: str) -> None:
        return None


@pytest.fixture
def github_project(trained_iris: Path) -> Iterator[tuple[Path, ContractServer]]:
    repo = trained_iris
    fake = GitHubFake(token=TOKEN)
    fake.branches = PushedBranches(origin(repo))  # type: ignore[assignment]
    with ContractServer(fake) as server:
        (repo / "stack.yaml").write_text(
            "name: hub\n"
            f"forge: {{type: github, api_url: '{server.url}', token_env: {TOKEN_ENV}}}\n"
            "remote: {type: local, url: ../.mlcode-storage/project}\n"
        )
        text = (repo / "ml.yaml").read_text().replace("stack: local ", "stack: stack.yaml ")
        text = text.replace(
            "promotion: {mode: pr, stage: prod}",
            "promotion: {mode: pr, stage: prod, labels: [model-promotion], reviewers: [alice]}",
        )
        (repo / "ml.yaml").write_text(text)
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "GitHub stack")
        git(repo, "push", "-q", "origin", "main")
        # the remote names the GitHub repository; git's own rewriting sends pushes to the bare one
        git(repo, "remote", "set-url", "origin", GITHUB_URL)
        git(repo, "config", f"url.{origin(repo)}.insteadOf", GITHUB_URL)
        # a DVC remote key in the place DVC keeps them (.dvc/config.local), on a spare remote
        subprocess.run(
            ["dvc", "remote", "add", "--local", "spare", "s3://bucket/spare"],
            cwd=repo,
            env=env(),
            check=True,
        )
        subprocess.run(
            ["dvc", "remote", "modify", "--local", "spare", "secret_access_key", REMOTE_KEY],
            cwd=repo,
            env=env(),
            check=True,
        )
        yield repo, server
        assert server.violations == [], "\n".join(server.violations)


def _promote(repo: Path, *args: str) -> tuple[dict[str, object], str]:
    result = subprocess.run(
        [str(BIN / "mlcode"), "promote", "--json", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**env(), TOKEN_ENV: TOKEN, "AWS_SECRET_ACCESS_KEY": REMOTE_KEY},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    return data, result.stdout + result.stderr


def _retrain(repo: Path, trees: int) -> None:
    text = (repo / "ml.yaml").read_text()
    start = text.index("n_estimators: ") + len("n_estimators: ")
    end = text.index(",", start)
    (repo / "ml.yaml").write_text(text[:start] + str(trees) + text[end:])
    for args in (["apply", "--auto-approve"], ["run"]):
        subprocess.run(
            [str(BIN / "mlcode"), *args],
            cwd=repo,
            env=env(),
            check=True,
            capture_output=True,
        )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", f"{trees} trees")
    git(repo, "push", "-q", "origin", "main")


def _everything(repo: Path) -> bytes:
    """Every byte a secret could hide in: each file under the project's folder (origin, DVC remote
    included) and every git object, decompressed."""
    blobs = [
        p.read_bytes() for p in repo.parent.rglob("*") if p.is_file() and p.name != "config.local"
    ]
    objects = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch"],
        cwd=repo,
        capture_output=True,
        check=True,
    ).stdout
    remote_objects = subprocess.run(
        ["git", "cat-file", "--batch-all-objects", "--batch"],
        cwd=origin(repo),
        capture_output=True,
        check=True,
    ).stdout
    return b"\n".join([*blobs, objects, remote_objects])


def test_one_pull_request_per_model_and_no_secret_anywhere(
    github_project: tuple[Path, ContractServer],
) -> None:
    repo, server = github_project
    fake = server.fake
    assert isinstance(fake, GitHubFake)
    first, log1 = _promote(repo)
    (model,) = first["models"]  # type: ignore[misc]
    assert model["pull"]["action"] == "created"
    assert len(fake.pulls) == 1
    pull = fake.pulls[1]
    assert pull.head == "mlcode/promote/iris/v0.1.0"
    assert pull.base == "main"
    assert pull.title == "Promote iris v0.1.0"
    assert "mlcode gates: passed" in pull.body
    assert pull.labels == ["model-promotion"]
    assert pull.reviewers == ["alice"]

    # twice: the same pull request, unchanged; no new ref
    refs_once = remote_refs(repo)
    again, log2 = _promote(repo)
    assert again["models"][0]["pull"]["action"] == "unchanged"  # type: ignore[index]
    assert len(fake.pulls) == 1
    assert remote_refs(repo) == refs_once

    # a retrained model while the pull request is open: the same pull request, its head moved
    _retrain(repo, 60)
    third, log3 = _promote(repo)
    newer = third["models"][0]  # type: ignore[index]
    assert newer["version"] == "v0.2.0"
    assert newer["branch"] == "mlcode/promote/iris/v0.1.0"  # the open pull request's head
    assert newer["pull"]["action"] == "updated"
    assert len(fake.pulls) == 1
    assert fake.pulls[1].title == "Promote iris v0.2.0"
    on_origin = remote_refs(repo)
    assert on_origin["refs/heads/mlcode/promote/iris/v0.1.0"] == newer["commit"]
    assert "refs/tags/iris@v0.1.0" in on_origin  # the older version stays registered
    assert "refs/tags/iris@v0.2.0" in on_origin
    shown = gto_show(repo)
    assert shown["iris"]["version"] == "v0.2.0"
    assert not shown["iris"]["stage"].get("prod")  # never staged before it lands

    # the token and the remote key: in no output, request body, file, commit or tag
    seen = "\n".join([log1, log2, log3, *(json.dumps(e.body) for e in server.exchanges)])
    assert TOKEN not in seen
    assert REMOTE_KEY not in seen
    everything = _everything(repo)
    assert TOKEN.encode() not in everything
    assert REMOTE_KEY.encode() not in everything


def test_a_forge_failure_after_the_push_is_completed_by_running_again(
    github_project: tuple[Path, ContractServer],
) -> None:
    repo, server = github_project
    fake = server.fake
    assert isinstance(fake, GitHubFake)
    bad = {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
    server.fail("pulls/create", 401, bad)
    result = subprocess.run(
        [str(BIN / "mlcode"), "promote"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**env(), TOKEN_ENV: TOKEN},
        check=False,
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert fake.pulls == {}
    pushed = remote_refs(repo)
    assert "refs/tags/iris@v0.1.0" in pushed  # step f happened; step g failed
    # running it again finishes the same promotion: no new version, the pull request opened
    done, _ = _promote(repo)
    model = done["models"][0]  # type: ignore[index]
    assert model["version"] == "v0.1.0"
    assert model["new_version"] is False
    assert model["pull"]["action"] == "created"
    assert len(fake.pulls) == 1
    assert remote_refs(repo) == pushed
