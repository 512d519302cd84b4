#!/usr/bin/env bash
# The main job end to end on the embedded `local` stack: no network, no account.
# Sets up a virtual environment with mlcode, then in a fresh project folder (a git repo with a
# bare repository on disk as `origin`): init → validate → plan → apply → run → plan.
# Usage: bash scripts/demo.sh [PROJECT_DIR]   (default: a new temporary folder)
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${MLCODE_VENV:-$SRC/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e "${SRC}[ml]"  # mlcode-git-core with DVC and scikit-learn
export PATH="$VENV/bin:$PATH"

WORK="${1:-$(mktemp -d)}"
mkdir -p "$WORK"
cd "$WORK"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

git init -q -b main project
git init -q --bare origin.git
cd project
git remote add origin ../origin.git
git config user.name >/dev/null || git config user.name "mlcode demo"
git config user.email >/dev/null || git config user.email "demo@mlcode.invalid"

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
echo
echo "Done: the project is in $WORK/project (DVC remote: $WORK/.mlcode-storage/project)."
