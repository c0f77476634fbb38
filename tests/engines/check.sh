#!/usr/bin/env bash
# The export suite (slow, not part of `cargo test`): pipelines compiled with
# `wasmpipe compile --target kfp` are parsed strictly into KFP's `PipelineSpec` (package
# kfp-pipeline-spec: unknown fields and bad enums fail) and every reference in them is checked
# (check_kfp_ir.py); then pipelines compiled with `--target argo` go through hera's model of
# Argo's Workflow unchanged and every reference in them resolves (check_argo.py). Makes a venv
# (once) with KFP's packages and hera from PyPI, builds the CLI and the example components.
#
#   tests/engines/check.sh
#
# Environment: WASMPIPE_TOOLCHAINS (default ~/.cache/wasmpipe/toolchains: the venv goes in
# engines-venv there), WASMPIPE_BIN (a wasmpipe CLI instead of building target/release/wasmpipe).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
TC=${WASMPIPE_TOOLCHAINS:-$HOME/.cache/wasmpipe/toolchains}
venv=$TC/engines-venv
KFP=2.17.3
HERA=7.1.0
stamp="kfp==$KFP hera==$HERA"
if [[ ! -x $venv/bin/python || "$(cat "$venv/.stamp" 2>/dev/null)" != "$stamp" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "kfp==$KFP" "kfp-pipeline-spec==$KFP" "hera==$HERA" PyYAML
  echo "$stamp" >"$venv/.stamp"
fi
rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
(cd "$root/examples/components" && cargo build --quiet --release --target wasm32-wasip2 --target-dir "$root/examples/components/target")
if [[ -z ${WASMPIPE_BIN:-} ]]; then
  (cd "$root" && cargo build --quiet --release -p wasmpipe)
  WASMPIPE_BIN=$root/target/release/wasmpipe
fi
status=0
"$venv/bin/python" "$here/check_kfp_ir.py" "$root" "$WASMPIPE_BIN" || status=1
echo "-- Argo Workflows (hera $HERA)"
"$venv/bin/python" "$here/check_argo.py" "$root" "$WASMPIPE_BIN" || status=1
exit $status
