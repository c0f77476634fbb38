#!/usr/bin/env bash
# Builds the example components (the plugin `kv_counter` among them) and serves tenants'
# plugins on 127.0.0.1:8080 until Ctrl-C:
#   examples/plugin-host/run.sh [--listen ADDR] [--root DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rustup target add wasm32-wasip2 >/dev/null 2>&1 || {
  echo "run.sh: could not install the wasm32-wasip2 target; run: rustup target add wasm32-wasip2" >&2; exit 2; }
(cd "$root/examples/components" && cargo build --quiet --release --target wasm32-wasip2 --target-dir "$root/examples/components/target")
cd "$root"
exec cargo run --quiet -p wasmpipe-plugin-host -- "$@"
