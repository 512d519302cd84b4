# shellcheck shell=bash
# What scripts/demo.sh and scripts/ct_demo.sh share; sourced by them, not run on its own.
#   demo_install SRC   install the checkout SRC with `[ml]` into a virtual environment
#                      (MLCODE_VENV, default SRC/.venv) and put it first on PATH; with
#                      MLCODE_DEMO_NO_INSTALL=1 use the `mlcode` already on PATH instead
#   demo_workdir [DIR] make DIR (default: a new temporary folder) and cd into it; sets WORK to
#                      its absolute path
#   demo_project       in WORK: `project`, a new git repository whose origin is the bare
#                      `origin.git` beside it (a forge's stand-in); cd into it, with an identity
#   step CMD...        show the command in bold, then run it
#   say TEXT           a bold comment line
#   identity           a git identity for the current repository when git has none

demo_install() {
  local src="$1" venv
  if [ -n "${MLCODE_DEMO_NO_INSTALL:-}" ]; then
    return 0
  fi
  venv="${MLCODE_VENV:-$src/.venv}"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -e "${src}[ml]"  # mlcode-git-core with DVC and scikit-learn
  export PATH="$venv/bin:$PATH"
}

demo_workdir() {
  WORK="${1:-$(mktemp -d)}"
  mkdir -p "$WORK"
  WORK="$(cd "$WORK" && pwd)"
  cd "$WORK" || return
}

demo_project() {
  git init -q --bare -b main origin.git
  git init -q -b main project
  cd project || return
  git remote add origin ../origin.git
  identity
}

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
say() { printf '\n\033[1m# %s\033[0m\n' "$*"; }

identity() {
  git config user.name >/dev/null || git config user.name "mlcode demo"
  git config user.email >/dev/null || git config user.email "demo@mlcode.invalid"
}
