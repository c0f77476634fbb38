#!/usr/bin/env bash
# Builds the example components and runs one of the control-flow examples:
#   examples/control-flow/run.sh loop.yaml -p limit=3
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[[ $# -gt 0 ]] || { echo "usage: $0 PIPELINE.yaml [wasmpipe run options]; pipelines: $(cd "$here" && ls *.yaml | tr '\n' ' ')" >&2; exit 2; }
pipeline=$1; shift
exec "$here/../run.sh" "control-flow/$pipeline" "$@"
