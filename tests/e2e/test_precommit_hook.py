"""The pre-commit hook end to end: real `pre-commit install`, real `git commit`.

The shipped hooks (`.pre-commit-hooks.yaml`, installed by pre-commit from this source tree at
HEAD, one hook env per module) fail on a stale generated file and pass after apply. Then the check
judges exactly what git is about to commit: `git commit -a` and `git commit PATH` (a temporary
index), renames, copies and type changes, generated files and datasets as staged, partial staging.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.helpers import BIN, env, git, mlcode

pytestmark = pytest.mark.slow

SOURCE = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def _pre_commit(cwd: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    e = env()
    e["PRE_COMMIT_HOME"] = str(home)
    return subprocess.run(
        [str(BIN / "pre-commit"), *args],
        cwd=cwd,
        env=e,
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
    )


# ---------------------------------------------------------------------------------------------
# The hook judges the commit: the index git hands it, every change kind, generated files as staged.
# One applied project per module (copied per test); the hook is a `repo: local` hook running this
# checkout's `mlcode check`, installed by the real `pre-commit install` (no hook env to build).
# ---------------------------------------------------------------------------------------------

LOCAL_HOOK = """repos:
  - repo: local
    hooks:
      - id: mlcode-check
        name: mlcode check
        entry: {mlcode} check
        language: system
        pass_filenames: false
        always_run: true
"""
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "mlcode tests",
    "GIT_AUTHOR_EMAIL": "tests@mlcode.invalid",
    "GIT_COMMITTER_NAME": "mlcode tests",
    "GIT_COMMITTER_EMAIL": "tests@mlcode.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}
BIG = 2_000_000  # over the default 1MB limit


def _commit(repo: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`git commit ARGS` through the installed hook; output is stdout + stderr together."""
    e = env()
    e["PRE_COMMIT_HOME"] = str(home)
    return subprocess.run(
        ["git", "commit", *args],
        cwd=repo,
        env=e,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
        timeout=300,
    )


def _big(size: int = BIG, seed: int = 0) -> bytes:
    import random

    return random.Random(seed).randbytes(size)


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory, pre_commit_home: Path) -> dict[str, Path]:
    """An applied iris project with its own (github) stack file and the hook installed: once as
    apply leaves it (nothing committed), once committed with a small tracked file `notes.bin`."""
    base = tmp_path_factory.mktemp("hook-templates")
    with pytest.MonkeyPatch.context() as mp:  # module scope: the autouse isolation is not set yet
        mp.setenv("HOME", str(base / "home"))
        mp.setenv("XDG_CONFIG_HOME", str(base / "home" / ".config"))
        for key in ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE"):
            mp.delenv(key, raising=False)
        for key, value in GIT_IDENTITY.items():
            mp.setenv(key, value)
        return _build_templates(base, pre_commit_home)


def _build_templates(base: Path, pre_commit_home: Path) -> dict[str, Path]:
    repo = base / "applied"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    assert mlcode(repo, "init", "--example", "iris").returncode == 0
    (repo / "stacks").mkdir()
    (repo / "stacks" / "team.yaml").write_text((SOURCE / "stacks" / "github-s3.yaml").read_text())
    spec = repo / "ml.yaml"
    text = spec.read_text()
    assert "stack: local" in text
    spec.write_text(text.replace("stack: local", "stack: stacks/team.yaml", 1))
    (repo / ".pre-commit-config.yaml").write_text(LOCAL_HOOK.format(mlcode=BIN / "mlcode"))
    (repo / "notes.bin").write_bytes(b"small\n")
    result = mlcode(repo, "apply", "--auto-approve")
    assert result.returncode == 0, result.stderr
    assert (repo / ".github" / "workflows").is_dir()
    git(repo, "add", "stacks", ".pre-commit-config.yaml", "notes.bin")
    installed = _pre_commit(repo, pre_commit_home, "install")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    committed = base / "committed"
    shutil.copytree(repo, committed, symlinks=True)
    first = _commit(committed, pre_commit_home, "-m", "ml project")
    assert first.returncode == 0, first.stdout
    return {"applied": repo, "committed": committed}


@pytest.fixture
def applied_repo(templates: dict[str, Path], tmp_path: Path) -> Path:
    """The applied project, not committed yet."""
    return Path(shutil.copytree(templates["applied"], tmp_path / "repo", symlinks=True))


