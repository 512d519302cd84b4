"""`mlcode check` judges what git is about to commit: the index git hands it (GIT_INDEX_FILE kept
for git reading this repository, stripped for everything else), every change kind, generated
files and datasets as staged. Real git repositories; the hook-level tests are in
tests/e2e/test_precommit_hook.py.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mlcode import __version__
from mlcode.adapters.git import StagedChange, staged_blobs, staged_changes
from mlcode.adapters.proc import clean_env, hook_env, run
from mlcode.cli import cli
from mlcode.cli.boundary import run_guarded
from mlcode.project.check import _stage_outputs, _staged_problems, norm_path, run_check
from mlcode.project.manifest import Manifest, inputs_hash, sha256_text
from mlcode.project.sync import in_sync
from tests.e2e.helpers import git, mlcode
from tests.test_imports import HEAVY, _loaded

IDENTITY = {
    "GIT_AUTHOR_NAME": "mlcode tests",
    "GIT_AUTHOR_EMAIL": "tests@mlcode.invalid",
    "GIT_COMMITTER_NAME": "mlcode tests",
    "GIT_COMMITTER_EMAIL": "tests@mlcode.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}
BIG = 1_500_000


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("data/iris.csv", "data/iris.csv"),
        ("./data/iris.csv", "data/iris.csv"),
        ("data//iris.csv", "data/iris.csv"),
        ("data/./iris.csv", "data/iris.csv"),
        ("data\\iris.csv", "data/iris.csv"),
        ("./data/x/../iris.csv", "data/iris.csv"),
        ("/data/iris.csv", "data/iris.csv"),
        (".", ""),
    ],
)
def test_norm_path(raw: str, norm: str) -> None:
    assert norm_path(raw) == norm


def test_in_sync_needs_every_input_and_file() -> None:
    spec, stack = b"version: 1\n", b"ci: none\n"
    manifest = Manifest(
        files={"dvc.yaml": sha256_text("x")},
        inputs=inputs_hash(spec, stack, __version__, "t1"),
        mlcode_version=__version__,
    )
    same = {"dvc.yaml": sha256_text("x")}
    assert in_sync(manifest, spec, stack, same, "t1")
    assert not in_sync(manifest, spec, stack, {"dvc.yaml": sha256_text("y")}, "t1")
    assert not in_sync(manifest, spec, stack, {"dvc.yaml": None}, "t1")
    assert not in_sync(manifest, spec, None, same, "t1")
    assert not in_sync(manifest, spec + b"#", stack, same, "t1")
    assert not in_sync(manifest, spec, stack, same, "t2")  # shipped templates changed
    old = Manifest(files=manifest.files, inputs=manifest.inputs, mlcode_version="0.0.0")
    assert not in_sync(old, spec, stack, same, "t1")


def test_staged_problems_every_change_kind() -> None:
    zero = "0" * 40
    changes = [
        StagedChange("moved.bin", "R", "100644", "a" * 40, "old.bin"),
        StagedChange("copy.bin", "C", "100644", "b" * 40, "src.bin"),
        StagedChange("asset", "T", "100644", "c" * 40),
        StagedChange("small.txt", "M", "100644", "d" * 40),
        StagedChange("data/iris.csv", "A", "100644", "e" * 40),
        StagedChange("conflict.bin", "U", "100644", zero),
    ]
    sizes = {"moved.bin": BIG, "copy.bin": BIG, "asset": BIG, "small.txt": 10, "data/iris.csv": 5}
    problems = _staged_problems(changes, sizes, 1_000_000, {"data/iris.csv"})
    assert [p.split(" is ")[0] for p in problems] == [
        "moved.bin (renamed from old.bin)",
        "copy.bin (copied from src.bin)",
        "asset",
        "data/iris.csv",
    ]


def test_stage_outputs_reads_outs_metrics_plots_and_wdir() -> None:
    text = (
        "stages:\n"
        "  a: {cmd: x, outs: [data/clean.csv, {models/m.pkl: {cache: true}}]}\n"
        "  b: {cmd: y, wdir: sub, metrics: [m.json], plots: [./p.json]}\n"
    )
    assert _stage_outputs(text) == {"data/clean.csv", "models/m.pkl", "sub/m.json", "sub/p.json"}
    assert _stage_outputs(": not yaml [") == set()


def test_hook_env_keeps_the_index_and_clean_env_drops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_INDEX_FILE", ".git/index.tmp")
    monkeypatch.setenv("GIT_WORK_TREE", "/abs/tree")
    assert hook_env()["GIT_INDEX_FILE"] == str(tmp_path / ".git" / "index.tmp")
    assert hook_env()["GIT_WORK_TREE"] == "/abs/tree"
    assert "GIT_INDEX_FILE" not in clean_env()
    assert "GIT_WORK_TREE" not in clean_env()
    show = ["sh", "-c", 'printf %s "$GIT_INDEX_FILE"']
    other = tmp_path / "elsewhere"
    other.mkdir()
    assert run(show, other, what="sh").stdout == ""  # DVC and other repositories: clean
    kept = run(show, other, what="sh", keep_hook_env=True).stdout
    assert kept == str(tmp_path / ".git" / "index.tmp")


@pytest.fixture
def small_repo(git_repo: Path) -> Path:
    (git_repo / "a.txt").write_text("a\n")
    git(git_repo, "add", "a.txt")
    git(git_repo, "commit", "-qm", "first")
    return git_repo


def test_staged_changes_reads_the_index_git_hands_over(
    small_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A temporary index (as `git commit -a` makes) is what counts, not .git/index."""
    name = "odd name\twith tab\nand newline é.bin"
    (small_repo / name).write_bytes(b"x" * BIG)
    env = dict(os.environ, GIT_INDEX_FILE=str(small_repo / ".git" / "index.tmp"))
    subprocess.run(["git", "read-tree", "HEAD"], cwd=small_repo, env=env, check=True)
    subprocess.run(["git", "add", "--", name], cwd=small_repo, env=env, check=True)
    assert staged_changes(small_repo) == []
    monkeypatch.chdir(small_repo)
    monkeypatch.setenv("GIT_INDEX_FILE", ".git/index.tmp")  # relative, as git gives it
    changes = staged_changes(small_repo / ".git" / "..")
    assert [(c.path, c.status) for c in changes] == [(name, "A")]


