"""`mlcode run` and `mlcode step`: errors, the metrics table, and a real run through DVC."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlcode import metrics_table
from mlcode.cli import COMMANDS, cli
from mlcode.cli.boundary import run_guarded
from mlcode.metrics_table import MetricChange


def sh(cmd: list[str], cwd: Path) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True)


RUN = ("mlcode.cli.run:command", "Reproduce the pipeline through DVC and show metrics.")
STEP = ("mlcode.cli.step:command", "Run one built-in pipeline step (what dvc.yaml calls).")


@pytest.fixture(autouse=True)
def _commands(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register run and step (the lead adds them to COMMANDS; setdefault keeps theirs)."""
    monkeypatch.setitem(COMMANDS, "run", COMMANDS.get("run", RUN))
    monkeypatch.setitem(COMMANDS, "step", COMMANDS.get("step", STEP))


def mlcode_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Put this environment's `mlcode` first on PATH, so DVC's stages find `mlcode step`.

    Until `step` is registered in mlcode.cli.COMMANDS, a shim script registers it first.
    """
    dirs = [str(Path(sys.executable).parent)]
    if "step" not in COMMANDS or COMMANDS["step"] is STEP:
        shim = tmp_path / "shim-bin"
        shim.mkdir(exist_ok=True)
        script = shim / "mlcode"
        script.write_text(
            f"#!{sys.executable}\n"
            "from mlcode.cli import COMMANDS, main\n"
            f"COMMANDS.setdefault('step', {STEP!r})\n"
            "main()\n"
        )
        script.chmod(0o755)
        dirs.insert(0, str(shim))
    monkeypatch.setenv("PATH", os.pathsep.join([*dirs, os.environ.get("PATH", "")]))


def _example(repo: Path, example: str = "iris") -> None:
    assert run_guarded(cli, ["-C", str(repo), "init", "--example", example]) == 0


def test_run_without_dvc_yaml_says_apply_first(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _example(git_repo)
    capsys.readouterr()
    assert run_guarded(cli, ["-C", str(git_repo), "run"]) == 3
    err = capsys.readouterr().err
    assert "dvc.yaml not found" in err
    assert "mlcode apply" in err
    assert "Traceback" not in err


def test_run_unknown_model_lists_models(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _example(git_repo)
    capsys.readouterr()
    assert run_guarded(cli, ["-C", str(git_repo), "run", "irsi"]) == 3
    err = capsys.readouterr().err
    assert "unknown model(s) irsi; models in ml.yaml: iris" in err


def test_run_outside_git_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_guarded(cli, ["-C", str(tmp_path), "run"]) == 3
    assert "not inside a git repository" in capsys.readouterr().err


def test_step_failure_exits_3_with_one_paragraph(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_guarded(cli, ["-C", str(tmp_path), "step", "train", "churn"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("Error: model 'churn', stage train_churn: params.yaml not found")
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2


def test_step_rejects_unknown_steps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_guarded(cli, ["-C", str(tmp_path), "step", "deploy", "churn"]) == 2
    assert "prepare" in capsys.readouterr().err


def test_metrics_table_merges_values_and_dvc_diff() -> None:
    files = {"a": "metrics/a.json", "b": "metrics/b.json", "c": "metrics/c.json"}
    current = {"a": {"f1": 0.9, "accuracy": 0.8}, "b": {"r2": 0.5}, "c": None}
    diff = {
        "metrics/a.json": {"f1": {"old": 0.85, "new": 0.9, "diff": 0.05}},
        "metrics/b.json": {"r2": {"old": None, "new": 0.5}},
    }
    table = metrics_table.build(files, current, diff, order={"a": ("f1", "accuracy")})
    assert list(table["a"]) == ["f1", "accuracy"]
    assert table["a"]["f1"] == MetricChange(0.9, 0.85, 0.05)
    assert table["a"]["accuracy"] == MetricChange(0.8, 0.8, 0.0)  # absent from diff: unchanged
    assert table["b"]["r2"] == MetricChange(0.5, None, None)  # file not in HEAD
    assert table["c"] == {}
    text = metrics_table.render(table)
    assert "+0.0500" in text
    assert "no change" in text
    assert "new (not in HEAD)" in text
    assert "no metrics yet" in text
    # No commit yet: nothing to compare with.
    none = metrics_table.build(files, current, None)
    assert none["a"]["f1"] == MetricChange(0.9, None, None)
    assert metrics_table.to_json(none)["a"]["f1"] == {"value": 0.9, "old": None, "diff": None}


def test_flatten_nested_metrics_like_dvc() -> None:
    data = {"auc": 0.7, "per_class": {"a": {"f1": 0.5}}, "ok": True, "name": "x"}
    assert metrics_table.flatten(data) == {"auc": 0.7, "per_class.a.f1": 0.5, "ok": 1.0}


@pytest.mark.slow
def test_run_reproduces_then_runs_nothing(
    git_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlcode.compile import compile_project
    from mlcode.spec.load import load_project

    mlcode_on_path(git_repo.parent, monkeypatch)
    _example(git_repo, "wine")
    sh([sys.executable, "-m", "dvc", "init", "-q"], git_repo)
    project = load_project(git_repo)
    for rel, text in compile_project(project.spec, project.stack).items():
        (git_repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (git_repo / rel).write_text(text)
    capsys.readouterr()

    assert run_guarded(cli, ["-C", str(git_repo), "run", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["ran"] is True
    wine = first["models"]["wine"]
    assert list(wine) == ["accuracy", "f1", "roc_auc", "log_loss"]
    assert wine["accuracy"]["old"] is None  # no commit yet
    assert 0.8 < wine["accuracy"]["value"] <= 1.0

    sh(["git", "add", "-A"], git_repo)
    sh(["git", "commit", "-q", "-m", "first run"], git_repo)
    assert run_guarded(cli, ["-C", str(git_repo), "run"]) == 0
    out = capsys.readouterr().out
    assert "Everything is up to date; nothing to run." in out
    assert "accuracy" in out
    assert "no change" in out

    assert run_guarded(cli, ["-C", str(git_repo), "run", "wine", "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["ran"] is False
    assert again["models"]["wine"]["accuracy"]["diff"] == 0.0
