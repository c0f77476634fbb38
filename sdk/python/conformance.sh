#!/usr/bin/env bash
# KFP's own test pipelines through wasmpipe's Python DSL (the conformance suite): every file of
# the KFP corpus, with only its `kfp` imports changed, compiled, run and checked against what
# KFP intends. Sets up like check.sh (the DSL's venv, componentize-py), builds the CLI, and
# prints one line per file and the summary `N passed, M failed` last.
#
#   sdk/python/conformance.sh [-k SUBSTRING]
#
# Environment: KFP_CORPUS (default: the `kfp-corpus` directory beside the project's root);
# WASMPIPE_BIN, WASMPIPE_TOOLCHAINS, WASMPIPE_CACHE_DIR, PYTHON as for check.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
TC=${WASMPIPE_TOOLCHAINS:-$HOME/.cache/wasmpipe/toolchains}
venv=$TC/dsl-venv
corpus=${KFP_CORPUS:-$root/../shared/kfp-corpus}
if [[ ! -x $TC/venv/bin/componentize-py && -z ${WASMPIPE_COMPONENTIZE_PY:-} ]]; then
  "$root/examples/polyglot/setup.sh" --only py
fi
if [[ ! -x $venv/bin/python ]]; then
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check "$here"
if [[ -z ${WASMPIPE_BIN:-} ]]; then
  (cd "$root" && cargo build --quiet --release -p wasmpipe)
  WASMPIPE_BIN=$root/target/release/wasmpipe
fi
exec "$venv/bin/python" "$here/conformance/run.py" "$corpus" "$WASMPIPE_BIN" "$@"
