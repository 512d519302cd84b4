"""The DVC remote as `mlcode retrain --pull/--push` and `mlcode run --push` meet it when it fails,
on the trained iris project (tests/e2e/projects.py) with the real DVC and, for S3, the rclone S3
server on 127.0.0.1 (tests/e2e/s3server.py):

- wrong S3 credentials, a local remote folder that does not exist, a remote under a dead mount:
  `retrain --pull` / `--push` refuses before any refresh or run (exit 3, one JSON object naming
  the remote and DVC's reason), the whole tree unchanged;
- a failed `dvc push` reads as what failed (the remote and its url), the cause once, and the
  command to rerun; never the Python binary's path or DVC's whole command line.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import BIN, env, git, mlcode, snapshot
from tests.e2e.retrain_project import set_retrain
from tests.e2e.s3server import S3Server

pytestmark = pytest.mark.slow

REMOTE = "local-storage"  # the local stack's DVC remote in the trained iris project


def _dvc(repo: Path, *args: str) -> None:
    subprocess.run([str(BIN / "dvc"), *args], cwd=repo, env=env(), check=True, capture_output=True)


def _state(repo: Path) -> tuple[dict[str, bytes], str, str, str]:
    return (
        snapshot(repo),
        git(repo, "ls-files", "-s"),
        git(repo, "for-each-ref"),
        git(repo, "ls-remote", "origin"),
    )


def _refused(repo: Path, *args: str) -> dict[str, Any]:
    """`mlcode retrain ARGS --json` refuses as a whole run (exit 3, no model reached) and
    changes nothing; returns its JSON."""
    before = _state(repo)
    result = mlcode(repo, "retrain", "--json", *args)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    assert (doc["outcome"], doc["exit_code"], doc["models"]) == ("error", 3, []), doc
    assert "nothing was refreshed or run" in doc["error"]
    assert doc["hint"]
    assert _state(repo) == before
    return doc


def test_wrong_s3_credentials_are_refused_before_any_work(
    trained_iris: Path, tmp_path: Path
) -> None:
    repo = trained_iris
    server = S3Server(tmp_path / "s3")
    server.start()
    try:
        server.use_as_dvc_remote(repo, REMOTE)
        git(repo, "commit", "-qam", "the DVC remote is the S3 bucket")
        _dvc(repo, "remote", "modify", "--local", REMOTE, "secret_access_key", "wrong")
        for flags in (["--pull"], ["--push"]):
            doc = _refused(repo, *flags)
            assert doc["error"].startswith(
                f"the DVC remote '{REMOTE}' (s3://{server.bucket}/dvc) cannot be used for "
                f"{flags[0]}: "
            ), doc["error"]
            assert "SignatureDoesNotMatch" in doc["error"] or "signature" in doc["error"].lower()
        assert server.objects() == set()
        # the right credentials: an empty bucket prefix is fine, the run goes on
        from tests.e2e.s3server import SECRET_KEY

        _dvc(repo, "remote", "modify", "--local", REMOTE, "secret_access_key", SECRET_KEY)
        set_retrain(repo, "{when: always}")
        result = mlcode(repo, "retrain", "--json", "--push")
        doc = json.loads(result.stdout)
        assert [m["model"] for m in doc["models"]] == ["iris"], doc
        run = doc["models"][0]["steps"]["run"]
        assert run["status"] == "done", doc
        assert "pushed to the DVC remote" in run["detail"]
        assert server.objects("dvc")
    finally:
        server.stop()


def test_a_local_remote_that_does_not_exist_is_refused_for_pull(trained_iris: Path) -> None:
    repo = trained_iris
    _dvc(repo, "remote", "modify", REMOTE, "url", "../../nowhere/storage")
    git(repo, "commit", "-qam", "a remote path with a typo")
    doc = _refused(repo, "--pull")
    assert "does not exist" in doc["error"]
    assert "../../nowhere/storage" in doc["error"]


def test_a_remote_under_a_dead_mount_is_refused_for_push(
    trained_iris: Path, tmp_path: Path
) -> None:
    repo = trained_iris
    storage = repo.parent / ".mlcode-storage"
    storage.symlink_to(tmp_path / "unmounted")  # the mount went away: DVC cannot create it
    doc = _refused(repo, "--push")
    assert "symbolic link to nothing" in doc["error"]


def test_a_failed_push_says_what_failed_the_cause_once_and_the_rerun(
    trained_iris: Path, tmp_path: Path
) -> None:
    """`mlcode run --push` has no pre-check: DVC's failure itself must read well."""
    repo = trained_iris
    (repo.parent / ".mlcode-storage").symlink_to(tmp_path / "unmounted")
    result = mlcode(repo, "run", "--push", "--json")
    assert result.returncode == 3, result.stdout + result.stderr
    err = result.stderr
    assert "Traceback" not in err
    flat = " ".join(err.split())
    assert (
        flat.startswith(
            f"Error: `dvc push` to the DVC remote '{REMOTE}' (../../.mlcode-storage/project) failed"
        )
        or f"`dvc push` to the DVC remote '{REMOTE}' (../../.mlcode-storage/project) failed" in flat
    )
    assert "No such file or directory" in flat
    assert "then rerun: dvc push --run-cache --with-deps evaluate_iris" in flat
    assert str(BIN) not in err
    assert "-m dvc" not in err
    assert "Having any troubles" not in err