@pytest.fixture
def committed_repo(templates: dict[str, Path], tmp_path: Path) -> Path:
    """The applied project after its first commit."""
    return Path(shutil.copytree(templates["committed"], tmp_path / "repo", symlinks=True))


def _head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def test_commit_all_sees_a_large_modified_file(committed_repo: Path, pre_commit_home: Path) -> None:
    (committed_repo / "notes.bin").write_bytes(_big())
    before = _head(committed_repo)
    blocked = _commit(committed_repo, pre_commit_home, "-a", "-m", "big notes")
    assert blocked.returncode != 0, blocked.stdout
    assert "notes.bin is staged into git and is 2,000,000 bytes" in blocked.stdout
    assert _head(committed_repo) == before


def test_commit_path_sees_the_named_path(committed_repo: Path, pre_commit_home: Path) -> None:
    (committed_repo / "notes.bin").write_bytes(_big())
    blocked = _commit(committed_repo, pre_commit_home, "-m", "big notes", "notes.bin")
    assert blocked.returncode != 0, blocked.stdout
    assert "notes.bin is staged into git" in blocked.stdout


def test_commit_path_ignores_what_it_does_not_commit(
    committed_repo: Path, pre_commit_home: Path
) -> None:
    """A large file staged in the real index is not part of `git commit PATH`."""
    (committed_repo / "other.bin").write_bytes(_big())
    git(committed_repo, "add", "other.bin")
    (committed_repo / "notes.bin").write_bytes(b"still small\n")
    ok = _commit(committed_repo, pre_commit_home, "-m", "notes only", "notes.bin")
    assert ok.returncode == 0, ok.stdout
    assert git(committed_repo, "show", "--name-only", "--format=", "HEAD").split() == ["notes.bin"]
    assert "other.bin" in git(committed_repo, "diff", "--cached", "--name-only")


def test_renamed_and_modified_large_file(committed_repo: Path, pre_commit_home: Path) -> None:
    data = _big()
    (committed_repo / "blob.bin").write_bytes(data)
    git(committed_repo, "add", "blob.bin")
    git(committed_repo, "commit", "-q", "--no-verify", "-m", "slipped in before the hook")
    git(committed_repo, "mv", "blob.bin", "moved.bin")
    (committed_repo / "moved.bin").write_bytes(data + b"a few more bytes")
    git(committed_repo, "add", "moved.bin")
    status = git(committed_repo, "diff", "--cached", "--name-status")
    assert status.startswith("R"), status
    blocked = _commit(committed_repo, pre_commit_home, "-m", "rename")
    assert blocked.returncode != 0, blocked.stdout
    assert "moved.bin (renamed from blob.bin) is staged into git" in blocked.stdout


def test_copied_large_file(committed_repo: Path, pre_commit_home: Path) -> None:
    """With copy detection on (`diff.renames copies`), a copy shows as C, not A."""
    data = _big()
    (committed_repo / "blob.bin").write_bytes(data)
    git(committed_repo, "add", "blob.bin")
    git(committed_repo, "commit", "-q", "--no-verify", "-m", "slipped in before the hook")
    git(committed_repo, "config", "diff.renames", "copies")
    (committed_repo / "copy.bin").write_bytes(data)
    (committed_repo / "blob.bin").write_bytes(data[:1000])  # the source shrinks under the limit
    git(committed_repo, "add", "copy.bin", "blob.bin")
    status = git(committed_repo, "diff", "--cached", "--name-status")
    assert "C100\tblob.bin\tcopy.bin" in status, status
    blocked = _commit(committed_repo, pre_commit_home, "-m", "copy")
    assert blocked.returncode != 0, blocked.stdout
    assert "copy.bin (copied from blob.bin) is staged into git" in blocked.stdout
    assert "blob.bin is staged" not in blocked.stdout


def test_type_changed_large_file(committed_repo: Path, pre_commit_home: Path) -> None:
    (committed_repo / "asset").symlink_to("notes.bin")
    git(committed_repo, "add", "asset")
    assert _commit(committed_repo, pre_commit_home, "-m", "a link").returncode == 0
    (committed_repo / "asset").unlink()
    (committed_repo / "asset").write_bytes(_big())
    git(committed_repo, "add", "asset")
    assert git(committed_repo, "diff", "--cached", "--name-status").startswith("T")
    blocked = _commit(committed_repo, pre_commit_home, "-m", "link became a big file")
    assert blocked.returncode != 0, blocked.stdout
    assert "asset is staged into git" in blocked.stdout


