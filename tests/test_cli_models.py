"""`mlcode models`: the registry from git tags as a table or JSON, equal to what the real `gto show
--json` and `gto history --json` print for the same repository; light (no ml.yaml, no pydantic);
clear outside git, helpful when empty."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import BIN, mlcode
from tests.registry_repos import T0, commit, init, lightweight, tag


def gto(repo: Path, *args: str) -> Any:
    out = subprocess.run(
        [str(BIN / "gto"), *args, "--json"],
        cwd=repo,
        capture_output=True,
        text=True,
        env=os.environ,
        check=True,
    ).stdout
    return json.loads(out)


def models_json(repo: Path, *args: str) -> Any:
    result = mlcode(repo, "models", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def registry_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two models (one in a subfolder, one deprecated), several stages, a reassignment, a
    deregistered version, an unassigned stage, a lightweight tag and tags of other shapes."""
    repo = init(tmp_path_factory.mktemp("models") / "repo")
    c1 = commit(repo, "one", T0)
    c2 = commit(repo, "two", T0 + 10)
    c3 = commit(repo, "three", T0 + 20)
    tag(repo, "iris@v0.1.0", c1, T0)
    tag(repo, "iris#prod#1", c1, T0)
    tag(repo, "iris@v0.2.0", c2, T0 + 10)
    tag(repo, "iris#staging#2", c2, T0 + 10)
    tag(repo, "iris#prod#3", c2, T0 + 11)
    tag(repo, "iris@v0.3.0", c3, T0 + 20)
    tag(repo, "iris#prod#4", c3, T0 + 21)
    tag(repo, "iris@v0.3.0!", c3, T0 + 22)  # deregistered: prod falls back to v0.2.0
    tag(repo, "iris#staging!#5", c2, T0 + 22)
    tag(repo, "models=wine@v1.0.0", c1, T0 + 1)
    tag(repo, "models=wine#dev#1", c1, T0 + 1)
    tag(repo, "old@v0.0.1", c1, T0)
    tag(repo, "old@deprecated", c1, T0 + 5)
    lightweight(repo, "iris#prod#9", c1)
    tag(repo, "v1.0.0", c3, T0 + 30)
    tag(repo, "iris@1.0", c3, T0 + 30)
    return repo


def without(d: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k != key}


@pytest.mark.slow
def test_json_equals_gto_show_and_history(registry_repo: Path) -> None:
    ours = models_json(registry_repo)["models"]
    assert {name: without(m, "created") for name, m in ours.items()} == gto(registry_repo, "show")
    assert ours["iris"]["version"] == "v0.2.0"
    assert ours["iris"]["stage"] == {"dev": None, "prod": "v0.2.0"}
    assert "old" not in ours
    for model in ("iris", "models:wine", "old"):
        mine = models_json(registry_repo, model)
        theirs = gto(registry_repo, "show", model)
        assert [v["version"] for v in mine["versions"]] == [v["version"] for v in theirs]
        assert [v["commit"] for v in mine["versions"]] == [v["commit_hexsha"] for v in theirs]
        assert [v["stages"] for v in mine["versions"]] == [
            sorted(s["stage"] for s in v["stages"]) for v in theirs
        ]
        history = gto(registry_repo, "history", model)
        assert [without(e, "model") for e in mine["history"]] == [
            {
                "timestamp": e["timestamp"],
                "event": e["event"],
                "version": e["version"],
                "stage": e["stage"],
                "commit": e["commit"],
                "author": e["author"],
                "author_email": e["author_email"],
                "message": e["message"],
                "tag": e["ref"],
            }
            for e in history
        ]
    assert models_json(registry_repo, "old")["deprecated"] is True


def test_table_shows_latest_and_each_stage(registry_repo: Path) -> None:
    result = mlcode(registry_repo, "models")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # staging was unassigned: no version is in it, so (as in `gto show`) it is no column
    assert lines[0].split() == ["model", "latest", "#dev", "#prod", "registered"]
    assert lines[1].split()[:4] == ["iris", "v0.2.0", "-", "v0.2.0"]
    assert lines[2].split()[:4] == ["models:wine", "v1.0.0", "v1.0.0", "-"]
    assert len(lines) == 3  # the deprecated model is not listed, as in `gto show`


def test_one_model_shows_versions_and_history(registry_repo: Path) -> None:
    result = mlcode(registry_repo, "models", "iris")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "v0.2.0   prod" in out
    assert "v0.3.0" in out  # in the history: registered, then deregistered
    assert "deregistration" in out
    assert "unassignment" in out
    assert "iris#prod#9" not in out  # lightweight: ignored


