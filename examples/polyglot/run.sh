#!/usr/bin/env bash
# Runs the polyglot pipeline: builds the components that changed (`--build`), then runs it.
# Needs the toolchains of setup.sh (run it once first).
#   examples/polyglot/run.sh -p n=7 --output json --export out/
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
TC=${WASMPIPE_TOOLCHAINS:-$HOME/.cache/wasmpipe/toolchains}
[[ -x $TC/venv/bin/componentize-py ]] || {
  echo "run.sh: the toolchains are missing ($TC); run examples/polyglot/setup.sh first" >&2; exit 2; }
rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
(cd "$root" && cargo build --quiet --release -p wasmpipe)
cd "$here"
exec "$root/target/release/wasmpipe" run pipeline.yaml --build "$@"
