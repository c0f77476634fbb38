#!/usr/bin/env bash
# Builds the example components from source and runs the exit-handler example.
#   examples/exit-handler/run.sh                 # KFP's exit-handler sample
#   examples/exit-handler/run.sh trap.yaml       # the variant whose body traps
#   examples/exit-handler/run.sh pipeline.yaml --output json -p message=Hi
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
pipeline=pipeline.yaml
if [[ $# -gt 0 && $1 != -* ]]; then pipeline=$1; shift; fi

rustup target add wasm32-wasip2 >/dev/null 2>&1 || {
  echo "run.sh: could not install the wasm32-wasip2 target; run: rustup target add wasm32-wasip2" >&2; exit 2; }
(cd "$root/examples/components" && cargo build --quiet --release --target wasm32-wasip2 --target-dir "$root/examples/components/target")
mkdir -p "$here/components"
cp "$root"/examples/components/target/wasm32-wasip2/release/{print_op,fail_op,trap_op,spin_op,exit_report}.wasm "$here/components/"
cd "$root"
exec cargo run --quiet -p wasmpipe -- run "examples/exit-handler/$pipeline" "$@"
