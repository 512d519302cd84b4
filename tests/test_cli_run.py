"""`mlcode run` and `mlcode step`: errors, the metrics table, and a real run through DVC."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlcode.cli import COMMANDS, cli
from mlcode.cli.boundary import run_guarded
from mlcode.project import metrics_table
from mlcode.project.metrics_table import MetricChange, MetricsFile


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
    current = {
        "a": MetricsFile(files["a"], "ok", {"f1": 0.9, "accuracy": 0.8}),
        "b": MetricsFile(files["b"], "ok", {"r2": 0.5}),
        "c": MetricsFile(files["c"], "missing"),
    }
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
    assert metrics_table.to_json(none)["a"]["f1"] == {
        "value": 0.9,
        "old": None,
        "diff": None,
        "error": None,
    }


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


# --- `mlcode run` says the truth: a trained project built once, copied per test ---------------

TRAIN_PY = """\
import pathlib
out = pathlib.Path("models/own")
out.mkdir(parents=True, exist_ok=True)
(out / "model.txt").write_text("trained\\n")
"""

# The own evaluate command writes whatever eval-output.txt holds: the tests make it malformed.
EVAL_PY = """\
import os, pathlib
pathlib.Path("metrics").mkdir(exist_ok=True)
pathlib.Path("metrics/own.json.tmp").write_text(pathlib.Path("eval-output.txt").read_text())
os.replace("metrics/own.json.tmp", "metrics/own.json")
"""

GOOD_OWN = '{"accuracy": 0.9, "f1": 0.8}'


def _project(repo: Path) -> None:
    """The iris example (built-in steps, drift gate) plus `own`, with its own train and evaluate."""
    import yaml

    _example(repo)
    spec = yaml.safe_load((repo / "ml.yaml").read_text())
    spec["models"]["own"] = {
        "task": "classification",
        "data": "iris",
        "metrics": ["accuracy", "f1"],
        "train": {"cmd": "python train.py", "deps": ["train.py"], "outs": ["models/own"]},
        "evaluate": {
            "cmd": "python eval.py",
            "deps": ["eval.py", "eval-output.txt"],
            "metrics": "metrics/own.json",
        },
    }
    (repo / "ml.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    (repo / "train.py").write_text(TRAIN_PY)
    (repo / "eval.py").write_text(EVAL_PY)
    (repo / "eval-output.txt").write_text(GOOD_OWN)


def _compile_into(repo: Path) -> None:
    from mlcode.compile import compile_project
    from mlcode.spec.load import load_project

    project = load_project(repo)
    for rel, text in compile_project(project.spec, project.stack).items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)


@pytest.fixture(scope="module")
def trained_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed project whose pipeline ran once (built once per module)."""
    base = tmp_path_factory.mktemp("trained")
    repo = base / "repo"
    repo.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        home = base / "home"
        mp.setenv("HOME", str(home))
        mp.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        mp.setenv("DVC_NO_ANALYTICS", "1")
        mp.setenv("DVC_SITE_CACHE_DIR", str(home / "dvc-site-cache"))
        for key, value in {
            "GIT_AUTHOR_NAME": "mlcode tests",
            "GIT_AUTHOR_EMAIL": "tests@mlcode.invalid",
            "GIT_COMMITTER_NAME": "mlcode tests",
            "GIT_COMMITTER_EMAIL": "tests@mlcode.invalid",
            "GIT_CONFIG_NOSYSTEM": "1",
        }.items():
            mp.setenv(key, value)
        mlcode_on_path(base, mp)
        sh(["git", "init", "-q", "-b", "main"], repo)
        _project(repo)
        sh([sys.executable, "-m", "dvc", "init", "-q"], repo)
        _compile_into(repo)
        assert run_guarded(cli, ["-C", str(repo), "run", "--json"]) == 0
        sh(["git", "add", "-A"], repo)
        sh(["git", "commit", "-q", "-m", "trained"], repo)
    return repo


@pytest.fixture
def trained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trained_template: Path) -> Path:
    """A private copy of the trained project, with `mlcode step` on PATH for DVC's stages."""
    import shutil

    mlcode_on_path(tmp_path, monkeypatch)
    repo = tmp_path / "repo"
    shutil.copytree(trained_template, repo, symlinks=True)
    return repo


