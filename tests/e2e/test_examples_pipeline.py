"""Every bundled example through the real DVC: the compiled pipeline reproduces with the built-in
steps, DVC alone reads the metrics and plots, and a change to one model re-runs only that model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlcode.cli import COMMANDS, cli
from mlcode.cli.boundary import run_guarded
from mlcode.compile import compile_project
from mlcode.layout import model_paths, plot_kinds
from mlcode.project.scaffold import EXAMPLES
from mlcode.spec.load import load_project

pytestmark = pytest.mark.slow

RUN = ("mlcode.cli.run:command", "Reproduce the pipeline through DVC and show metrics.")
STEP = ("mlcode.cli.step:command", "Run one built-in pipeline step (what dvc.yaml calls).")


@pytest.fixture(autouse=True)
def _mlcode_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This environment's `mlcode` first on PATH so DVC finds `mlcode step`.

    While `run`/`step` are not yet registered in mlcode.cli.COMMANDS, register them here and give
    DVC a shim script that does the same.
    """
    dirs = [str(Path(sys.executable).parent)]
    if "step" not in COMMANDS:
        shim = tmp_path / "shim-bin"
        shim.mkdir()
        script = shim / "mlcode"
        script.write_text(
            f"#!{sys.executable}\n"
            "from mlcode.cli import COMMANDS, main\n"
            f"COMMANDS.setdefault('step', {STEP!r})\n"
            "main()\n"
        )
        script.chmod(0o755)
        dirs.insert(0, str(shim))
    monkeypatch.setitem(COMMANDS, "run", COMMANDS.get("run", RUN))
    monkeypatch.setitem(COMMANDS, "step", COMMANDS.get("step", STEP))
    monkeypatch.setenv("PATH", os.pathsep.join([*dirs, os.environ.get("PATH", "")]))


def sh(cwd: Path, *cmd: str) -> str:
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(cmd)}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def dvc(cwd: Path, *args: str) -> str:
    return sh(cwd, sys.executable, "-m", "dvc", *args)


def compile_into(root: Path) -> None:
    """Write the compiled files (what `mlcode apply` writes) without apply's other steps."""
    project = load_project(root)
    for rel, text in compile_project(project.spec, project.stack).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


@pytest.mark.parametrize("example", sorted(EXAMPLES))
def test_example_reproduces_and_dvc_reads_its_metrics_and_plots(
    git_repo: Path, example: str
) -> None:
    assert run_guarded(cli, ["-C", str(git_repo), "init", "--example", example]) == 0
    dvc(git_repo, "init", "-q")
    compile_into(git_repo)
    dvc(git_repo, "repro")

    spec = load_project(git_repo).spec
    (name, model), *_ = spec.models.items()
    paths = model_paths(name)  # the examples use the built-in evaluate step
    metrics = json.loads((git_repo / paths.metrics).read_text())
    assert list(metrics) == list(model.resolved_metrics)
    assert all(isinstance(v, float) for v in metrics.values())
    for kind in plot_kinds(model.task):
        assert json.loads((git_repo / paths.plot(kind)).read_text())

    shown = json.loads(dvc(git_repo, "metrics", "show", "--json"))
    (workspace,) = shown.values()  # DVC 3 keys the workspace as ""
    files = workspace["data"]
    assert files[paths.metrics]["data"] == metrics
    if model.gates.drift is not None:
        assert paths.drift_metrics in files
    plots = json.loads(dvc(git_repo, "plots", "show", "--json"))
    assert not plots.get("errors")
    for kind in plot_kinds(model.task):
        rendered = plots["data"][paths.plot(kind)][0]
        assert rendered["type"] == "vega"
        assert rendered["content"]["data"]["values"]
    status = json.loads(dvc(git_repo, "status", "--json"))
    assert status == {}


def _two_models(repo: Path) -> None:
    """The iris data with two models on it and no gates."""
    assert run_guarded(cli, ["-C", str(repo), "init", "--example", "iris"]) == 0
    spec = yaml.safe_load((repo / "ml.yaml").read_text())
    forest = spec["models"]["iris"]
    forest.pop("gates")
    forest["params"] = {"n_estimators": 30, "max_depth": 3, "random_state": 0}
    spec["models"] = {
        "forest": forest,
        "linear": {
            "task": "classification",
            "data": "iris",
            "estimator": "sklearn.linear_model.LogisticRegression",
            "params": {"C": 1.0, "max_iter": 1000},
            "metrics": ["accuracy", "log_loss"],
        },
    }
    (repo / "ml.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))


def _mtimes(root: Path, rels: list[str]) -> dict[str, int]:
    return {rel: (root / rel).stat().st_mtime_ns for rel in rels}


def test_changing_one_model_reruns_only_that_model(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _two_models(git_repo)
    dvc(git_repo, "init", "-q")
    compile_into(git_repo)
    capsys.readouterr()
    assert run_guarded(cli, ["-C", str(git_repo), "run", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["ran"] is True
    assert set(first["models"]) == {"forest", "linear"}
    sh(git_repo, "git", "add", "-A")
    sh(git_repo, "git", "commit", "-q", "-m", "two models")

    outputs = [model_paths(m).model_file for m in ("forest", "linear")] + [
        model_paths(m).metrics for m in ("forest", "linear")
    ]
    before = _mtimes(git_repo, outputs)

    spec = yaml.safe_load((git_repo / "ml.yaml").read_text())
    spec["models"]["linear"]["params"]["C"] = 0.05
    (git_repo / "ml.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    compile_into(git_repo)
    stale = json.loads(dvc(git_repo, "status", "--json"))
    assert set(stale) == {"train_linear"}

    assert run_guarded(cli, ["-C", str(git_repo), "run", "--json"]) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["ran"] is True
    after = _mtimes(git_repo, outputs)
    assert after[model_paths("forest").model_file] == before[model_paths("forest").model_file]
    assert after[model_paths("forest").metrics] == before[model_paths("forest").metrics]
    assert after[model_paths("linear").model_file] != before[model_paths("linear").model_file]
    log_loss = second["models"]["linear"]["log_loss"]
    assert log_loss["old"] == first["models"]["linear"]["log_loss"]["value"]
    assert log_loss["diff"] == pytest.approx(log_loss["value"] - log_loss["old"])
    assert log_loss["diff"] > 0  # a much smaller C fits iris worse
    assert second["models"]["forest"]["accuracy"]["diff"] == 0.0

    # A second run finds nothing stale.
    assert run_guarded(cli, ["-C", str(git_repo), "run", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ran"] is False
    assert run_guarded(cli, ["-C", str(git_repo), "run", "forest"]) == 0
    assert "Everything is up to date; nothing to run." in capsys.readouterr().out
