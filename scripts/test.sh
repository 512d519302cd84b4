#!/usr/bin/env bash
# Set up a virtual environment with mlcode and its dev tools, then run the whole test suite.
# This is the README's test command; .ci/run calls it too.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${MLCODE_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e ".[dev]"
export PATH="$PWD/$VENV/bin:$PATH"
set +e
# worksteal: an idle worker takes queued tests from a busy one, so long end-to-end tests do not
# leave one core idle at the end of the run.
"$VENV/bin/python" -m pytest -n "${MLCODE_TEST_WORKERS:-auto}" --dist worksteal --durations=15 "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$rc"