def test_generated_files_unstaged_after_apply(applied_repo: Path, pre_commit_home: Path) -> None:
    """`git reset .github` after apply: the manifest lists workflows the commit lacks."""
    git(applied_repo, "reset", "-q", ".github")
    blocked = _commit(applied_repo, pre_commit_home, "-m", "without workflows")
    assert blocked.returncode != 0, blocked.stdout
    assert (
        "missing from the commit: .github/workflows/mlcode-finalize.yml, "
        ".github/workflows/mlcode-pr.yml, .github/workflows/mlcode-retrain.yml."
    ) in blocked.stdout
    git(applied_repo, "add", ".github")
    ok = _commit(applied_repo, pre_commit_home, "-m", "with workflows")
    assert ok.returncode == 0, ok.stdout


def test_stack_file_not_tracked(applied_repo: Path, pre_commit_home: Path) -> None:
    git(applied_repo, "rm", "-q", "--cached", "stacks/team.yaml")
    blocked = _commit(applied_repo, pre_commit_home, "-m", "no stack file")
    assert blocked.returncode != 0, blocked.stdout
    assert "stack file 'stacks/team.yaml' is not in the commit" in blocked.stdout


def test_commit_all_after_apply_passes(committed_repo: Path, pre_commit_home: Path) -> None:
    spec = committed_repo / "ml.yaml"
    spec.write_text(spec.read_text().replace("max_depth: 5", "max_depth: 3"))
    blocked = _commit(committed_repo, pre_commit_home, "-a", "-m", "stale")
    assert blocked.returncode != 0, blocked.stdout
    assert "stale in the commit: params.yaml" in blocked.stdout
    assert mlcode(committed_repo, "apply", "--auto-approve").returncode == 0
    git(committed_repo, "reset", "-q")  # nothing staged in the real index: -a must stage it
    ok = _commit(committed_repo, pre_commit_home, "-a", "-m", "in sync")
    assert ok.returncode == 0, ok.stdout


def test_partial_staging_judges_the_staged_version(
    committed_repo: Path, pre_commit_home: Path
) -> None:
    """Stage a stale ml.yaml, then put the working tree back in sync: the commit is stale."""
    spec = committed_repo / "ml.yaml"
    good = spec.read_text()
    spec.write_text(good.replace("max_depth: 5", "max_depth: 3"))
    git(committed_repo, "add", "ml.yaml")
    spec.write_text(good)
    blocked = _commit(committed_repo, pre_commit_home, "-m", "stale staged")
    assert blocked.returncode != 0, blocked.stdout
    assert "stale in the commit: params.yaml" in blocked.stdout
    assert spec.read_text() == good  # pre-commit put the unstaged version back


def _dataset_path(repo: Path, old: str, new: str) -> None:
    spec = repo / "ml.yaml"
    text = spec.read_text()
    assert f"path: {old}" in text
    spec.write_text(text.replace(f"path: {old}", f"path: {new}", 1))
    result = mlcode(repo, "apply", "--auto-approve")
    assert result.returncode == 0, result.stderr


def test_dataset_force_added_under_another_spelling(
    committed_repo: Path, pre_commit_home: Path
) -> None:
    _dataset_path(committed_repo, "data/iris.csv", "./data/iris.csv")
    git(committed_repo, "add", "-f", "data/iris.csv")
    blocked = _commit(committed_repo, pre_commit_home, "-m", "data in git")
    assert blocked.returncode != 0, blocked.stdout
    assert "data/iris.csv is a dataset declared in ml.yaml but is staged into git" in blocked.stdout


def test_dataset_without_file_or_pointer(committed_repo: Path, pre_commit_home: Path) -> None:
    git(committed_repo, "rm", "-q", "data/iris_latest.csv.dvc")
    (committed_repo / "data" / "iris_latest.csv").unlink()
    blocked = _commit(committed_repo, pre_commit_home, "-m", "lost the data")
    assert blocked.returncode != 0, blocked.stdout
    assert (
        "dataset data/iris_latest.csv is declared in ml.yaml but neither the file nor its DVC "
        "pointer data/iris_latest.csv.dvc exists"
    ) in blocked.stdout


