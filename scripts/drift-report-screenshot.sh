#!/usr/bin/env bash
# The README's drift report screenshot (docs/drift-report.png), made the way a user gets the report:
# `mlcode init --example iris` in a scratch repository, the newest batch shifted (petal length x1.3
# + 0.5 cm, petal width + 0.35 cm), `mlcode run` (the drift step writes build/iris/drift-report.html),
# then headless Chromium (Debian's `chromium` package) renders the page.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/docs/drift-report.png}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/project"
cd "$work/project"
git init -q -b main
git -c user.name=demo -c user.email=demo@example.invalid commit -q --allow-empty -m start
mlcode init --example iris >/dev/null
mlcode apply --auto-approve >/dev/null
python - <<'EOF'
import csv

with open("data/iris_latest.csv", newline="") as handle:
    rows = list(csv.DictReader(handle))
for row in rows:
    row["petal_length_cm"] = f"{float(row['petal_length_cm']) * 1.3 + 0.5:.1f}"
    row["petal_width_cm"] = f"{float(row['petal_width_cm']) + 0.35:.1f}"
with open("data/iris_latest.csv", "w", newline="") as handle:
    writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
EOF
mlcode run >/dev/null
mkdir -p "$(dirname "$out")"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
  --user-data-dir="$work/chromium" --screenshot="$out" --window-size=1200,1130 \
  "file://$work/project/build/iris/drift-report.html" >/dev/null 2>&1
echo "wrote $out"
