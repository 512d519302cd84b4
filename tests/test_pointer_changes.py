"""Which DVC targets a commit's pointer change hands to the pre-push check."""

from __future__ import annotations

from mlcode.project.pointer_changes import PointedObject, changed_targets, pointed_objects

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


PIPELINE = """stages:
  prepare:
    cmd: mlcode step prepare m
    outs:
      - build/train.parquet
  train:
    cmd: mlcode step train m
    outs:
      - models/m
    metrics:
      - metrics/m.json:
          cache: false
"""
LOCK_V3 = """schema: '2.0'
stages:
  train:
    cmd: mlcode step train m
    outs:
    - path: models/m
      hash: md5
      md5: {train}.dir
      size: 9
      nfiles: 2
    - path: metrics/m.json
      hash: md5
      md5: {metrics}
      size: 3
"""


def test_objects_named_outright_by_a_plain_pipeline_and_dvc_file() -> None:
    lock = LOCK_V3.format(train="t" * 32, metrics="e" * 32)
    dvc_file = DVC_FILE.format(md5="a" * 32)
    texts: dict[str, str | None] = {
        "sub/dvc.yaml": PIPELINE,
        "sub/dvc.lock": lock,
        "data/d.csv.dvc": dvc_file,
    }
    objects, left = pointed_objects(["sub/dvc.yaml:train", "data/d.csv.dvc"], texts)
    assert objects == [  # the metrics file is `cache: false`: never pushed, never asked about
        PointedObject("sub/models/m", "t" * 32 + ".dir"),
        PointedObject("data/d.csv", "a" * 32),
    ]
    assert left == []


def test_what_is_not_plainly_written_is_left_to_dvc() -> None:
    lock = LOCK_V3.format(train="t" * 32, metrics="e" * 32)
    imported = "deps:\n- path: x\n  repo: {url: u}\n" + DVC_FILE.format(md5="a" * 32)
    legacy = "outs:\n- md5: " + "a" * 32 + "\n  path: d.csv\n"  # DVC 2: no `hash: md5`
    templated = PIPELINE.replace("models/m\n", "models/${name}\n").replace(
        "stages:", "vars:\n  - name: m\nstages:"
    )
    undeclared = PIPELINE.replace("      - models/m\n", "      - models/other\n")
    texts: dict[str, str | None] = {
        "a/dvc.yaml": templated,
        "a/dvc.lock": lock,
        "b/dvc.yaml": undeclared,
        "b/dvc.lock": lock,
        "i.dvc": imported,
        "l.dvc": legacy,
    }
    targets = ["a/dvc.yaml:train", "b/dvc.yaml:train", "i.dvc", "l.dvc", "c/dvc.yaml"]
    assert pointed_objects(targets, texts) == ([], targets)
