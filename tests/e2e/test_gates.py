"""`mlcode gates` on a trained iris project: a worse model fails and a better one passes against
a champion on the base branch and, separately, one registered by GTO tags; every input it cannot
trust fails closed or refuses (exit 3) with nothing written."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import env, git, mlcode, snapshot

GOOD = "params: {n_estimators: 100, max_depth: 5, random_state: 0}"
WORSE = "params: {n_estimators: 1, max_depth: 1, random_state: 0}"
# Beyond the example's own rules (accuracy >= 0.85, regression <= 0.02): a real improvement.
IMPROVE = "        - {metric: accuracy, vs_champion: {min_improvement: 0.1}}\n"


def _edit(repo: Path, old: str, new: str) -> None:
    spec = repo / "ml.yaml"
    text = spec.read_text(encoding="utf-8")
    assert old in text
    spec.write_text(text.replace(old, new, 1), encoding="utf-8")


def _add_rule(repo: Path, rule: str) -> None:
    _edit(repo, "      drift:\n", rule + "      drift:\n")


def _ok(repo: Path, *args: str) -> str:
    result = mlcode(repo, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _retrain(repo: Path, old: str, new: str) -> None:
    _edit(repo, old, new)
    _ok(repo, "apply", "--auto-approve")
    _ok(repo, "run")


def _recorded(repo: Path, rev: str) -> dict[str, float]:
    data: dict[str, float] = json.loads(git(repo, "show", f"{rev}:metrics/iris.json"))
    return data


def _gates(repo: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = mlcode(repo, "gates", "--json", *args)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return result.returncode, doc


def _rows(doc: dict[str, Any], gate: str) -> list[dict[str, Any]]:
    [model] = doc["models"]
    return [row for row in model["gates"] if row["gate"] == gate]


def _state(repo: Path) -> tuple[dict[str, bytes], str, str]:
    """The working tree, git's index and every ref: what a refusal must leave as it was."""
    refs = git(repo, "for-each-ref", "--format=%(refname) %(objectname)")
    return snapshot(repo), git(repo, "ls-files", "-s"), refs


@pytest.mark.slow
def test_base_branch_champion_fails_a_worse_model_and_passes_a_better_one(
    trained_iris: Path,
) -> None:
    repo = trained_iris
    first = git(repo, "rev-parse", "HEAD").strip()
    _add_rule(repo, IMPROVE)
    git(repo, "checkout", "-qb", "retrain")
    _retrain(repo, GOOD, WORSE)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a worse model")
    current = json.loads((repo / "metrics/iris.json").read_text(encoding="utf-8"))

    code, doc = _gates(repo)
    assert code == 1
    assert doc["passed"] is False
    champion = doc["models"][0]["champion"]
    assert champion["source"] == "base branch origin/main"
    assert champion["commit"] == first
    assert champion["note"] == ""
    vs = _rows(doc, "vs_champion")
    assert [row["verdict"] for row in vs] == ["fail", "fail"]
    assert {row["champion_value"] for row in vs} == {_recorded(repo, first)["accuracy"]}
    assert {row["value"] for row in vs} == {current["accuracy"]}
    assert "worse than the champion" in vs[0]["reason"]

    # The worse model lands on the base branch: it is the champion now, and the good model (DVC's
    # run-cache restores it) beats it.
    git(repo, "push", "-q", "origin", "retrain:main")
    worse_commit = git(repo, "rev-parse", "HEAD").strip()
    _retrain(repo, WORSE, GOOD)
    result = mlcode(repo, "gates")
    assert result.returncode == 0, result.stdout + result.stderr
    champion_line = (
        f"Champion: commit {worse_commit[:12]}, from base branch origin/main; recorded metrics"
    )
    assert champion_line in result.stdout
    assert result.stdout.count("better than the champion by") == 2
    assert "All gates passed (1 model(s))." in result.stdout


