#!/usr/bin/env bash
# Builds the example components and runs one of KFP's samples, ported:
#   examples/kfp-samples/run.sh condition.yaml -p force_flip_result=heads
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[[ $# -gt 0 ]] || { echo "usage: $0 SAMPLE.yaml [wasmpipe run options]; samples: $(cd "$here" && ls *.yaml | tr '\n' ' ')" >&2; exit 2; }
sample=$1; shift
rustup target add wasm32-wasip2 >/dev/null 2>&1 || {
  echo "run.sh: could not install the wasm32-wasip2 target; run: rustup target add wasm32-wasip2" >&2; exit 2; }
(cd "$root/examples/components" && cargo build --quiet --release --target wasm32-wasip2 --target-dir "$root/examples/components/target")
mkdir -p "$here/components"
cp "$root"/examples/components/target/wasm32-wasip2/release/*.wasm "$here/components/"
cd "$root"
exec cargo run --quiet -p wasmpipe -- run "examples/kfp-samples/$sample" "$@"