def test_dataset_pointer_not_in_commit(committed_repo: Path, pre_commit_home: Path) -> None:
    git(committed_repo, "rm", "-q", "--cached", "data/iris.csv.dvc")
    blocked = _commit(committed_repo, pre_commit_home, "-m", "pointer unstaged")
    assert blocked.returncode != 0, blocked.stdout
    assert "its DVC pointer data/iris.csv.dvc is not in the commit" in blocked.stdout


# A plain git hook (no pre-commit, so no stash of unstaged changes): only the index counts.
PLAIN_HOOK = "#!/bin/sh\nexec {mlcode} check\n"


@pytest.fixture
def plain_hook_repo(committed_repo: Path) -> Path:
    hook = committed_repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(PLAIN_HOOK.format(mlcode=BIN / "mlcode"))
    hook.chmod(0o755)
    return committed_repo


def test_plain_hook_stale_index_fresh_tree_is_blocked(
    plain_hook_repo: Path, pre_commit_home: Path
) -> None:
    spec = plain_hook_repo / "ml.yaml"
    spec.write_text(spec.read_text().replace("max_depth: 5", "max_depth: 3"))
    assert mlcode(plain_hook_repo, "apply", "--auto-approve").returncode == 0
    git(plain_hook_repo, "reset", "-q", "params.yaml")  # the tree is in sync, the index is not
    blocked = _commit(plain_hook_repo, pre_commit_home, "-m", "stale params staged")
    assert blocked.returncode != 0, blocked.stdout
    assert "stale in the commit: params.yaml" in blocked.stdout


def test_plain_hook_fresh_index_stale_tree_passes(
    plain_hook_repo: Path, pre_commit_home: Path
) -> None:
    spec = plain_hook_repo / "ml.yaml"
    (plain_hook_repo / "notes.bin").write_bytes(b"a change\n")
    git(plain_hook_repo, "add", "notes.bin")
    spec.write_text(spec.read_text().replace("max_depth: 5", "max_depth: 3"))  # not staged
    ok = _commit(plain_hook_repo, pre_commit_home, "-m", "notes")
    assert ok.returncode == 0, ok.stdout
    assert "fast path" in ok.stdout


# ---------------------------------------------------------------------------------------------
# The hooks as shipped: pre-commit installs them from this source tree (one env for the module).
# ---------------------------------------------------------------------------------------------


def _shipped_hooks(repo: Path) -> None:
    rev = git(SOURCE, "rev-parse", "HEAD").strip()
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {SOURCE}\n    rev: {rev}\n    hooks:\n"
        "      - id: mlcode-check\n      - id: mlcode-validate\n"
    )
    git(repo, "add", ".pre-commit-config.yaml")


def _make_stale(root: Path) -> None:
    spec = root / "ml.yaml"
    spec.write_text(spec.read_text().replace("max_depth: 5", "max_depth: 3"))
    git(root, "add", "ml.yaml")


def test_shipped_hooks_fail_on_stale_then_pass(committed_repo: Path, pre_commit_home: Path) -> None:
    _shipped_hooks(committed_repo)
    _make_stale(committed_repo)
    failing = _pre_commit(committed_repo, pre_commit_home, "run", "--all-files")
    assert failing.returncode != 0, failing.stdout + failing.stderr
    assert "out of sync" in failing.stdout
    assert mlcode(committed_repo, "apply", "--auto-approve").returncode == 0
    passing = _pre_commit(committed_repo, pre_commit_home, "run", "--all-files")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "mlcode validate" in passing.stdout


def test_installed_shipped_hook_blocks_a_stale_commit(
    committed_repo: Path, pre_commit_home: Path
) -> None:
    _shipped_hooks(committed_repo)
    _make_stale(committed_repo)
    blocked = _commit(committed_repo, pre_commit_home, "-m", "stale")
    assert blocked.returncode != 0, blocked.stdout
    assert "out of sync" in blocked.stdout
    assert mlcode(committed_repo, "apply", "--auto-approve").returncode == 0
    ok = _commit(committed_repo, pre_commit_home, "-m", "in sync")
    assert ok.returncode == 0, ok.stdout
