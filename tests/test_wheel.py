"""The built wheel works on its own: the distribution `mlcode-git` with the `mlcode` command, shipped
stacks inside, installed the way generated CI installs a committed wheel, init + validate from a
fresh venv."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from mlcode.spec import install

REPO = Path(__file__).resolve().parent.parent


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, env=env or os.environ, check=False
    )
    assert result.returncode == 0, f"{cmd}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.mark.slow
def test_wheel_installs_and_runs_in_fresh_venv(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    _run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)],
        REPO,
    )
    [wheel] = list(dist.glob("*.whl"))
    assert wheel.name.startswith("mlcode_git-"), wheel.name  # not the unrelated `mlcode`
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = sorted(p.name for p in (REPO / "stacks").glob("*.yaml"))
    assert "local.yaml" in shipped
    for name in shipped:
        assert f"mlcode/_data/stacks/{name}" in names
    assert "mlcode/cli/__init__.py" in names
    assert not any(n.startswith("tests/") for n in names)

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path)
    new_python = venv / "bin" / "python"
    purelib = Path(
        _run(
            [str(new_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            tmp_path,
        ).strip()
    )
    # Dependencies come from this interpreter's site-packages: no download needed.
    (purelib / "deps-from-test-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # Exactly the argument a workflow with `ci.install: dist/<wheel>` passes to pip, from the
    # repository root (the extra is the remote's; --no-deps: this test has no index).
    source = install.parse(f"dist/{wheel.name}")
    argument = install.requirement(source, "s3")
    assert argument == f"./dist/{wheel.name}[s3]"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(new_python),
            "install",
            "--no-deps",
            "--no-index",
            argument,
        ],
        tmp_path,
    )

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    where = _run([str(new_python), "-c", "import mlcode; print(mlcode.__file__)"], tmp_path, env)
    assert Path(where.strip()).resolve().is_relative_to(venv.resolve())
    assert not Path(where.strip()).resolve().is_relative_to(REPO)
    meta = _run(
        [
            str(new_python),
            "-c",
            "from importlib.metadata import distribution as d; m = d('mlcode-git'); "
            "print(m.metadata['Name'], [e.value for e in m.entry_points if e.name == 'mlcode'])",
        ],
        tmp_path,
        env,
    )
    assert meta.strip() == "mlcode-git ['mlcode.cli:main']"

    project = tmp_path / "project"
    project.mkdir()
    mlcode = str(venv / "bin" / "mlcode")
    _run([mlcode, "init", "--example", "iris"], project, env)
    out = _run([mlcode, "validate"], project, env)
    assert "ml.yaml is valid" in out
    assert "stack 'local'" in out
    stacks = _run(
        [
            str(new_python),
            "-c",
            "from mlcode.resources import stack_presets; print(sorted(stack_presets().items()))",
        ],
        project,
        env,
    )
    assert "_data/stacks/local.yaml" in stacks


@pytest.mark.slow
def test_git_commit_requirement_names_the_repository_root(tmp_path: Path) -> None:
    """The requirement a workflow with `ci.install: git+...@<sha>` installs is one pip accepts, and
    the distribution at the repository's root is the one it names (else pip refuses the install)."""
    repo = tmp_path / "mlcode-repo"
    for part in ("pyproject.toml", "README.md", "mlcode", "stacks", "templates"):
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, repo / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            repo.mkdir(exist_ok=True)
            shutil.copy2(src, repo / part)
    _run(["git", "init", "-q", "-b", "main"], repo)
    _run(["git", "add", "-A"], repo)
    _run(["git", "commit", "-q", "-m", "snapshot"], repo)
    sha = _run(["git", "rev-parse", "HEAD"], repo).strip()
    source = install.Source(kind="git", dist=install.GIT_DIST, url=f"git+file://{repo}@{sha}")
    argument = install.requirement(source, "s3")
    assert argument == f"{install.GIT_DIST}[s3] @ git+file://{repo}@{sha}"
    report = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--ignore-installed",
            "--report",
            "-",
            argument,
        ],
        tmp_path,
    )
    [item] = json.loads(report)["install"]
    assert item["metadata"]["name"] == install.GIT_DIST
    assert item["download_info"]["vcs_info"]["commit_id"] == sha
    assert item["requested_extras"] == ["s3"]