def _run_json(repo: Path, capsys: pytest.CaptureFixture[str], *models: str) -> dict[str, Any]:
    capsys.readouterr()
    assert run_guarded(cli, ["-C", str(repo), "run", *models, "--json"]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def _run_text(repo: Path, capsys: pytest.CaptureFixture[str], *models: str) -> str:
    capsys.readouterr()
    assert run_guarded(cli, ["-C", str(repo), "run", *models]) == 0
    return capsys.readouterr().out


def _commit_broken(repo: Path, rel: str, text: str) -> None:
    """Commit a broken `rel`, then put the good one back in the workspace: HEAD is broken."""
    good = (repo / rel).read_text()
    (repo / rel).write_text(text)
    sh(["git", "commit", "-q", "-am", f"broken {rel}"], repo)
    (repo / rel).write_text(good)


@pytest.mark.slow
def test_run_when_dvc_cannot_read_head_says_unknown_not_new(
    trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # DVC exits 0 here, shows HEAD's side as null and only warns on stderr.
    _commit_broken(trained, "dvc.lock", "schema: [\n")
    text = _run_text(trained, capsys)
    assert "Everything is up to date; nothing to run." in text
    assert "new (not in HEAD)" not in text
    assert "unknown: DVC could not read HEAD" in text
    assert "DVC: failed to load metrics in revision 'HEAD'" in text
    data = _run_json(trained, capsys)
    for model in ("iris", "own"):
        rows = data["models"][model]
        assert rows, model
        for row in rows.values():
            assert row.get("error") == "unknown: DVC could not read HEAD"
            assert row["old"] is None
            assert isinstance(row["value"], float)
        assert data["params"][model] == {
            "changed": {},
            "error": "unknown: DVC could not read HEAD",
        }
    assert any("dvc.lock" in w and "'HEAD'" in w for w in data["warnings"])


@pytest.mark.slow
def test_run_marks_only_the_model_whose_head_metrics_dvc_cannot_read(
    trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _commit_broken(trained, "metrics/own.json", "{not json")
    data = _run_json(trained, capsys)
    assert data["ran"] is False
    assert {row.get("error") for row in data["models"]["own"].values()} == {
        "unknown: DVC could not read HEAD"
    }
    iris = data["models"]["iris"]
    assert {(row["diff"], row.get("error")) for row in iris.values()} == {(0.0, None)}
    assert data["warnings"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("{not json", "unreadable: metrics/own.json is not JSON (line 1 column 2"),
        ("[0.9, 0.8]", "unreadable: metrics/own.json is a list, not a JSON object"),
    ],
)
def test_run_shows_a_malformed_metrics_file_as_unreadable(
    trained: Path, capsys: pytest.CaptureFixture[str], written: str, shown: str
) -> None:
    (trained / "eval-output.txt").write_text(written)
    text = _run_text(trained, capsys, "own")
    assert "running dvc repro" in text
    assert (trained / "metrics/own.json").read_text() == written  # the command really wrote it
    assert shown in text
    assert "no metrics yet" not in text
    data = _run_json(trained, capsys, "own")
    assert data["models"]["own"] == {}
    assert data["metrics_files"]["own"]["state"] == "unreadable"
    assert f"unreadable: {data['metrics_files']['own']['reason']}".startswith(shown)


@pytest.mark.slow
def test_run_marks_nan_and_non_numeric_metrics(
    trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (trained / "eval-output.txt").write_text('{"accuracy": NaN, "f1": "high", "extra": 1}')
    data = _run_json(trained, capsys, "own")
    own = data["models"]["own"]
    assert list(own) == ["accuracy", "f1", "extra"]
    assert own["accuracy"]["value"] is None
    assert own["accuracy"]["error"] == "unreadable: nan is not a finite number"
    assert own["f1"]["error"] == 'unreadable: a string ("high"), not a number'
    assert own["extra"] == {"value": 1.0, "old": None, "diff": None, "error": None}
    text = _run_text(trained, capsys, "own")
    assert "unreadable: nan is not a finite number" in text
    assert "new (not in HEAD)" in text  # `extra` really is new


@pytest.mark.slow
def test_run_shows_changed_params_and_the_drift_verdict(
    trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import csv
    import io

    import yaml

    spec = yaml.safe_load((trained / "ml.yaml").read_text())
    spec["models"]["iris"]["gates"]["drift"]["max_drifted_share"] = 0.4  # reruns drift_iris only
    (trained / "ml.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    _compile_into(trained)
    # Shift two numeric columns of the latest batch far away from the reference.
    latest = trained / "data/iris_latest.csv"
    rows = list(csv.DictReader(io.StringIO(latest.read_text())))
    for row in rows:
        for column in ("petal_length_cm", "petal_width_cm"):
            row[column] = str(float(row[column]) + 50)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    latest.write_text(out.getvalue())

    data = _run_json(trained, capsys)
    assert data["ran"] is True
    assert data["params"]["iris"] == {
        "changed": {"drift.max_drifted_share": {"old": 0.5, "new": 0.4}},
        "error": None,
    }
    assert data["params"]["own"] == {"changed": {}, "error": None}
    written = json.loads((trained / "metrics/iris-drift.json").read_text())
    drift = data["drift"]["iris"]
    assert drift["state"] == "ok"
    assert drift["drifted_columns"] == written["drifted_columns"] >= 2
    assert drift["columns"] == written["columns"] == 4
    assert drift["drifted_share"] == written["drifted_share"]
    assert drift["dataset_drift"] is written["dataset_drift"]
    assert data["drift"]["own"] is None  # no drift gate
    text = _run_text(trained, capsys)
    assert "iris  params changed vs HEAD: drift.max_drifted_share 0.5 -> 0.4" in text
    share = written["drifted_share"]
    assert (
        f"iris  drift: {written['drifted_columns']}/4 columns drifted (share {share:.2f})" in text
    )
    assert "own   drift" not in text


def _startup_hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    """A sitecustomize in the environment that acts only in `dvc ... diff` processes."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        f"import sys\nif 'diff' in sys.orig_argv and 'dvc' in sys.orig_argv:\n    {body}\n"
    )
    paths = [str(hook), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))


@pytest.mark.slow
def test_run_when_dvc_prints_something_not_json_is_an_error(
    trained: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _startup_hook(tmp_path, monkeypatch, "print('Welcome to the cluster!')")
    capsys.readouterr()
    assert run_guarded(cli, ["-C", str(trained), "run"]) == 3
    captured = capsys.readouterr()
    assert "no change" not in captured.out
    assert "dvc metrics diff HEAD --json printed something that is not JSON" in captured.err
    assert "Welcome to the cluster!" in captured.err
    assert "Traceback" not in captured.err


@pytest.mark.slow
def test_run_when_dvc_diff_fails_is_an_error_with_its_reason(
    trained: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _startup_hook(
        tmp_path,
        monkeypatch,
        "sys.stderr.write('ERROR: the startup hook broke\\n'); sys.stderr.flush(); import os; os._exit(1)",
    )
    capsys.readouterr()
    assert run_guarded(cli, ["-C", str(trained), "run", "--json"]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "dvc metrics diff HEAD failed (exit 1)" in captured.err
    assert "ERROR: the startup hook broke" in captured.err
    assert "Traceback" not in captured.err


@pytest.mark.slow
def test_metrics_and_params_diff_name_dvc_reason_for_a_bad_revision(trained: Path) -> None:
    from mlcode.adapters import dvc
    from mlcode.errors import UserError

    for diff in (dvc.metrics_diff, dvc.params_diff):
        with pytest.raises(UserError, match="unknown Git revision 'no-such-rev'"):
            diff(trained, "no-such-rev")


@pytest.mark.slow
def test_run_after_a_commit_without_metrics_says_new_not_unknown(
    trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The first `mlcode run` of a fresh project: HEAD declares the pipeline but holds no metrics
    # yet. DVC warns that it could not load HEAD's metrics; they are new, not unreadable.
    sh(
        ["git", "rm", "-q", "--cached", "metrics/iris.json", "metrics/own.json", "dvc.lock"],
        trained,
    )
    sh(["git", "commit", "-q", "-m", "pipeline only"], trained)
    data = _run_json(trained, capsys)
    for model in ("iris", "own"):
        rows = data["models"][model]
        assert rows, model
        for row in rows.values():
            assert row.get("error") is None, (model, row)
            assert row["old"] is None
    assert data["warnings"] == []
    assert "unknown" not in _run_text(trained, capsys)
