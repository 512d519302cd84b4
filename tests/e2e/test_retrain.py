"""`mlcode retrain` end to end on an iris project whose data comes from a source (a file outside
the repository, imported with `dvc import-url`): the real git, DVC, drift engine, gates and
promotion. New batches are made from the iris data, seeded (tests/e2e/retrain_project.py).

Covered: the decision for each `retrain.when` on real data (always; data_changed with and without
new data; drift with a resample and with a real shift), the exit codes 0/1/3/4 from real runs, the
`--json` document, the lock (a second retrain refuses at once, naming it), and refusals that leave
the whole tree (files, index, refs, .dvc/config, the git remote) as they were.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mlcode.layout import RETRAIN_LOCK_FILE
from mlcode.project.lock import exclusive
from tests.e2e.helpers import git, mlcode, snapshot
from tests.e2e.projects import copy_project
from tests.e2e.retrain_project import (
    FEED,
    build_ingest_project,
    build_sourced_project,
    original,
    resample,
    set_retrain,
    shifted,
    shuffled_labels,
    write_feed,
)

pytestmark = pytest.mark.slow

State = tuple[dict[str, bytes], str, str, str, bytes]


@pytest.fixture(scope="module")
def sourced_template(trained_iris_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trained iris project with `iris` sourced from `../feed/iris.csv` (never modify it)."""
    dest = tmp_path_factory.mktemp("retrain-template") / "t"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DVC_NO_ANALYTICS", "1")
        build_sourced_project(trained_iris_template, dest)
    return dest


