"""The pure plan: create / update / delete / noop, hand edits, foreign files, counts."""

from __future__ import annotations

from mlcode.compile.header import with_header
from mlcode.manifest import Manifest, sha256_text
from mlcode.plan import FileChange, Plan, RemoteChange, plan_files


def _by_path(changes: list[FileChange]) -> dict[str, FileChange]:
    return {c.path: c for c in changes}


def test_create_update_noop_delete() -> None:
    old_a = with_header("a: 1\n")
    new_a = with_header("a: 2\n")
    same = with_header("b: 1\n")
    gone = with_header("c: 1\n")
    manifest = Manifest(
        files={p: sha256_text(t) for p, t in {"a": old_a, "b": same, "c": gone}.items()}
    )
    compiled = {"a": new_a, "b": same, "n": with_header("n: 1\n")}
    on_disk = {"a": old_a, "b": same, "c": gone, "n": None}
    changes = _by_path(plan_files(compiled, on_disk, manifest))
    assert changes["a"].action == "update"
    assert changes["b"].action == "noop"
    assert changes["c"].action == "delete"
    assert changes["n"].action == "create"
    assert not any(c.hand_edited or c.foreign for c in changes.values())


def test_hand_edit_detected_by_manifest_hash() -> None:
    written = with_header("a: 1\n")
    edited = written + "extra: true\n"
    manifest = Manifest(files={"a": sha256_text(written)})
    changes = plan_files({"a": written}, {"a": edited}, manifest)
    assert changes[0].action == "update"
    assert changes[0].hand_edited


def test_hand_edit_detected_by_header_when_manifest_lost() -> None:
    edited = with_header("a: 1\n") + "extra: true\n"
    changes = plan_files({"a": with_header("a: 1\n")}, {"a": edited}, Manifest())
    assert changes[0].hand_edited
    assert not changes[0].foreign


def test_foreign_file_is_flagged() -> None:
    changes = plan_files(
        {"dvc.yaml": with_header("x: 1\n")}, {"dvc.yaml": "stages: {}\n"}, Manifest()
    )
    assert changes[0].foreign


def test_deleting_a_hand_edited_file_is_flagged() -> None:
    written = with_header("a: 1\n")
    manifest = Manifest(files={"a": sha256_text(written)})
    changes = plan_files({}, {"a": written + "# mine\n"}, manifest)
    assert changes[0].action == "delete"
    assert changes[0].hand_edited


def test_absent_file_only_in_manifest_is_dropped() -> None:
    manifest = Manifest(files={"a": "0" * 64})
    assert plan_files({}, {"a": None}, manifest) == []


def test_counts_and_has_changes() -> None:
    files = [
        FileChange("a", "create", None, "x"),
        FileChange("b", "update", "x", "y"),
        FileChange("c", "delete", "x", None),
        FileChange("d", "noop", "x", "x"),
    ]
    plan = Plan(files=files, remote=RemoteChange("s", None, "u"), track=["data/x.csv"])
    assert plan.counts() == (2, 2, 1)
    assert plan.has_changes
    assert not Plan(files=[FileChange("d", "noop", "x", "x")]).has_changes
