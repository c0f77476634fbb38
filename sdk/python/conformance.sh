#!/usr/bin/env bash
# KFP's own test pipelines through wasmpipe's Python DSL (the conformance suite): every file of
# a KFP corpus, with only its `kfp` imports changed, compiled, run and checked against what KFP
# intends. Sets up like check.sh (the DSL's venv, componentize-py, the CLI) and prints one line
# per file and the summary `N passed, M failed` last.
#
#   KFP_CORPUS=DIR sdk/python/conformance.sh [-k SUBSTRING]
#
# DIR holds KFP's pipelines as `valid/...` (from KFP's `test_data/sdk_compiled_pipelines/valid/`)
# and `samples-core/...` (from KFP's `samples/core/`), each `X.py`. It is KFP's code (Apache-2.0)
# and is not part of this repository.
# Environment besides KFP_CORPUS: as for check.sh.
set -euo pipefail
if [[ -z ${KFP_CORPUS:-} || ! -d ${KFP_CORPUS:-} ]]; then
  echo "conformance.sh: set KFP_CORPUS to the directory of KFP's test pipelines (valid/ and samples-core/ with their .py files)" >&2
  exit 2
fi
source "$(cd "$(dirname "$0")" && pwd)/venv.sh" ""  # no pip extras (and not this script's arguments)
exec "$venv/bin/python" "$here/conformance/run.py" "$KFP_CORPUS" "$WASMPIPE_BIN" "$@"