def test_staged_blobs_streams_large_blobs(small_repo: Path) -> None:
    data = os.urandom(300_000)
    (small_repo / "big.bin").write_bytes(data)
    (small_repo / "link").symlink_to("a.txt")
    git(small_repo, "add", "big.bin", "link")
    (small_repo / "big.bin").write_bytes(b"working tree differs")
    blobs = staged_blobs(small_repo, ["big.bin", "a.txt", "link", "absent", "a.txt"], 1000)
    assert sorted(blobs) == ["a.txt", "big.bin", "link"]
    assert blobs["big.bin"].data is None
    assert blobs["big.bin"].size == len(data)
    assert blobs["big.bin"].sha256 == hashlib.sha256(data).hexdigest()
    assert blobs["a.txt"].data == b"a\n"
    assert blobs["link"].is_symlink
    assert blobs["link"].data == b"a.txt"


@pytest.fixture(scope="module")
def applied_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An applied, committed iris project (built once per module)."""
    base = tmp_path_factory.mktemp("checks-template")
    with pytest.MonkeyPatch.context() as mp:  # module scope: the autouse isolation is not set yet
        mp.setenv("HOME", str(base / "home"))
        for key in ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE"):
            mp.delenv(key, raising=False)
        for key, value in IDENTITY.items():
            mp.setenv(key, value)
        repo = base / "repo"
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        assert mlcode(repo, "init", "--example", "iris").returncode == 0
        result = mlcode(repo, "apply", "--auto-approve")
        assert result.returncode == 0, result.stderr
        git(repo, "commit", "-qm", "ml project")
    return repo


@pytest.fixture
def applied(applied_template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(applied_template, tmp_path / "repo", symlinks=True))


def test_fast_path_on_the_committed_project(applied: Path) -> None:
    report = run_check(applied, 1_000_000)
    assert report.problems == []
    assert report.mode.startswith("fast path")


def test_temporary_index_is_judged(
    applied: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same working tree passes or fails by the index the hook is handed (here from a
    subdirectory, as a hook may be started)."""
    (applied / "big.bin").write_bytes(b"\0" * BIG)
    env = dict(os.environ, GIT_INDEX_FILE=str(applied / ".git" / "next-index.lock"))
    subprocess.run(["git", "read-tree", "HEAD"], cwd=applied, env=env, check=True)
    subprocess.run(["git", "add", "big.bin"], cwd=applied, env=env, check=True)
    assert run_check(applied, 1_000_000).problems == []
    monkeypatch.setenv("GIT_INDEX_FILE", env["GIT_INDEX_FILE"])
    assert run_guarded(cli, ["-C", str(applied / "data"), "check"]) == 1
    problems = capsys.readouterr().err.split("\n  - ")[1:]
    assert len(problems) == 1
    assert problems[0].startswith("big.bin is staged into git and is 1,500,000 bytes")


