"""DVC's model registry reads mlcode's projects: the compiled dvc.yaml declares each model under
`artifacts:`, so after a version is registered and a stage assigned with the real `gto` (annotated
tags) and pushed, `dvc artifacts get <repo> iris --stage prod` run from a fresh directory fetches
exactly the model file of that version from the DVC remote.

The local stack's DVC remote is a path relative to the repository (`../.mlcode-storage/<project>`).
`dvc artifacts get` on a bare git URL clones into a temporary folder, where that relative path
points nowhere; the consumer then names the storage (`--remote-config url=...`), or fetches from a
clone that sits beside the storage. Both are shown here, and the failure without either.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.e2e.helpers import BIN, env, git

pytestmark = pytest.mark.slow

MODEL_FILE = "models/iris/model.skops"


def _run(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(
        list(args), cwd=cwd, capture_output=True, text=True, env=_env(), check=False
    )
    if check and out.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {out.returncode}\n{out.stdout}{out.stderr}")
    return out


def _env() -> dict[str, str]:
    out = env()
    out["DVC_NO_ANALYTICS"] = "1"
    return out


def _get(cwd: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return _run(
        cwd, str(BIN / "dvc"), "artifacts", "get", url, "iris", "--stage", "prod", *extra,
        check=False,
    )  # fmt: skip


def test_dvc_artifacts_get_fetches_the_prod_model(trained_iris: Path, tmp_path: Path) -> None:
    repo = trained_iris
    storage = (repo.parent / ".mlcode-storage" / "project").resolve()
    origin = (repo.parent / "origin.git").resolve()
    declared = yaml.safe_load((repo / "dvc.yaml").read_text(encoding="utf-8"))["artifacts"]
    assert declared["iris"]["path"] == MODEL_FILE
    assert declared["iris"]["type"] == "model"

    # Data before pointer: the trained model reaches the remote before any tag names it.
    _run(repo, str(BIN / "dvc"), "push", "-q")
    prod_bytes = (repo / MODEL_FILE).read_bytes()
    gto = str(BIN / "gto")
    _run(repo, gto, "register", "iris", "--version", "v1.0.0")
    _run(repo, gto, "assign", "iris", "--version", "v1.0.0", "--stage", "prod")
    for tag in ("iris@v1.0.0", "iris#prod#1"):
        assert git(repo, "cat-file", "-t", tag).strip() == "tag"  # annotated, GTO's grammar

    # A later version with different bytes (a stand-in for a retrained model), registered but
    # not in prod: `--stage prod` must still fetch v1.0.0.
    (repo / MODEL_FILE).write_bytes(prod_bytes + b"\0")
    _run(repo, str(BIN / "dvc"), "commit", "-q", "-f", "train_iris")
    git(repo, "commit", "-qam", "iris: a newer model")
    _run(repo, str(BIN / "dvc"), "push", "-q")
    _run(repo, gto, "register", "iris", "--version", "v1.1.0")
    git(repo, "push", "-q", "origin", "main", "--tags")

    # 1. The bare origin, with the storage named: nothing of the working copy is used.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    got = _get(fresh, str(origin), "--remote-config", f"url={storage}")
    assert got.returncode == 0, got.stdout + got.stderr
    assert (fresh / "model.skops").read_bytes() == prod_bytes

    # 2. A fresh clone beside the storage: its relative remote resolves, no option needed.
    clone = repo.parent / "clone"
    git(repo.parent, "clone", "-q", str(origin), str(clone))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    got = _get(elsewhere, str(clone))
    assert got.returncode == 0, got.stdout + got.stderr
    assert (elsewhere / "model.skops").read_bytes() == prod_bytes

    # 3. The bare origin alone: DVC clones it into a temporary folder, where the relative
    #    remote path points nowhere (what the README tells consumers of the local stack).
    alone = tmp_path / "alone"
    alone.mkdir()
    got = _get(alone, str(origin))
    assert got.returncode != 0
    assert ".mlcode-storage/project" in got.stderr
    assert not (alone / "model.skops").exists()
