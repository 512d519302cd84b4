"""Benchmark: the pre-push check (`mlcode pre-push`) against `dvc status -c` on an N-model repo.

Builds a real git + DVC repository with N models (4 stages each, the built-in steps), reproduces
it, pushes data to the local DVC remote and commits to a bare git remote; then makes the commit a
retrain makes (one model's parameters changed, its stages reproduced, data pushed) and measures,
run alternately (median of R runs each):
  - `mlcode pre-push origin` with that commit not yet on the git remote (one commit changing
    pointers: DVC is asked about every object that commit points to);
  - `dvc status -c` (DVC's own whole-workspace comparison with the remote);
  - `mlcode pre-push origin` for a commit of code only (no DVC question at all).
Prints the figures and the ratio pre-push / dvc status -c.

Usage: python benchmarks/bench_prepush.py [--models 100] [--repeat 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec_mod = importlib.util.spec_from_file_location("bench_plan_check", HERE / "bench_plan_check.py")
assert _spec_mod is not None
assert _spec_mod.loader is not None
plan_bench = importlib.util.module_from_spec(_spec_mod)
_spec_mod.loader.exec_module(plan_bench)

BIN = Path(sys.executable).parent
MLCODE = str(BIN / "mlcode")
DVC = str(BIN / "dvc")


def _said(cmd: list[str], root: Path) -> str:
    """What a command printed (a sanity line: which path the check took)."""
    import subprocess

    proc = subprocess.run(
        cmd, cwd=root, env=plan_bench._env(), capture_output=True, text=True, check=False
    )
    return f"  {' '.join(Path(c).name for c in cmd)}: {(proc.stdout + proc.stderr).strip()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    run = plan_bench._run
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        run(["git", "init", "-q", "--bare", "-b", "main", str(base / "origin.git")], base)
        root = base / "repo"
        print(f"building {args.models} models ({args.models * 4} stages)...", flush=True)
        plan_bench._build(root, args.models)
        run(["git", "remote", "add", "origin", "../origin.git"], root)
        run([MLCODE, "run"], root)
        run(["git", "add", "-A"], root)
        run(["git", "commit", "-qm", "trained"], root)
        run([DVC, "push", "-q"], root)
        run(["git", "push", "-q", "--no-verify", "origin", "main"], root)
        # The retrain commit: one model's parameters change, its stages run, its data is pushed.
        spec = (root / "ml.yaml").read_text().replace("params: {C: 1.0}", "params: {C: 0.5}", 1)
        (root / "ml.yaml").write_text(spec)
        run([MLCODE, "apply", "--auto-approve"], root)
        run([MLCODE, "run", "m0"], root)
        run(["git", "add", "-A"], root)
        run(["git", "commit", "-qm", "retrain m0"], root)
        run([DVC, "push", "-q"], root)
        pre_push = [MLCODE, "pre-push", "origin"]
        status = [DVC, "status", "-c"]
        print(_said(pre_push, root))
        ours, theirs = plan_bench._paired(pre_push, status, root, args.repeat)
        run(["git", "push", "-q", "--no-verify", "origin", "main"], root)
        (root / "notes.md").write_text("code only\n")
        run(["git", "add", "notes.md"], root)
        run(["git", "commit", "-qm", "code only"], root)
        print(_said(pre_push, root))
        code_only = plan_bench._timed(pre_push, root, args.repeat)
    print(f"\nmodels: {args.models}, median of {args.repeat} runs (alternated)")
    print(f"  mlcode pre-push, 1 commit changing pointers : {ours:6.2f} s")
    print(f"  dvc status -c (whole workspace vs remote)   : {theirs:6.2f} s")
    print(f"  mlcode pre-push, code-only commit           : {code_only:6.2f} s")
    print(f"  ratio pre-push / dvc status -c              : {ours / theirs:6.2f}")


if __name__ == "__main__":
    main()
