"""The built distributions work on their own, in fresh virtual environments.

- `mlcode-git-core` (the repository's root): the code, the `mlcode` command, the shipped stacks and
  templates; light dependencies, with DVC, scikit-learn, pandas, pyarrow and skops in its `ml`
  extra. This is what mlcode's pre-commit hook installs.
- `mlcode-git` (packages/mlcode-git): what users install; no code, it depends on
  `mlcode-git-core[ml]` at the same version (the name `mlcode` on the package index is unrelated).

A full environment (the core installed the way generated CI installs a committed wheel) inits and
validates a project; a light environment (only the core's own dependencies, no network: linked
from this interpreter's site-packages) runs `check` and `validate`, and the commands that need
DVC or scikit-learn stop with a message saying what to install instead of a traceback.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from email.parser import HeaderParser
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from mlcode import __version__
from mlcode.cli.needs import FULL
from mlcode.spec import install
from tests.e2e.helpers import git, mlcode

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
META_SOURCE = REPO / "packages" / install.DIST


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, env=env or os.environ, check=False
    )
    assert result.returncode == 0, f"{cmd}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both wheels, built once from this checkout."""
    dist = tmp_path_factory.mktemp("dist")
    build = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)]
    _run(build, REPO)
    _run(build, META_SOURCE)
    [core] = list(dist.glob("mlcode_git_core-*.whl"))
    [meta] = list(dist.glob("mlcode_git-*.whl"))
    return {"core": core, "meta": meta, "dir": dist}


def _metadata(wheel: Path) -> tuple[str, str, list[Requirement]]:
    with zipfile.ZipFile(wheel) as archive:
        [name] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        headers = HeaderParser().parsestr(archive.read(name).decode())
    requires = [Requirement(r) for r in headers.get_all("Requires-Dist") or []]
    return headers["Name"], headers["Version"], requires


def _unconditional(requires: list[Requirement]) -> set[str]:
    return {canonicalize_name(r.name) for r in requires if r.marker is None}


def _for_extra(requires: list[Requirement], extra: str) -> list[Requirement]:
    return [r for r in requires if r.marker is not None and r.marker.evaluate({"extra": extra})]


def _venv(root: Path, site_dirs: list[Path]) -> tuple[Path, dict[str, str]]:
    """A fresh venv whose only other packages are those in `site_dirs`; its python and env."""
    _run([sys.executable, "-m", "venv", "--without-pip", str(root)], root.parent)
    python = root / "bin" / "python"
    purelib = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            root.parent,
        ).strip()
    )
    (purelib / "deps-from-test-env.pth").write_text("".join(f"{d}\n" for d in site_dirs))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{root / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return python, env


def _pip_install(python: Path, cwd: Path, *arguments: str) -> None:
    """Install into `python`'s venv without an index or dependencies (they come from site_dirs)."""
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install"]
    _run([*pip, "--no-deps", "--no-index", *arguments], cwd)


def _light_site(target: Path, requirements: list[Requirement]) -> None:
    """Link into `target` the installed distributions `requirements` need (no extras), only."""
    target.mkdir()
    seen: set[str] = set()
    todo = list(requirements)
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in seen or (req.marker is not None and not req.marker.evaluate({"extra": ""})):
            continue
        seen.add(name)
        dist = metadata.distribution(req.name)
        for file in dist.files or []:
            top = file.parts[0]
            if top in ("..", "__pycache__") or top.endswith(".pth"):
                continue
            source = Path(str(dist.locate_file(top)))
            if source.exists() and not (target / top).exists():
                (target / top).symlink_to(source)
        todo.extend(Requirement(r) for r in dist.requires or [])


def test_core_and_meta_distributions(wheels: dict[str, Path]) -> None:
    name, version, requires = _metadata(wheels["core"])
    assert (name, version) == (install.CORE_DIST, __version__)
    heavy = {canonicalize_name(d) for d in FULL.values()}
    assert _unconditional(requires) == {"click", "pydantic", "pyyaml", "jinja2"}
    assert {canonicalize_name(r.name) for r in _for_extra(requires, "ml")} == heavy
    names = set(zipfile.ZipFile(wheels["core"]).namelist())
    shipped = sorted(p.name for p in (REPO / "stacks").glob("*.yaml"))
    assert "local.yaml" in shipped
    for stack in shipped:
        assert f"mlcode/_data/stacks/{stack}" in names
    assert "mlcode/cli/__init__.py" in names
    assert not any(n.startswith("tests/") for n in names)

    name, version, requires = _metadata(wheels["meta"])
    assert (name, version) == (install.DIST, __version__)
    assert [str(r) for r in requires if r.marker is None] == [
        f"{install.CORE_DIST}[ml]=={__version__}"
    ]
    offered = set(
        tomllib.loads((META_SOURCE / "pyproject.toml").read_text())["project"][
            "optional-dependencies"
        ]
    )
    assert offered == set(install.REMOTE_EXTRAS.values())
    for extra in sorted(offered):
        [req] = _for_extra(requires, extra)
        assert canonicalize_name(req.name) == install.CORE_DIST
        assert req.extras == {"ml", extra}
        assert str(req.specifier) == f"=={__version__}"
    assert all(n.startswith("mlcode_git-") for n in zipfile.ZipFile(wheels["meta"]).namelist())


def test_pip_resolves_mlcode_git_to_the_core(wheels: dict[str, Path], tmp_path: Path) -> None:
    """`pip install "mlcode-git[s3]"` takes the core of the same version from the same place."""
    report = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--quiet",
            "--no-index",
            "--find-links",
            str(wheels["dir"]),
            "--report",
            "-",
            f"{install.DIST}[s3]=={__version__}",
        ],
        tmp_path,
    )
    found = {i["metadata"]["name"]: i["metadata"]["version"] for i in json.loads(report)["install"]}
    if install.CORE_DIST not in found:
        # This interpreter already has the core (the editable development install): pip counts
        # it as satisfied only when it is the same version the meta pins.
        found[install.CORE_DIST] = importlib.metadata.version(install.CORE_DIST)
    assert found == {install.DIST: __version__, install.CORE_DIST: __version__}


