#!/usr/bin/env bash
# Builds the example components and runs one of KFP's samples, ported:
#   examples/kfp-samples/run.sh condition.yaml -p force_flip_result=heads
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[[ $# -gt 0 ]] || { echo "usage: $0 SAMPLE.yaml [wasmpipe run options]; samples: $(cd "$here" && ls *.yaml | tr '\n' ' ')" >&2; exit 2; }
sample=$1; shift
exec "$here/../run.sh" "kfp-samples/$sample" "$@"
