"""Which DVC targets a commit's pointer change hands to the pre-push check."""

from __future__ import annotations

from mlcode.project.pointer_changes import changed_targets

DVC_FILE = "outs:\n- md5: {md5}\n  size: 3\n  hash: md5\n  path: d.csv\n"
LOCK = """schema: '2.0'
stages:
  prepare:
    cmd: mlcode step prepare m
    deps:
    - path: data/d.csv
      md5: {dep}
    outs:
    - path: build/train.parquet
      md5: {prepare}
  train:
    cmd: mlcode step train m
    outs:
    - path: models/m
      md5: {train}.dir
"""


def _lock(dep: str = "d1", prepare: str = "p1", train: str = "t1") -> str:
    return LOCK.format(dep=dep, prepare=prepare, train=train)


def test_dvc_file_added_changed_unchanged_deleted() -> None:
    one, two = DVC_FILE.format(md5="a" * 32), DVC_FILE.format(md5="b" * 32)
    assert changed_targets("data/d.csv.dvc", None, one) == ["data/d.csv.dvc"]
    assert changed_targets("data/d.csv.dvc", one, two) == ["data/d.csv.dvc"]
    assert changed_targets("data/d.csv.dvc", one, one + "desc: same data\n") == []
    assert changed_targets("data/d.csv.dvc", one, None) == []


def test_lock_names_only_the_stages_whose_outputs_changed() -> None:
    assert changed_targets("dvc.lock", None, _lock()) == ["dvc.yaml:prepare", "dvc.yaml:train"]
    assert changed_targets("dvc.lock", _lock(), _lock(train="t2")) == ["dvc.yaml:train"]
    assert changed_targets("sub/dvc.lock", _lock(), _lock(prepare="p2")) == ["sub/dvc.yaml:prepare"]
    assert changed_targets("dvc.lock", _lock(), _lock(dep="d2")) == []  # outputs as they were
    assert changed_targets("dvc.lock", _lock(), None) == []


def test_unparsable_pointer_is_handed_to_dvc_whole() -> None:
    assert changed_targets("sub/dvc.lock", _lock(), "stages: [") == ["sub/dvc.yaml"]
    assert changed_targets("sub/dvc.lock", "stages: [", _lock(train="t2")) == [
        "sub/dvc.yaml:prepare",
        "sub/dvc.yaml:train",
    ]
    assert changed_targets("d.csv.dvc", "outs: [", DVC_FILE.format(md5="a" * 32)) == ["d.csv.dvc"]