def test_full_install_runs_in_fresh_venv(wheels: dict[str, Path], tmp_path: Path) -> None:
    # Dependencies come from this interpreter's site-packages: no download needed.
    python, env = _venv(tmp_path / "venv", [Path(sysconfig.get_paths()["purelib"])])
    repo = tmp_path / "repo"
    (repo / "dist").mkdir(parents=True)
    shutil.copy2(wheels["core"], repo / "dist")
    # Exactly the argument a workflow with `ci.install: dist/<wheel>` passes to pip, from the
    # repository root (--no-deps: this test has no index).
    argument = install.requirement(install.parse(f"dist/{wheels['core'].name}"), "s3")
    assert argument == f"./dist/{wheels['core'].name}[ml,s3]"
    _pip_install(python, repo, argument, str(wheels["meta"]))

    where = _run([str(python), "-c", "import mlcode; print(mlcode.__file__)"], tmp_path, env)
    assert Path(where.strip()).resolve().is_relative_to((tmp_path / "venv").resolve())
    assert not Path(where.strip()).resolve().is_relative_to(REPO)
    probe = (
        "from importlib.metadata import distribution as d; "
        f"print([r for r in d({install.DIST!r}).requires if 'extra' not in r], "
        f"[e.value for e in d({install.CORE_DIST!r}).entry_points if e.name == 'mlcode'])"
    )
    assert _run([str(python), "-c", probe], tmp_path, env).strip() == (
        f"['{install.CORE_DIST}[ml]=={__version__}'] ['mlcode.cli:main']"
    )

    project = tmp_path / "project"
    project.mkdir()
    command = str(tmp_path / "venv" / "bin" / "mlcode")
    _run([command, "init", "--example", "iris"], project, env)
    out = _run([command, "validate"], project, env)
    assert "ml.yaml is valid" in out
    assert "stack 'local'" in out
    stacks = _run(
        [
            str(python),
            "-c",
            "from mlcode.resources import stack_presets; print(sorted(stack_presets().items()))",
        ],
        project,
        env,
    )
    assert "_data/stacks/local.yaml" in stacks


def test_light_install_checks_and_says_what_it_lacks(
    wheels: dict[str, Path], tmp_path: Path, git_repo: Path
) -> None:
    """The pre-commit hook's install: `check` and `validate` work without DVC or scikit-learn."""
    _, _, requires = _metadata(wheels["core"])
    site = tmp_path / "light-site"
    _light_site(site, requires)
    python, env = _venv(tmp_path / "venv", [site])
    _pip_install(python, tmp_path, str(wheels["core"]))
    lacking = _run(
        [
            str(python),
            "-c",
            f"import importlib.util as u; print([n for n in {sorted(FULL)!r} "
            "if u.find_spec(n) is None])",
        ],
        tmp_path,
        env,
    )
    assert lacking.strip() == repr(sorted(FULL))  # none of the heavy packages is there

    assert mlcode(git_repo, "init", "--example", "iris").returncode == 0  # the full mlcode
    assert mlcode(git_repo, "apply", "--auto-approve").returncode == 0
    git(git_repo, "commit", "-qm", "ml project")
    light = str(tmp_path / "venv" / "bin" / "mlcode")

    def run_light(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [light, *args], cwd=git_repo, env=env, capture_output=True, text=True, check=False
        )

    for ok in (["check"], ["validate"], ["schema"], ["--help"], ["plan", "--help"]):
        result = run_light(*ok)
        assert result.returncode == 0, (ok, result.stdout, result.stderr)
    spec = git_repo / "ml.yaml"
    spec.write_text(spec.read_text().replace("max_depth: 5", "max_depth: 3"))
    git(git_repo, "add", "ml.yaml")  # check judges what is staged
    stale = run_light("check")  # the full path: compiles ml.yaml, still without DVC
    assert stale.returncode == 1
    assert "out of sync" in stale.stdout + stale.stderr
    before = sorted(str(p) for p in git_repo.rglob("*") if ".git" not in p.parts)
    for args in (["plan"], ["apply", "--auto-approve"], ["run"], ["validate", "--deep"]):
        result = run_light(*args)
        assert result.returncode == 3, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
        assert f"`mlcode {' '.join(a for a in args if a != '--auto-approve')}` needs" in (
            result.stderr
        )
        assert "pip install mlcode-git" in result.stderr
        assert "dvc, scikit-learn" in result.stderr
    assert sorted(str(p) for p in git_repo.rglob("*") if ".git" not in p.parts) == before
    empty = tmp_path / "empty"
    empty.mkdir()
    result = subprocess.run(
        [light, "init", "--example", "iris"],
        cwd=empty,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 3, result.stderr
    assert "`mlcode init --example` needs" in result.stderr
    assert list(empty.iterdir()) == []


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
    assert argument == f"{install.CORE_DIST}[ml,s3] @ git+file://{repo}@{sha}"
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
    assert item["requested_extras"] == ["ml", "s3"]
