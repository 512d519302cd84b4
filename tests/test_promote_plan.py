"""The pure decisions of a promotion: names, the model's fingerprint in dvc.lock, the dvc.lock the
promotion commits, which dirty paths are the pipeline's own, the commit message."""

from __future__ import annotations

import copy
from typing import Any

from mlcode.promote.plan import (
    CommitText,
    branch_name,
    fingerprint,
    merged_lock,
    metric_summary,
    model_files,
    pipeline_output,
    report_path,
)


def _stage(out_md5: str, dep_md5: str = "d1") -> dict[str, Any]:
    return {
        "cmd": "mlcode step train m",
        "deps": [{"path": "build/m/train.parquet", "hash": "md5", "md5": dep_md5, "size": 1}],
        "outs": [{"path": "models/m", "hash": "md5", "md5": out_md5, "size": 2, "nfiles": 2}],
    }


def _lock(**stages: dict[str, Any]) -> dict[str, Any]:
    return {"schema": "2.0", "stages": stages}


def test_names_follow_the_issue() -> None:
    assert branch_name("mlcode/promote/", "iris", "0.2.0") == "mlcode/promote/iris/v0.2.0"
    assert branch_name("p/", "iris", "v1.0.0") == "p/iris/v1.0.0"
    assert report_path("iris", "v0.1.0") == "reports/iris/v0.1.0/promotion.md"


def test_fingerprint_is_the_models_hashes_only() -> None:
    lock = _lock(train_m=_stage("a.dir"), train_other=_stage("x.dir"))
    same_model = _lock(train_m=_stage("a.dir"), train_other=_stage("y.dir"))
    retrained = _lock(train_m=_stage("b.dir"), train_other=_stage("x.dir"))
    new_data = _lock(train_m=_stage("a.dir", dep_md5="d2"))
    assert fingerprint(lock, "m") == fingerprint(same_model, "m")
    assert fingerprint(lock, "m") != fingerprint(retrained, "m")
    assert fingerprint(lock, "m") != fingerprint(new_data, "m")
    assert fingerprint(lock, "absent") == ""
    assert fingerprint(None, "m") == ""
    # the command or sizes do not make a new version; the hashes do
    renamed = copy.deepcopy(lock)
    renamed["stages"]["train_m"]["cmd"] = "other"
    assert fingerprint(renamed, "m") == fingerprint(lock, "m")


def test_merged_lock_takes_only_the_models_stages_from_the_work_tree() -> None:
    base = _lock(train_m=_stage("old.dir"), train_other=_stage("base-other.dir"))
    work = _lock(train_m=_stage("new.dir"), train_other=_stage("work-other.dir"))
    merged = merged_lock(base, work, "m")
    assert merged["stages"]["train_m"] == _stage("new.dir")
    assert merged["stages"]["train_other"] == _stage("base-other.dir")
    # the working lock with only this model changed comes back equal (its bytes are kept)
    assert merged_lock(
        base, _lock(train_m=_stage("new.dir"), train_other=_stage("base-other.dir")), "m"
    ) == _lock(train_m=_stage("new.dir"), train_other=_stage("base-other.dir"))
    # a first promotion on a base without dvc.lock
    assert merged_lock(None, work, "m")["stages"] == {"train_m": _stage("new.dir")}


def test_pipeline_outputs_may_be_dirty_nothing_else() -> None:
    pointers = ["data/iris.csv.dvc"]
    for path in (
        "dvc.lock",
        "metrics/iris.json",
        "metrics/iris-drift.json",
        "plots/iris/roc.json",
        "data/iris.csv.dvc",
        "build/iris/train.parquet",  # the prepare step's split, before DVC ignores it
        "models/.gitignore",  # DVC lists a model's folder there when it first creates it
    ):
        assert pipeline_output(path, ["iris"], pointers), path
    for path in (
        "ml.yaml",
        "dvc.yaml",
        "params.yaml",
        "src/train.py",
        "metrics/other.json",
        "data/iris.csv",
        "build/other/train.parquet",
        ".gitignore",
        "data/.gitignore",
    ):
        assert not pipeline_output(path, ["iris"], pointers), path


def test_model_files_are_pointers_metrics_and_plots() -> None:
    files = model_files("iris", None, ["data/iris.csv.dvc"], ["roc", "confusion"])
    assert files == [
        "data/iris.csv.dvc",
        "metrics/iris-drift.json",
        "metrics/iris.json",
        "plots/iris/confusion.json",
        "plots/iris/roc.json",
    ]
    assert "eval/out.json" in model_files("iris", "eval/out.json", [], [])


def test_commit_message_carries_the_metric_summary() -> None:
    text = CommitText(
        "iris",
        "0.1.0",
        {"accuracy": 0.973684, "f1": 0.97, "n": 38},
        "reports/iris/v0.1.0/promotion.md",
    ).message()
    subject, blank, *rest = text.splitlines()
    assert subject == "Promote iris v0.1.0"
    assert blank == ""
    assert "  accuracy: 0.9737" in rest
    assert "  n: 38" in rest
    assert "Mlcode-Version: v0.1.0" in rest
    assert metric_summary({"a": {"b": 1.0}, "s": "text"}) == ["a.b: 1.0000"]


def test_commit_message_carries_the_retrain_reason_only_when_given() -> None:
    args = ("iris", "0.2.0", {"accuracy": 0.9}, "reports/iris/v0.2.0/promotion.md")
    why = "drift 4/4 columns ≥ 0.5 (a, b, c, ...)"
    lines = CommitText(*args, reason=why).message().splitlines()
    assert f"Retrained because: {why}" in lines
    assert lines.index(f"Retrained because: {why}") < lines.index("Metrics:")
    assert "Retrained because" not in CommitText(*args).message()
