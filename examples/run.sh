#!/usr/bin/env bash
# Builds the example components from source, puts them beside the pipeline (in components/),
# and runs it:
#   examples/run.sh control-flow/loop.yaml -p limit=3 --output json
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[[ $# -gt 0 ]] || { echo "usage: $0 DIR/PIPELINE.yaml [wasmpipe run options]" >&2; exit 2; }
pipeline=$1; shift
[[ -f "$root/examples/$pipeline" ]] || { echo "run.sh: no pipeline examples/$pipeline" >&2; exit 2; }
rustup target add wasm32-wasip2 >/dev/null 2>&1 || {
  echo "run.sh: could not install the wasm32-wasip2 target; run: rustup target add wasm32-wasip2" >&2; exit 2; }
(cd "$root/examples/components" && cargo build --quiet --release --target wasm32-wasip2 --target-dir "$root/examples/components/target")
dir=$(dirname "$root/examples/$pipeline")
mkdir -p "$dir/components"
cp "$root"/examples/components/target/wasm32-wasip2/release/*.wasm "$dir/components/"
cd "$root"
exec cargo run --quiet -p wasmpipe -- run "examples/$pipeline" "$@"