def test_unknown_model_is_a_clear_error(registry_repo: Path) -> None:
    result = mlcode(registry_repo, "models", "nope")
    assert result.returncode == 3
    assert "'nope' has no tag in the registry" in result.stderr
    assert "iris" in result.stderr
    assert "Traceback" not in result.stderr


def test_outside_git_exit_3(tmp_path: Path) -> None:
    result = mlcode(tmp_path, "models")
    assert result.returncode == 3
    assert "not inside a git repository" in result.stderr


def test_empty_registry_says_so(git_repo: Path) -> None:
    result = mlcode(git_repo, "models")
    assert result.returncode == 0
    assert "No models in the registry yet" in result.stdout
    assert json.loads(mlcode(git_repo, "models", "--json").stdout) == {"models": {}}


def test_only_deprecated_models_says_so(tmp_path: Path) -> None:
    repo = init(tmp_path / "repo")
    sha = commit(repo, "one")
    tag(repo, "old@v0.0.1", sha)
    tag(repo, "old@deprecated", sha, T0 + 1)
    result = mlcode(repo, "models")
    assert result.returncode == 0
    assert "deprecated (old)" in result.stdout


# Runs the real entry point and writes the top-level names of every module loaded.
WRAPPER = """
import atexit, json, sys
OUT = sys.argv[1]
atexit.register(lambda: json.dump(sorted(sys.modules), open(OUT, "w")))
from mlcode.cli import main
sys.argv = ["mlcode", *sys.argv[2:]]
main()
"""


@pytest.mark.parametrize("args", [[], ["iris"], ["--json"]])
def test_models_loads_no_project_and_no_heavy_module(
    registry_repo: Path, tmp_path: Path, args: list[str]
) -> None:
    out = tmp_path / "modules.json"
    subprocess.run(
        [sys.executable, "-c", WRAPPER, str(out), "-C", str(registry_repo), "models", *args],
        check=True,
        capture_output=True,
        env=os.environ,
    )
    loaded = set(json.loads(out.read_text()))
    tops = {m.split(".")[0] for m in loaded}
    assert "mlcode.registry.read" in loaded  # the probe saw the command run
    assert (
        tops & {"pydantic", "yaml", "ruamel", "dvc", "pandas", "sklearn", "gto", "jsonschema"}
        == set()
    )
    assert not any(
        m.startswith(("mlcode.spec", "mlcode.project", "mlcode.compile")) for m in loaded
    )


def gto_cli(repo: Path, *args: str) -> None:
    subprocess.run(
        [str(BIN / "gto"), *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env=os.environ,
        check=True,
    )


@pytest.mark.slow
def test_registry_written_by_gto_cli_and_mlcode_reads_the_same(tmp_path: Path) -> None:
    """The real `gto` command writes most of the registry, mlcode's writer the rest; `mlcode
    models --json` equals `gto show --json` / `gto history --json` on it."""
    from mlcode.registry.write import assign, register

    repo = init(tmp_path / "repo")
    commit(repo, "one")
    gto_cli(repo, "register", "iris")  # v0.0.1 on HEAD
    gto_cli(repo, "assign", "iris", "--version", "v0.0.1", "--stage", "prod")
    c2 = commit(repo, "two", T0 + 60)
    register(repo, "iris", "v0.1.0", c2, "mlcode registers")
    assign(repo, "iris", "staging", "v0.1.0", "mlcode assigns staging")
    assign(repo, "iris", "prod", "v0.1.0", "mlcode assigns prod")
    gto_cli(repo, "deprecate", "iris", "v0.1.0", "staging")  # unassign
    c3 = commit(repo, "three", T0 + 120)
    register(repo, "iris", "v1.0.0", c3, "mlcode registers")
    gto_cli(repo, "deprecate", "iris", "v1.0.0")  # deregister
    register(repo, "old", "v0.0.1", c3, "mlcode registers")
    gto_cli(repo, "deprecate", "old")  # deprecate the model
    ours = models_json(repo)["models"]
    assert {name: without(m, "created") for name, m in ours.items()} == gto(repo, "show")
    assert ours["iris"]["stage"]["prod"] == "v0.1.0"
    mine = models_json(repo, "iris")
    assert [e["tag"] for e in mine["history"]] == [e["ref"] for e in gto(repo, "history", "iris")]
    assert [v["version"] for v in mine["versions"]] == [
        v["version"] for v in gto(repo, "show", "iris")
    ]