@pytest.fixture
def repo(sourced_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the sourced project."""
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    return copy_project(sourced_template, tmp_path / "work")


def _state(root: Path) -> State:
    """Everything a refused run must leave as it was."""
    return (
        snapshot(root),
        git(root, "ls-files", "-s"),
        git(root, "for-each-ref"),
        git(root, "ls-remote", "origin"),
        (root / ".dvc" / "config").read_bytes(),
    )


def _retrain(root: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    result = mlcode(root, "retrain", "--json", *args)
    assert "Traceback" not in result.stderr, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.returncode, doc, result.stderr


def _only(doc: dict[str, Any]) -> dict[str, Any]:
    [model] = doc["models"]
    assert model["model"] == "iris"
    return model


def test_unchanged_source_is_nothing_to_do_and_changes_nothing(repo: Path) -> None:
    before = _state(repo)
    result = mlcode(repo, "retrain")
    assert result.returncode == 4, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "MODEL",
        "REFRESH",
        "DRIFT",
        "DECISION",
        "RUN",
        "GATES",
        "PROMOTE",
        "OUTCOME",
    ]
    assert lines[1].split() == [
        "iris",
        "unchanged",
        "-",
        "no",
        "-",
        "-",
        "-",
        "nothing",
        "to",
        "do",
    ]
    assert "data unchanged (md5" in result.stdout
    assert "Outcome: nothing to do (exit 4)." in result.stdout
    assert max(len(line) for line in lines) <= 100
    assert "retrain: refresh" in result.stderr  # progress on stderr without --json
    assert _state(repo) == before


def test_always_retrains_but_the_same_model_is_nothing_to_do(repo: Path) -> None:
    set_retrain(repo, "{when: always}")
    code, doc, stderr = _retrain(repo)
    assert code == 4, doc
    assert "retrain:" not in stderr  # no progress with --json off a terminal
    model = _only(doc)
    assert model["decision"] == {"when": "always", "retrain": True, "why": "retrain.when is always"}
    assert model["steps"]["run"]["status"] == "done"
    assert model["steps"]["promote"]["status"] == "skipped"
    assert "the retrained model is the champion's" in model["steps"]["promote"]["detail"]
    assert (model["outcome"], model["branch"], model["version"]) == ("nothing to do", None, None)


def test_drift_rule_with_a_resample_is_nothing_to_do(repo: Path) -> None:
    """New data that retrains no model is kept in the working tree (the refreshed pointer and its
    data, nothing else), and the summary says so with the command that commits it."""
    set_retrain(repo, "{when: drift, max_drifted_share: 0.5}")
    write_feed(repo, resample(original(repo), seed=3))
    before = snapshot(repo)
    code, doc, _ = _retrain(repo)
    assert code == 4, doc
    after = snapshot(repo)
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    assert changed == {"data/iris.csv", "data/iris.csv.dvc"}
    assert doc["uncommitted"] == ["data/iris.csv.dvc"]
    assert [line[3:] for line in git(repo, "status", "--porcelain").splitlines()] == [
        "data/iris.csv.dvc"
    ]
    table = mlcode(repo, "retrain").stdout  # the same new data again: still nothing to do
    flat = " ".join(table.split())
    assert "The refreshed data retrained no model and is kept in the working tree:" in flat
    assert "data/iris.csv.dvc" in flat
    assert "git commit -m 'new data from the sources' data/iris.csv.dvc && dvc push" in flat
    git(repo, "commit", "-qm", "new data from the sources", "data/iris.csv.dvc")  # as printed
    assert git(repo, "status", "--porcelain") == ""
    assert doc["refresh"][0]["dataset"] == "iris"
    assert doc["refresh"][0]["changed"] is True
    model = _only(doc)
    assert model["decision"]["retrain"] is False
    assert model["decision"]["why"].startswith("no drift: ")
    assert model["steps"]["drift"]["status"] == "done"
    assert "columns drifted" in model["steps"]["drift"]["detail"]
    assert model["steps"]["run"]["status"] == "skipped"


def test_drift_rule_with_a_real_shift_retrains_and_the_gates_say_no(repo: Path) -> None:
    set_retrain(repo, "{when: drift}")
    write_feed(repo, shifted(shuffled_labels(original(repo), seed=5), seed=6))
    remote_before = git(repo, "ls-remote", "origin")
    code, doc, _ = _retrain(repo)
    assert code == 1, doc
    assert (doc["outcome"], doc["exit_code"]) == ("gates said no", 1)
    model = _only(doc)
    assert model["decision"]["retrain"] is True
    assert model["decision"]["why"].startswith("drift 4/4 columns")
    assert model["steps"]["drift"]["detail"].startswith("4/4 columns drifted")
    assert model["steps"]["run"]["status"] == "done"
    assert model["steps"]["gates"]["status"] == "failed"
    assert "accuracy" in model["steps"]["gates"]["detail"]
    assert model["steps"]["promote"]["status"] == "skipped"
    assert (model["branch"], model["version"], model["error"]) == (None, None, None)
    assert git(repo, "tag", "--list") == ""
    assert git(repo, "ls-remote", "origin") == remote_before  # nothing promoted


def test_new_data_is_promoted_and_a_rerun_has_nothing_to_do(repo: Path) -> None:
    write_feed(repo, resample(original(repo), seed=1))
    code, doc, _ = _retrain(repo)
    assert code == 0, doc
    assert (doc["outcome"], doc["exit_code"]) == ("promoted", 0)
    assert set(doc) == {"outcome", "exit_code", "refresh", "models", "uncommitted", "error", "hint"}
    assert doc["uncommitted"] == []  # the promotion carries the new pointer
    [refresh] = doc["refresh"]
    assert refresh["changed"] is True
    assert refresh["old_md5"] != refresh["new_md5"]
    model = _only(doc)
    assert model["decision"]["when"] == "data_changed"
    assert model["decision"]["why"].startswith("data changed (md5 ")
    assert [s["status"] for s in model["steps"].values()] == [
        "done",
        "skipped",
        "done",
        "done",
        "done",
    ]
    assert model["version"] == "v0.1.0"
    branch = model["branch"]
    assert branch == "mlcode/promote/iris/v0.1.0"
    remote = git(repo, "ls-remote", "origin")
    assert f"refs/heads/{branch}" in remote
    assert "refs/tags/iris@v0.1.0" in remote
    # the promotion carries the new data's pointer
    pointer = git(repo, "show", f"origin/{branch}:data/iris.csv.dvc")
    assert refresh["new_md5"] in pointer
    # and says why it was retrained: the decision line, in the commit and the report (PR body)
    because = f"Retrained because: {model['decision']['why']}"
    assert because in git(repo, "log", "-1", "--format=%B", f"origin/{branch}").splitlines()
    report = git(repo, "show", f"origin/{branch}:reports/iris/v0.1.0/promotion.md")
    assert f"{because}." in report.splitlines()

    # a rerun: the same model is already proposed, nothing new
    code, again, _ = _retrain(repo)
    assert code == 4, again
    model = _only(again)
    assert model["steps"]["promote"]["status"] == "skipped"
    assert "already proposed" in model["steps"]["promote"]["detail"]
    assert "\n" not in model["steps"]["promote"]["detail"]  # one line, as every detail
    assert git(repo, "ls-remote", "origin") == remote


def test_failed_source_is_an_error_and_leaves_the_tree(repo: Path) -> None:
    (repo.parent / FEED).unlink()
    before = _state(repo)
    code, doc, _ = _retrain(repo)
    assert code == 3, doc
    model = _only(doc)
    assert model["outcome"] == "error"
    assert model["steps"]["refresh"]["status"] == "failed"
    assert "dataset 'iris': its source" in model["error"]
    assert model["steps"]["run"]["status"] == "skipped"
    assert model["decision"]["retrain"] is False
    assert _state(repo) == before


def test_second_retrain_refuses_while_the_lock_is_held(repo: Path) -> None:
    write_feed(repo, resample(original(repo), seed=2))  # a run that went on would refresh
    with exclusive(repo / RETRAIN_LOCK_FILE, holder="mlcode retrain"):
        before = _state(repo)
        result = mlcode(repo, "retrain", "--json", timeout=60)
        after = _state(repo)
    assert result.returncode == 3, result.stdout + result.stderr
    doc = json.loads(result.stdout)  # a whole-run error is one JSON object for the job too
    assert (doc["outcome"], doc["exit_code"], doc["models"]) == ("error", 3, [])
    assert "another mlcode retrain holds the lock" in doc["error"]
    assert "another mlcode retrain holds the lock" in result.stderr
    assert RETRAIN_LOCK_FILE in result.stderr
    assert "Traceback" not in result.stderr
    assert after == before
    assert not (repo / RETRAIN_LOCK_FILE).exists()  # released: the next run may go


def test_dirty_tree_is_refused_before_the_refresh(repo: Path) -> None:
    write_feed(repo, resample(original(repo), seed=2))
    (repo / "notes.txt").write_text("unreviewed\n")
    before = _state(repo)
    result = mlcode(repo, "retrain")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "notes.txt" in result.stderr
    assert "nothing was refreshed" in result.stderr
    assert _state(repo) == before


def test_pipeline_behind_ml_yaml_is_refused_before_the_refresh(repo: Path) -> None:
    spec = repo / "ml.yaml"
    spec.write_text(spec.read_text().replace("n_estimators: 100", "n_estimators: 50"))
    git(repo, "commit", "-qam", "fewer trees, not applied")
    write_feed(repo, resample(original(repo), seed=2))
    before = _state(repo)
    result = mlcode(repo, "retrain")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "params.yaml does not match ml.yaml" in result.stderr
    assert "mlcode apply" in result.stderr
    assert _state(repo) == before


def test_unknown_model_is_refused(repo: Path) -> None:
    before = _state(repo)
    result = mlcode(repo, "retrain", "nosuch")
    assert result.returncode == 3
    assert "unknown model(s) nosuch" in result.stderr
    assert _state(repo) == before


def test_a_failing_model_is_an_error_and_the_next_goes_on(repo: Path) -> None:
    spec = repo / "ml.yaml"
    broken = (
        "  aaa-broken:\n"
        "    task: classification\n"
        "    data: iris_latest\n"
        "    estimator: sklearn.ensemble.RandomForestClassifier\n"
        "    params: {n_estimators: -1}\n"
    )
    spec.write_text(spec.read_text().replace("models:\n", "models:\n" + broken))
    result = mlcode(repo, "apply", "--auto-approve")
    assert result.returncode == 0, result.stdout + result.stderr
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a model that cannot train")
    code, doc, _ = _retrain(repo)
    assert code == 3, doc
    first, second = doc["models"]
    assert first["model"] == "aaa-broken"
    assert first["outcome"] == "error"
    assert first["decision"]["why"] == "no champion: first version"
    assert first["steps"]["run"]["status"] == "failed"
    assert first["error"].startswith("dvc repro failed")
    assert "n_estimators" in first["error"]  # DVC's last lines carry the step's reason
    assert second["model"] == "iris"
    assert second["outcome"] == "nothing to do"
    assert second["steps"]["refresh"]["status"] == "done"
    table = mlcode(repo, "retrain")
    assert table.returncode == 3, table.stderr
    assert max(len(line) for line in table.stdout.splitlines()) <= 100


def test_a_bug_in_a_step_is_exit_3_never_nothing_to_do(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 4 means "nothing to do" to the scheduled job: a bug must not look like it."""
    from mlcode.cli import cli
    from mlcode.cli.boundary import run_guarded
    from mlcode.retrain import run

    def broken(*_: object) -> str:
        raise RuntimeError("a step with a bug")

    monkeypatch.setattr(run, "_champion", broken)
    assert run_guarded(cli, ["-C", str(repo), "retrain", "--json"]) == 3
    model = _only(json.loads(capsys.readouterr().out))
    assert model["outcome"] == "error"
    assert model["error"] == "internal error (a bug in mlcode): RuntimeError: a step with a bug"


def test_ingest_command_source_is_run_and_judged(
    trained_iris_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ingest command (`always_changed`, as one reading from outside must be) runs in the
    refresh; its new data is decided on, reproduced and judged by the gates, which an always
    changed stage does not make "stale"."""
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    repo = build_ingest_project(trained_iris_template, tmp_path / "ingest")
    before = _state(repo)
    code, doc, _ = _retrain(repo)
    assert code == 4, doc
    assert _state(repo) == before  # the same data ingested again: byte for byte as before
    assert doc["uncommitted"] == []
    assert doc["refresh"][0]["kind"] == "cmd"
    assert _only(doc)["decision"]["why"].startswith("data unchanged")
    write_feed(repo, shuffled_labels(original(repo), seed=7))
    code, doc, _ = _retrain(repo)
    model = _only(doc)
    assert code == 1, doc
    assert (
        model["steps"]["refresh"]["detail"] == "iris: refreshed by the pipeline (stage ingest_iris)"
    )
    assert model["decision"]["why"].startswith("data changed (md5 ")
    assert model["steps"]["gates"]["status"] == "failed"
    assert "accuracy" in model["steps"]["gates"]["detail"]
    assert model["error"] is None


def test_pull_brings_in_the_training_data_drift_reads(trained_iris: Path) -> None:
    """A fresh CI clone has pointers, not data: `--pull` fetches what the drift decision reads."""
    from tests.e2e.helpers import BIN, env

    repo = trained_iris
    set_retrain(repo, "{when: drift}")
    write_data = shifted(original(repo), seed=8)
    write_data.to_csv(repo / "data/iris.csv", index=False)
    for args in (["add", "-q", "data/iris.csv"], ["push", "-q"]):
        subprocess.run([str(BIN / "dvc"), *args], cwd=repo, env=env(), check=True)
    git(repo, "commit", "-qam", "a new batch, not pushed: origin/main is the champion")
    (repo / "data/iris.csv").unlink()
    code, doc, _ = _retrain(repo)
    assert code == 3, doc
    assert "is not in the working tree" in _only(doc)["error"]
    code, doc, _ = _retrain(repo, "--pull")
    model = _only(doc)
    assert model["steps"]["drift"]["status"] == "done", doc
    assert model["decision"]["retrain"] is True
    assert model["decision"]["why"].startswith("drift 4/4 columns")
