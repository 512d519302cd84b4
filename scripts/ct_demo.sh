#!/usr/bin/env bash
# Continuous training on the embedded `local` stack, the way the scheduled CI job runs it: no
# network, no account. In a fresh folder: a project whose training data comes from a `source`
# outside the repository (the "upstream" folder a new batch lands in), trained and promoted once
# (the reviewer's merge and the finalize job done by hand), so the model has a champion. Then two
# scheduled runs, each in a fresh clone of the origin as CI would do:
#   1. a batch whose feature means moved by 3 standard deviations lands upstream:
#      `mlcode retrain` refreshes the data, finds the drift, retrains, passes the gates and
#      promotes: a branch, a version tag and a report with its drift plots on the origin;
#   2. a batch of new rows without a shift: `mlcode retrain` says "nothing to do" (exit 4).
# Usage: bash scripts/ct_demo.sh [PROJECT_DIR]   (default: a new temporary folder)
# MLCODE_DEMO_NO_INSTALL=1 uses the `mlcode` already on PATH instead of installing the checkout.
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=scripts/demo-lib.sh
. "$SRC/scripts/demo-lib.sh"
demo_install "$SRC"
demo_workdir "${1:-}"

# A day's sensor batch, seeded: three well separated classes of machine state; SHIFT moves every
# feature's mean by that many standard deviations (what a recalibrated sensor line does).
cat >batch.py <<'PY'
import sys

import numpy as np

seed, shift, rows = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
features, states = ["temperature", "pressure", "vibration", "humidity"], ["ok", "warn", "fail"]
rng = np.random.default_rng(seed)
labels = rng.integers(0, len(states), size=rows)
scale = np.arange(len(features)) + 1.0
x = (labels[:, None] * 10.0 + rng.normal(0.0, 1.0, size=(rows, len(features)))) * scale
x = x + shift * np.sqrt(100.0 * (len(states) ** 2 - 1) / 12.0 + 1.0) * scale
print(",".join([*features, "state"]))
for row, label in zip(x, labels):
    print(",".join([*(f"{v:.4f}" for v in row), states[label]]))
PY
land() {  # land SEED SHIFT: a new training batch and newest readings upstream
  python batch.py "$1" "$2" 300 >upstream/sensor.csv
  python batch.py "$(($1 + 1000))" "$2" 100 >upstream/sensor_latest.csv
}

mkdir -p upstream
land 1 0
demo_project

say "A project whose data comes from ../upstream (a URL works alike: s3://, https://, ...)"
step mlcode init --project sensors
cat >ml.yaml <<'YAML'
version: 1
project: sensors
stack: local

data:
  sensor:
    path: data/sensor.csv
    source: {url: ../upstream/sensor.csv}          # DVC imports it; `dvc update` refreshes it
    target: state
    features:
      numeric: [temperature, pressure, vibration, humidity]
  sensor_latest:                                   # the newest readings the model serves
    path: data/sensor_latest.csv
    source: {url: ../upstream/sensor_latest.csv}
    target: state
    features:
      numeric: [temperature, pressure, vibration, humidity]

models:
  sensor:
    task: classification
    data: sensor
    estimator: sklearn.tree.DecisionTreeClassifier
    params: {max_depth: 4, random_state: 0}
    metrics: [accuracy]
    gates:
      metrics:
        - {metric: accuracy, min: 0.9}
        - {metric: accuracy, vs_champion: {max_regression: 0.02}}
      drift: {reference: sensor, current: sensor_latest, max_drifted_share: 0.5}
    retrain: {when: drift, max_drifted_share: 0.5}  # retrain when the training data drifted
    promotion: {mode: pr, stage: prod}
YAML
step cat ml.yaml
step mlcode apply --auto-approve
step git commit -qm "sensors: a model on the upstream data"
step mlcode run
step git add -A
step git commit -qm "sensor: first trained model"
step git push -q origin main
step mlcode promote
say "A reviewer merges the promotion branch; the finalize job assigns the stage: the champion"
step git fetch -q origin
step git merge -q --no-ff -m "Merge the promotion of sensor v0.1.0" origin/mlcode/promote/sensor/v0.1.0
step git push -q origin main
step mlcode promote --finalize
step mlcode models

say "Day 2: a batch lands upstream whose feature means moved by 3 standard deviations"
cd "$WORK"
land 11 3
say "The scheduled job: a fresh clone of the origin, then mlcode retrain"
step git clone -q origin.git scheduled-run-1
cd scheduled-run-1
identity
step mlcode retrain
BRANCH="$(git ls-remote --heads origin 'mlcode/promote/sensor/*' | awk '{print $2}' \
  | sed 's|refs/heads/||' | grep -v '/v0.1.0$')"
VERSION="${BRANCH##*/}"
REPORT="reports/sensor/$VERSION/promotion.md"
echo
echo "What the scheduled run left on the origin: the promotion branch and the version tag."
step git ls-remote origin 'refs/heads/mlcode/*' 'refs/tags/*'
step git fetch -q origin
step git show --stat --format=%B "origin/$BRANCH"
step git show "origin/$BRANCH:$REPORT"

say "Day 3: a batch of new rows from the same distribution as the champion's, no shift"
cd "$WORK"
land 21 0
step git clone -q origin.git scheduled-run-2
cd scheduled-run-2
identity
set +e
step mlcode retrain
rc=$?
set -e
[ "$rc" -eq 4 ] || { echo "expected retrain to say nothing to do (exit 4), got $rc" >&2; exit 1; }
echo
echo "Exit 4: nothing to do; the origin has no new branch or tag."
step git ls-remote origin 'refs/heads/mlcode/*' 'refs/tags/*'
echo
echo "Done: the project is in $WORK/project (origin: $WORK/origin.git, upstream data:"
echo "$WORK/upstream, DVC remote: $WORK/.mlcode-storage/sensors). Read the report with:"
echo "  git -C $WORK/project fetch -q origin && git -C $WORK/project show origin/$BRANCH:$REPORT"
