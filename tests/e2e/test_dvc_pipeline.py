"""End to end: the dvc.yaml and params.yaml mlcode compiles are accepted and run by the real DVC
(`python -m dvc` of this interpreter) in real git repositories."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlcode.compile import dvc as cdvc
from mlcode.spec.load import load_project

pytestmark = pytest.mark.slow

PY = shlex.quote(sys.executable)


def env() -> dict[str, str]:
    """The test environment with this interpreter's scripts (`mlcode`) first on PATH."""
    out = dict(os.environ)
    out["PATH"] = str(Path(sys.executable).parent) + os.pathsep + out.get("PATH", "")
    return out


def sh(repo: Path, *args: str) -> str:
    result = subprocess.run(
        list(args), cwd=repo, capture_output=True, text=True, env=env(), check=False
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def dvc(repo: Path, *args: str) -> str:
    return sh(repo, sys.executable, "-m", "dvc", *args)


def compile_into(repo: Path) -> dict[str, str]:
    """Load repo/ml.yaml for real, write the compiled files, and `dvc init` when needed."""
    project = load_project(repo)
    files = cdvc.render(project.spec, project.stack)
    for name, text in files.items():
        (repo / name).write_text(text, encoding="utf-8")
    if not (repo / ".dvc").is_dir():
        dvc(repo, "init", "-q")
    return files


def write_spec(repo: Path, spec: dict[str, Any]) -> None:
    (repo / "ml.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")


def stage_names(repo: Path) -> list[str]:
    return dvc(repo, "stage", "list", "--name-only").split()


def status(repo: Path) -> dict[str, Any]:
    data = json.loads(dvc(repo, "status", "--json") or "{}")
    assert isinstance(data, dict)
    return data


def init_example(repo: Path, example: str) -> None:
    sh(repo, sys.executable, "-m", "mlcode", "init", "--example", example, "--project", "demo")


def test_example_pipeline_is_accepted_by_dvc(git_repo: Path) -> None:
    init_example(git_repo, "diabetes")
    compile_into(git_repo)
    assert stage_names(git_repo) == [
        "prepare_diabetes",
        "train_diabetes",
        "evaluate_diabetes",
        "drift_diabetes",
    ]
    dot = dvc(git_repo, "dag", "--dot")
    assert '"prepare_diabetes" -> "train_diabetes"' in dot
    assert '"train_diabetes" -> "evaluate_diabetes"' in dot
    assert set(status(git_repo)) == set(stage_names(git_repo))


def test_user_stages_reproduce_then_nothing_reruns(git_repo: Path) -> None:
    log = "print(*sys.argv[1:], file=open('runs.log', 'a'))"
    each = (
        f"{PY} -c \"import sys; open('each-' + sys.argv[1] + '.txt', 'w').write(sys.argv[1]); "
        f'{log}" ${{item}}'
    )
    grid = (
        f"{PY} -c \"import sys; open('grid-' + sys.argv[1] + '-' + sys.argv[2] + '.txt', "
        f"'w').write(sys.argv[1]); {log}\" ${{item.n}} ${{item.s}}"
    )
    combine = (
        f"{PY} -c \"import sys; open('all.txt', 'w').write(open('each-a.txt').read() + "
        f"open('each-b.txt').read()); {log}\" combine"
    )
    write_spec(
        git_repo,
        {
            "version": 1,
            "project": "demo",
            "stages": {
                "each": {
                    "foreach": ["a", "b"],
                    "do": {"cmd": each, "outs": ["each-${item}.txt"]},
                },
                "grid": {
                    "matrix": {"n": [1, 2], "s": ["x", "y"]},
                    "cmd": grid,
                    "outs": ["grid-${item.n}-${item.s}.txt"],
                },
                "combine": {
                    "cmd": combine,
                    "deps": ["each-a.txt", "each-b.txt"],
                    "outs": [{"all.txt": {"cache": False}}],
                },
            },
        },
    )
    compile_into(git_repo)
    assert sorted(stage_names(git_repo)) == [
        "combine",
        "each@a",
        "each@b",
        "grid@1-x",
        "grid@1-y",
        "grid@2-x",
        "grid@2-y",
    ]
    dvc(git_repo, "repro")
    assert (git_repo / "all.txt").read_text() == "ab"
    for n in (1, 2):
        for s in ("x", "y"):
            assert (git_repo / f"grid-{n}-{s}.txt").read_text() == str(n)
    runs = (git_repo / "runs.log").read_text().splitlines()
    assert sorted(runs) == sorted(["a", "b", "1 x", "1 y", "2 x", "2 y", "combine"])
    dvc(git_repo, "repro")
    assert (git_repo / "runs.log").read_text().splitlines() == runs  # nothing reran
    assert status(git_repo) == {}


def _builtin_spec(path: str, numeric: list[str], params: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": 1,
        "project": "demo",
        "data": {
            "train": {"path": path, "target": "label", "features": {"numeric": numeric}},
            "latest": {"path": "data/latest.csv", "features": {"numeric": numeric}},
        },
        "models": {
            "m": {
                "task": "classification",
                "data": "train",
                "estimator": "sklearn.linear_model.LogisticRegression",
                "params": params,
                "gates": {"drift": {"reference": "train", "current": "latest"}},
            }
        },
    }


def test_path_with_dollar_brace_is_used_literally_by_dvc(git_repo: Path) -> None:
    (git_repo / "data").mkdir()
    (git_repo / "data" / "${x}.csv").write_text("a,label\n1,y\n", encoding="utf-8")
    (git_repo / "data" / "latest.csv").write_text("a,label\n1,y\n", encoding="utf-8")
    write_spec(git_repo, _builtin_spec("data/${x}.csv", ["a"], {}))
    compile_into(git_repo)
    changes = status(git_repo)
    prepare_deps = next(c["changed deps"] for c in changes["prepare_m"] if "changed deps" in c)
    assert "data/${x}.csv" in prepare_deps
    drift_deps = next(c["changed deps"] for c in changes["drift_m"] if "changed deps" in c)
    assert "data/${x}.csv" in drift_deps


def test_adversarial_params_and_columns_are_accepted_by_dvc(git_repo: Path) -> None:
    nasty = ["a.b", "${x}", "yes", "1e3", "0o17", "it's", "é 日本", "&a", "*a", "[x]", "#c"]
    params = {f"p{i}": value for i, value in enumerate(nasty)}
    params["nested"] = {"list": nasty, "text": "line\nbreak ${{ x }} $(id) `id`"}
    write_spec(git_repo, _builtin_spec("data/train.csv", nasty, params))
    files = compile_into(git_repo)
    assert yaml.safe_load(files["params.yaml"])["m"]["params"] == params
    assert stage_names(git_repo) == ["prepare_m", "train_m", "evaluate_m", "drift_m"]
    changes = status(git_repo)
    assert set(changes) == {"prepare_m", "train_m", "evaluate_m", "drift_m"}
    for stage in changes.values():  # DVC read params.yaml for every stage's params
        assert any("params.yaml" in c.get("changed deps", {}) for c in stage)


def test_builtin_iris_pipeline_runs_end_to_end(git_repo: Path) -> None:
    init_example(git_repo, "iris")
    compile_into(git_repo)
    dvc(git_repo, "repro")
    metrics = json.loads((git_repo / "metrics" / "iris.json").read_text())
    assert set(metrics) == {"accuracy", "balanced_accuracy", "f1", "roc_auc"}
    assert metrics["accuracy"] > 0.8
    assert (git_repo / "models" / "iris" / "model.skops").is_file()
    assert (git_repo / "build" / "iris" / "drift-report.json").is_file()
    page = (git_repo / "build" / "iris" / "drift-report.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert page.count("<svg ") == 4  # one chart per iris feature
    drift = json.loads((git_repo / "metrics" / "iris-drift.json").read_text())
    assert set(drift) == {"drifted_share", "drifted_columns", "columns", "dataset_drift"}
    shown = json.loads(dvc(git_repo, "metrics", "show", "--json"))
    assert json.dumps(shown).count("accuracy") >= 1
    plots = json.loads(dvc(git_repo, "plots", "show", "--json"))
    # Each plot file is drawn once, with the template of its top-level definition.
    assert sorted(plots["data"]) == [
        "plots/iris/confusion.json",
        "plots/iris/precision_recall.json",
        "plots/iris/roc.json",
    ]
    assert status(git_repo) == {}
    out = dvc(git_repo, "repro")
    assert "Running stage" not in out
