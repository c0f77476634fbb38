#!/usr/bin/env bash
# Builds the example components and runs KFP's exit-handler sample written with the Rust builder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
(cd "$root/examples/components" && cargo build --quiet --release --target wasm32-wasip2 --target-dir "$root/examples/components/target")
mkdir -p "$here/components"
cp "$root"/examples/components/target/wasm32-wasip2/release/{print_op,fail_op}.wasm "$here/components/"
cd "$root"
exec cargo run --quiet -p wasmpipe --example exit_handler -- --run "$here"
