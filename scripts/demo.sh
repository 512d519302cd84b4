#!/usr/bin/env bash
# The main job end to end on the embedded `local` stack: no network, no account.
# Sets up a virtual environment with mlcode, then in a fresh project folder (a git repo with a
# bare repository on disk as `origin`): init → validate → plan → apply → run → gates → promote,
# and shows what the promotion left: the branch and the version tag on the origin, the registry
# (`mlcode models`; `gto show` too when GTO is installed, as in a `[dev]` install) and the report.
# Usage: bash scripts/demo.sh [PROJECT_DIR]   (default: a new temporary folder)
# MLCODE_DEMO_NO_INSTALL=1 uses the `mlcode` already on PATH instead of installing the checkout.
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/demo-lib.sh
. "$SRC/scripts/demo-lib.sh"
demo_install "$SRC"
demo_workdir "${1:-}"

demo_project

step mlcode init --example iris
step mlcode validate
set +e
step mlcode plan --detailed-exitcode
rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "expected plan to report changes (exit 2), got $rc" >&2; exit 1; }
step mlcode apply --auto-approve
step git commit -qm "ml project: iris classifier declared in ml.yaml"
step mlcode run
step mlcode plan --detailed-exitcode
step mlcode check
step dvc metrics show
step git add -A
step git commit -qm "iris: first trained model"
step git push -q origin main
step mlcode gates
step mlcode promote
echo
echo "What the promotion left on the origin (a bare repository standing in for a forge):"
step git ls-remote origin 'refs/heads/mlcode/*' 'refs/tags/*'
step git tag -n1 --list 'iris*'
step mlcode models
if command -v gto >/dev/null 2>&1; then
  step gto show
fi
BRANCH="mlcode/promote/iris/v0.1.0"
REPORT="reports/iris/v0.1.0/promotion.md"
step git show --stat --format=%B "$BRANCH"
echo
echo "Done: the project is in $WORK/project (origin: $WORK/origin.git, DVC remote:"
echo "$WORK/.mlcode-storage/project). Read the report with: git show $BRANCH:$REPORT"
