#!/usr/bin/env bash
# A loop of N items (1,000,000 by default), whole process, release build: time and peak RSS
# (GNU time's maximum resident set), with the sizes of the journal and the record. The items
# come from a task (`range_op`: the integers 0..N) and each iteration runs one trivial task
# (`check_op`, whose output nothing reads). With ITEMS=dicts the items are `generate_op`'s
# dicts ({a, b}) instead, read by field.
#
#   bench/million.sh [N] [wasmpipe run options]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-1000000}
shift || true
rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
(cd "$root/examples/components" && cargo build --quiet --release --target wasm32-wasip2 --target-dir "$root/examples/components/target")
(cd "$root" && cargo build --quiet --release -p wasmpipe)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
components=$root/examples/components/target/wasm32-wasip2/release
if [[ ${ITEMS:-ints} == dicts ]]; then
  producer="generate: {path: $components/generate_op.wasm}"
  items_task="{task: items, component: generate, inputs: {n: \"{{params.n}}\"}}"
  value='{{item.a}}'
else
  producer="range: {path: $components/range_op.wasm}"
  items_task="{task: items, component: range, inputs: {n: \"{{params.n}}\"}}"
  value='{{item}}'
fi
cat > "$work/loop.yaml" <<YAML
version: 1
name: million
params:
  n: {type: int, default: 1000}
components:
  $producer
  check: {path: $components/check_op.wasm}
steps:
  - $items_task
  - parallel_for:
      name: each
      items: "{{tasks.items.output}}"
      steps:
        - {task: check, component: check, inputs: {value: "$value", max: "{{params.n}}"}}
YAML
/usr/bin/time -f "time %e s, peak RSS %M KB" "$root/target/release/wasmpipe" run "$work/loop.yaml" -p "n=$n" \
  --quiet --run-dir "$work/runs" --loop-item-limit "$((n > 1000000 ? n : 1000000))" "$@" >/dev/null || true
for f in "$work"/runs/*/journal.jsonl "$work"/runs/*/record.json; do
  printf '%s: %s MB\n' "$(basename "$f")" "$(( $(stat -c %s "$f") / 1000000 ))"
done
