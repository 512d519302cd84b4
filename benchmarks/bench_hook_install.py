"""Benchmark of the pre-commit hook's first install (prints figures; asserts nothing).

For each git revision of the hook repository (default: HEAD of this checkout), in a fresh
PRE_COMMIT_HOME and a fresh, empty pip cache (a user's first install), the real `pre-commit
install-hooks` builds the environment of the `mlcode-check` hook exactly as a user's
`.pre-commit-config.yaml` would (`repo: <this checkout>`, `rev: <commit>`). Printed per revision:
the install time, the size of the hook environment, how many distributions it holds, whether
dvc / scikit-learn / pandas are in it, and the time of a first `pre-commit run mlcode-check` on an
applied example project (made with the full mlcode running this script).

Usage: python benchmarks/bench_hook_install.py [--rev REV ...] [--warm-cache] [--source DIR]
       e.g. --rev HEAD~5 --rev HEAD to compare before and after a change.
Needs the package index (the hook environment is built by pip, like a user's).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent
HEAVY = ("dvc", "sklearn", "pandas", "pyarrow", "scipy")


def _tool(name: str) -> str:
    """The console script next to this interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found next to {sys.executable} nor on PATH")
    return found


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed in {cwd}:\n{result.stdout}\n{result.stderr}")
    return result


def _size(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())


def _project(root: Path, env: dict[str, str]) -> None:
    """An applied, committed example project (made by the full mlcode running this script)."""
    mlcode = _tool("mlcode")
    _run(["git", "init", "-q", "-b", "main"], root, env)
    _run([mlcode, "init", "--example", "iris"], root, env)
    _run([mlcode, "apply", "--auto-approve"], root, env)
    _run(["git", "commit", "-qm", "ml project"], root, env)


@dataclass(frozen=True)
class Row:
    """What one revision's hook install cost."""

    rev: str
    commit: str
    install_s: float
    env_mb: float
    home_mb: float
    distributions: int
    heavy_present: list[str]
    hook_run_s: float
    hook_ok: bool
    hook_output: list[str]


def measure(source: Path, rev: str, warm_cache: bool) -> Row:
    """Install the hook at `rev` in a fresh PRE_COMMIT_HOME and report what it cost."""
    sha = _run(["git", "rev-parse", rev], source, dict(os.environ)).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="bench-hook-") as tmp:
        base = Path(tmp)
        home = base / "pre-commit-home"
        env = {
            **os.environ,
            "PRE_COMMIT_HOME": str(home),
            "DVC_NO_ANALYTICS": "1",
            "GIT_AUTHOR_NAME": "bench",
            "GIT_AUTHOR_EMAIL": "bench@mlcode.invalid",
            "GIT_COMMITTER_NAME": "bench",
            "GIT_COMMITTER_EMAIL": "bench@mlcode.invalid",
        }
        project = base / "project"
        project.mkdir()
        _project(project, env)
        env.pop("PYTHONPATH", None)  # the hook must run its own installed mlcode
        if not warm_cache:
            env["PIP_CACHE_DIR"] = str(base / "pip-cache")
        (project / ".pre-commit-config.yaml").write_text(
            f"repos:\n  - repo: {source}\n    rev: {sha}\n    hooks:\n      - id: mlcode-check\n"
        )
        _run(["git", "add", ".pre-commit-config.yaml"], project, env)
        pre_commit = _tool("pre-commit")
        start = time.perf_counter()
        _run([pre_commit, "install-hooks"], project, env)
        install_s = time.perf_counter() - start
        [py_env] = [p for p in home.glob("repo*/py_env-*") if p.is_dir()]
        python = py_env / "bin" / "python"
        probe = (
            "import importlib.util as u, importlib.metadata as m, json; "
            f"print(json.dumps({{'missing': [n for n in {HEAVY!r} if u.find_spec(n) is None], "
            "'dists': len(list(m.distributions()))}))"
        )
        inside = json.loads(_run([str(python), "-c", probe], project, env).stdout)
        start = time.perf_counter()
        hook = subprocess.run(
            [pre_commit, "run", "mlcode-check", "--all-files"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        run_s = time.perf_counter() - start
        return Row(
            rev=rev,
            commit=sha[:12],
            install_s=install_s,
            env_mb=_size(py_env) / 1e6,
            home_mb=_size(home) / 1e6,
            distributions=inside["dists"],
            heavy_present=[n for n in HEAVY if n not in inside["missing"]],
            hook_run_s=run_s,
            hook_ok=hook.returncode == 0,
            hook_output=(hook.stdout + hook.stderr).strip().splitlines()[-3:],
        )


def main() -> None:
    """Measure each revision and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", action="append", help="git revision (repeatable); default HEAD")
    parser.add_argument("--source", type=Path, default=SOURCE, help="the hook repository")
    parser.add_argument("--warm-cache", action="store_true", help="use the user's pip cache")
    args = parser.parse_args()
    rows = [measure(args.source.resolve(), rev, args.warm_cache) for rev in args.rev or ["HEAD"]]
    cache = "warm (the user's)" if args.warm_cache else "cold (empty)"
    print(f"pre-commit hook first install (mlcode-check), pip cache {cache}:")
    print(
        "| rev | commit | install-hooks | hook env | PRE_COMMIT_HOME | distributions "
        "| heavy packages in env | first hook run | hook ok |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        heavy = ", ".join(r.heavy_present) or "none"
        ok = "yes" if r.hook_ok else "NO: " + " / ".join(r.hook_output)
        print(
            f"| {r.rev} | {r.commit} | {r.install_s:.1f} s | {r.env_mb:.0f} MB "
            f"| {r.home_mb:.0f} MB | {r.distributions} | {heavy} | {r.hook_run_s:.2f} s | {ok} |"
        )
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        print(
            f"\n{last.rev} vs {first.rev}: install {last.install_s / first.install_s:.2f}x the "
            f"time, environment {last.env_mb / first.env_mb:.2f}x the size"
        )


if __name__ == "__main__":
    main()