@pytest.mark.slow
def test_registered_champion_from_gto_tags(trained_iris: Path) -> None:
    repo = trained_iris
    good_commit = git(repo, "rev-parse", "HEAD").strip()
    _add_rule(repo, IMPROVE)
    gto = str(Path(env()["PATH"].split(":")[0]) / "gto")

    def register(version: str) -> None:
        for args in (
            ("register", "iris", "HEAD", "--version", version),
            ("assign", "iris", "--version", version, "--stage", "prod"),
        ):
            subprocess.run([gto, *args], cwd=repo, env=env(), check=True, capture_output=True)

    register("v0.1.0")
    # The base branch moves on with a worse model; the registry still says v0.1.0 is in prod.
    _retrain(repo, GOOD, WORSE)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a worse model")
    git(repo, "push", "-q", "origin", "main")
    code, doc = _gates(repo)
    assert code == 1
    champion = doc["models"][0]["champion"]
    assert champion["source"] == "registry: iris@v0.1.0 (prod)"
    assert (champion["version"], champion["commit"]) == ("v0.1.0", good_commit)
    assert [row["verdict"] for row in _rows(doc, "vs_champion")] == ["fail", "fail"]

    # The worse model becomes v0.2.0 in prod; a better candidate passes against it.
    register("v0.2.0")
    _retrain(repo, WORSE, GOOD)
    code, doc = _gates(repo)
    assert code == 0, doc
    champion = doc["models"][0]["champion"]
    assert champion["source"] == "registry: iris@v0.2.0 (prod)"
    assert "the champion is this commit (HEAD)" in champion["note"]
    worse = _recorded(repo, "HEAD")["accuracy"]
    assert {row["champion_value"] for row in _rows(doc, "vs_champion")} == {worse}

    # --champion overrides the registry: the good model against its own first version.
    code, doc = _gates(repo, "--champion", "v0.1.0")
    assert doc["models"][0]["champion"]["source"] == "--champion v0.1.0"
    assert [row["verdict"] for row in _rows(doc, "vs_champion")] == ["pass", "fail"]


def _commit_output(repo: Path, path: str, text: str, stage: str) -> None:
    """Overwrite a pipeline output and record it in dvc.lock, so DVC calls the stage up to date."""
    (repo / path).write_text(text, encoding="utf-8")
    subprocess.run(
        ["dvc", "commit", "-f", "-q", stage], cwd=repo, env=env(), check=True, capture_output=True
    )


def test_unreadable_inputs_fail_closed_and_write_nothing(trained_iris: Path) -> None:
    repo = trained_iris
    good = (repo / "metrics/iris.json").read_text(encoding="utf-8")
    _commit_output(repo, "metrics/iris.json", "accuracy = 0.9\n", "evaluate_iris")
    before = _state(repo)
    code, doc = _gates(repo)
    assert code == 1
    rows = _rows(doc, "metric") + _rows(doc, "vs_champion")
    assert [row["verdict"] for row in rows] == ["fail", "fail"]
    assert all(row["reason"].startswith("metrics/iris.json is not JSON") for row in rows)
    assert all(row["evaluated"] is False for row in rows)
    assert _rows(doc, "drift")[0]["verdict"] == "pass"
    assert _state(repo) == before

    # NaN and a missing metric, each named; fail_on_missing: false lets them pass, marked.
    _commit_output(repo, "metrics/iris.json", '{"accuracy": NaN}', "evaluate_iris")
    code, doc = _gates(repo)
    assert code == 1
    assert _rows(doc, "metric")[0]["reason"] == "metrics/iris.json: accuracy is NaN (fail closed)"
    _edit(repo, "      drift:\n", "      fail_on_missing: false\n      drift:\n")
    code, doc = _gates(repo)
    assert code == 0
    assert "passes because fail_on_missing is false" in _rows(doc, "metric")[0]["reason"]

    # A champion whose metrics file is not JSON fails the comparison, naming it.
    _edit(repo, "      fail_on_missing: false\n", "")
    _commit_output(repo, "metrics/iris.json", good, "evaluate_iris")
    git(repo, "checkout", "-qb", "broken")
    (repo / "metrics/iris.json").write_text("{", encoding="utf-8")
    git(repo, "commit", "-qam", "broken metrics")
    git(repo, "checkout", "-q", "main")
    code, doc = _gates(repo, "--champion", "broken")
    assert code == 1
    [vs] = _rows(doc, "vs_champion")
    assert vs["reason"].startswith("champion: the champion's metrics/iris.json at commit ")
    assert "is not JSON" in vs["reason"]
    assert vs["champion"] == "unreadable"