def test_dataset_spelled_with_double_slash(applied: Path) -> None:
    spec = applied / "ml.yaml"
    spec.write_text(spec.read_text().replace("path: data/iris.csv", "path: data//iris.csv", 1))
    result = mlcode(applied, "apply", "--auto-approve")  # the manifest records `data//iris.csv`
    assert result.returncode == 0, result.stderr
    git(applied, "add", "-f", "data/iris.csv")
    report = run_check(applied, 1_000_000)
    assert report.mode.startswith("fast path")
    assert any(
        p.startswith("data/iris.csv is a dataset declared in ml.yaml but is staged into git")
        for p in report.problems
    ), report.problems


def test_full_path_compiles_the_staged_spec_not_the_working_tree(applied: Path) -> None:
    spec = applied / "ml.yaml"
    good = spec.read_text()
    spec.write_text(good.replace("project:", "projct:"))  # invalid, but only in the tree
    (applied / "notes.txt").write_text("x\n")
    git(applied, "add", "notes.txt")
    assert run_check(applied, 1_000_000).problems == []
    git(applied, "add", "ml.yaml")
    spec.write_text(good)  # valid in the tree, invalid as staged
    problems = run_check(applied, 1_000_000).problems
    assert problems, "the staged ml.yaml is invalid"
    assert problems[0].startswith("ml.yaml (as staged) is invalid:")
    assert "projct" in problems[0]


def test_ml_yaml_not_in_the_commit(applied: Path) -> None:
    git(applied, "rm", "-q", "--cached", "ml.yaml")
    problems = run_check(applied, 1_000_000).problems
    assert problems[0] == "ml.yaml is not in the commit (git does not track it): `git add ml.yaml`"


@pytest.mark.slow
@pytest.mark.parametrize("stale", [False, True])
def test_check_imports_nothing_heavy(applied: Path, tmp_path: Path, stale: bool) -> None:
    """Both the fast path and the full compile stay free of dvc, pandas, scikit-learn, scipy."""
    if stale:
        spec = applied / "ml.yaml"
        spec.write_text(spec.read_text().replace("max_depth: 5", "max_depth: 3"))
        git(applied, "add", "ml.yaml")
    code, modules = _loaded(tmp_path, "-C", str(applied), "check")
    assert code == (1 if stale else 0)
    assert sorted(set(HEAVY) & modules) == []
    if not stale:
        assert "pydantic" not in modules


def test_dataset_committed_to_git_earlier(applied: Path) -> None:
    git(applied, "add", "-f", "data/iris_latest.csv")
    git(applied, "commit", "-qm", "data slipped into git")
    (applied / "notes.txt").write_text("x\n")
    git(applied, "add", "notes.txt")
    assert run_check(applied, 1_000_000).problems == [
        "dataset data/iris_latest.csv is declared in ml.yaml but git tracks it (from an earlier "
        "commit); data is versioned by DVC: `git rm --cached data/iris_latest.csv` then "
        "`mlcode apply`"
    ]


def test_tampered_manifest_paths_outside_the_repository(applied: Path) -> None:
    """A manifest naming `../x` or `/etc/passwd` owns nothing there: reported, never read."""
    import json

    path = applied / ".mlcode" / "manifest.json"
    data = json.loads(path.read_text())
    data["files"].update({"../outside": "0" * 64, "/etc/passwd": "0" * 64})
    data["datasets"].append("../../etc/shadow")
    path.write_text(json.dumps(data))
    git(applied, "add", ".mlcode/manifest.json")
    problems = run_check(applied, 1_000_000).problems
    assert problems == [
        "generated files are out of sync with ml.yaml (as staged); stale in the commit: "
        ".mlcode/manifest.json. Run `mlcode apply`, `git add` those files, and commit again."
    ]


def test_stack_file_staged_as_a_symlink(applied: Path) -> None:
    (applied / "stacks").mkdir()
    real = applied / "stacks" / "real.yaml"
    real.write_text((Path(__file__).parents[1] / "stacks" / "local.yaml").read_text())
    (applied / "stacks" / "team.yaml").symlink_to("real.yaml")
    spec = applied / "ml.yaml"
    spec.write_text(spec.read_text().replace("stack: local", "stack: stacks/team.yaml", 1))
    git(applied, "add", "ml.yaml", "stacks")
    problems = run_check(applied, 1_000_000).problems
    assert "stack file 'stacks/team.yaml' is staged as a symlink" in problems[0], problems
