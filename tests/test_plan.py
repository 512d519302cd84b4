"""The pure plan: create / update / delete / noop, hand edits, foreign files, counts."""

from __future__ import annotations

from mlcode.compile.header import with_header
from mlcode.layout import MANIFEST_FILE
from mlcode.project.manifest import Manifest, sha256_text
from mlcode.project.plan import GENERATED_PATHS, FileChange, Plan, RemoteChange, plan_files


def _by_path(changes: list[FileChange]) -> dict[str, FileChange]:
    return {c.path: c for c in changes}


def test_create_update_noop_delete() -> None:
    old_a = with_header("a: 1\n")
    new_a = with_header("a: 2\n")
    same = with_header("b: 1\n")
    gone = with_header("c: 1\n")
    manifest = Manifest(
        files={
            p: sha256_text(t) for p, t in {"a": old_a, "b": same, ".gitlab-ci.yml": gone}.items()
        }
    )
    compiled = {"a": new_a, "b": same, "n": with_header("n: 1\n")}
    on_disk = {"a": old_a, "b": same, ".gitlab-ci.yml": gone, "n": None}
    changes = _by_path(plan_files(compiled, on_disk, manifest))
    assert changes["a"].action == "update"
    assert changes["b"].action == "noop"
    assert changes[".gitlab-ci.yml"].action == "delete"
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
    manifest = Manifest(files={"params.yaml": sha256_text(written)})
    changes = plan_files({}, {"params.yaml": written + "# mine\n"}, manifest)
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


def test_tampered_manifest_paths_are_never_planned() -> None:
    """Whatever the manifest lists, only generated paths can be deleted or even looked at."""
    gone = with_header("c: 1\n")
    manifest = Manifest(
        files={p: sha256_text(gone) for p in (".git/HEAD", "ml.yaml", "data/x.csv", "dvc.yaml")}
    )
    on_disk: dict[str, str | None] = dict.fromkeys(manifest.files, gone)
    changes = plan_files({}, on_disk, manifest)
    assert [(c.path, c.action) for c in changes] == [("dvc.yaml", "delete")]


def test_file_without_header_is_not_deleted() -> None:
    manifest = Manifest(files={"dvc.yaml": "0" * 64})
    assert plan_files({}, {"dvc.yaml": "stages: {}\n"}, manifest) == []


def test_file_equal_to_compile_is_a_noop_whatever_the_manifest_says() -> None:
    text = with_header("a: 1\n")
    for manifest in (Manifest(), Manifest(files={"dvc.yaml": "0" * 64})):
        changes = plan_files({"dvc.yaml": text}, {"dvc.yaml": text}, manifest)
        assert changes[0].action == "noop"
        assert not changes[0].foreign
        assert not changes[0].hand_edited


def test_manifest_is_a_change_until_written() -> None:
    files = {"a": with_header("a: 1\n")}
    on_disk: dict[str, str | None] = {"a": files["a"], MANIFEST_FILE: None}
    [_, create] = plan_files(files, on_disk, Manifest(), "{}\n")
    assert (create.path, create.action) == (MANIFEST_FILE, "create")
    on_disk[MANIFEST_FILE] = "{}\n"
    assert plan_files(files, on_disk, Manifest(), "{}\n")[1].action == "noop"
    assert plan_files(files, on_disk, Manifest(), "{ }\n")[1].action == "update"


def test_half_applied_states_are_changes() -> None:
    for plan in (
        Plan(files=[], stage=["dvc.yaml"]),
        Plan(files=[], untrack=["data/x.csv"], track=["data/x.csv"]),
        Plan(files=[], autostage=True),
    ):
        assert plan.has_changes


def test_compile_generates_only_known_paths() -> None:
    """Apply deletes only GENERATED_PATHS: every file compile produces must be one of them."""
    from mlcode.compile import compile_project
    from mlcode.resources import stack_presets
    from mlcode.spec.load import load_file, parse_spec, parse_stack
    from mlcode.spec.yamlsource import parse

    spec = parse_spec(
        parse(
            "version: 1\nproject: p\ndata:\n  d:\n    path: d.csv\n    target: y\n"
            "    features: {numeric: [a]}\nmodels:\n  m:\n    task: regression\n    data: d\n"
            "    estimator: sklearn.linear_model.Ridge\n",
            "ml.yaml",
        )
    )
    from mlcode.project.preflight import _CI_FILES

    for name, path in stack_presets().items():
        stack = parse_stack(load_file(str(path), name))
        files = set(compile_project(spec, stack))
        assert files <= GENERATED_PATHS, name
        # validate's check of foreign files at generated paths looks at every one of them
        assert files == {"dvc.yaml", "params.yaml", *_CI_FILES[stack.ci]}, name