def test_no_champion_yet_passes_unless_required(trained_iris: Path) -> None:
    repo = trained_iris
    git(repo, "branch", "before-training", "HEAD~1")  # holds ml.yaml, no metrics yet
    _edit(repo, "promotion: {mode: pr, stage: prod}", "promotion: {base: before-training}")
    code, doc = _gates(repo)
    assert code == 0
    [vs] = _rows(doc, "vs_champion")
    assert vs["verdict"] == "pass"
    assert vs["reason"].startswith("no champion yet")
    champion = doc["models"][0]["champion"]
    assert champion["commit"] is None
    assert "before-training has no metrics/iris.json" in champion["note"]
    markdown = _ok(repo, "gates", "--format", "markdown")
    assert markdown.startswith("## mlcode gates: passed\n")
    assert "Champion: no champion yet (base branch before-training)" in markdown
    assert "| vs_champion | accuracy regression vs champion &lt;= 0.02 |" in markdown
    _edit(repo, "{base: before-training}", "{base: before-training, require_champion: true}")
    code, doc = _gates(repo)
    assert code == 1
    assert "require_champion is true" in _rows(doc, "vs_champion")[0]["reason"]


def test_refusals_exit_3_and_write_nothing(trained_iris: Path) -> None:
    repo = trained_iris
    spec = (repo / "ml.yaml").read_text(encoding="utf-8")

    def refused(*args: str) -> str:
        before = _state(repo)
        result = mlcode(repo, "gates", *args)
        assert result.returncode == 3, result.stdout + result.stderr
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
        assert _state(repo) == before
        return result.stderr

    assert "unknown model(s) nope; models in ml.yaml: iris" in refused("nope")
    assert "--champion no-such-ref: no commit, branch, tag or version" in refused(
        "--champion", "no-such-ref"
    )

    _edit(repo, "promotion: {mode: pr, stage: prod}", "promotion: {base: release}")
    err = refused()
    assert "the promotion base branch 'release' does not exist" in err
    assert "git fetch origin release" in err

    (repo / "ml.yaml").write_text(spec, encoding="utf-8")
    _edit(repo, "{metric: accuracy, min: 0.85}", "{metric: precision, min: 0.85}")
    err = refused()
    assert re.search(r"ml\.yaml:\d+:\d+: models\.iris\.gates\.metrics\[0\]\.metric: ", err)
    assert "metric 'precision' is not computed for this model" in err

    # ml.yaml changed and not applied; then applied but not run: the stages are stale.
    (repo / "ml.yaml").write_text(spec, encoding="utf-8")
    _edit(repo, "n_estimators: 100", "n_estimators: 50")
    err = refused()
    assert "params.yaml does not match ml.yaml" in err
    assert "`mlcode apply`" in err
    _ok(repo, "apply", "--auto-approve")
    err = refused("iris")
    assert "stages not up to date with their code, data or params: train_iris" in err
    assert "Run `mlcode run`" in err


def test_drift_gate_fails_naming_the_drifted_columns(trained_iris: Path) -> None:
    repo = trained_iris
    # KS p-values of the example's columns are about 0.37, 0.61, 0.90 and 0.997: a threshold of
    # 0.95 calls the first three drifted (3/4 >= 0.5); only drift_iris runs again.
    _retrain(repo, "        max_drifted_share: 0.5\n", "        threshold: 0.95\n")
    report = json.loads((repo / "build/iris/drift-report.json").read_text(encoding="utf-8"))
    drifted = [name for name, col in report["columns"].items() if col["drifted"]]
    assert len(drifted) == 3
    code, doc = _gates(repo)
    assert code == 1
    [row] = _rows(doc, "drift")
    assert row["verdict"] == "fail"
    assert row["actual"] == "0.75 (3/4 columns)"
    assert row["reason"] == "too many columns drifted; drifted: " + ", ".join(drifted)
    assert [r["verdict"] for r in _rows(doc, "metric") + _rows(doc, "vs_champion")] == [
        "pass",
        "pass",
    ]
