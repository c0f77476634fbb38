#!/usr/bin/env bash
# Prepares the runner image of a pipeline for Kubeflow Pipelines and Argo Workflows, and the
# documents they run:
#
#   deploy/runner/build.sh PIPELINE.yaml IMAGE [OUT_DIR]
#
# 1. builds wasmpipe statically linked (the gnu target with +crt-static: no musl target can be
#    installed here), in target/static;
# 2. lays out OUT_DIR (default .wasmpipe/runner): the binary, the pipeline's components under
#    components/, the Containerfile;
# 3. compiles the pipeline to OUT_DIR/pipeline.kfp.yaml (KFP's IR) and OUT_DIR/pipeline.argo.yaml
#    (an Argo Workflow; skipped, with the reasons, when Argo cannot express the pipeline), with
#    IMAGE as the tasks' image.
#
# Then, where a container engine is (none is on the machines this project is built on):
#   podman build -t IMAGE OUT_DIR && podman push IMAGE        (or docker)
# and submit OUT_DIR/pipeline.kfp.yaml with the KFP UI, `kfp.Client().create_run_from_pipeline_package`,
# or Vertex AI; or OUT_DIR/pipeline.argo.yaml with `argo submit`.
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 PIPELINE.yaml IMAGE [OUT_DIR]" >&2; exit 2; }
pipeline=$1 image=$2 out=${3:-.wasmpipe/runner}
root=$(cd "$(dirname "$0")/../.." && pwd)
target=$(rustc -vV | sed -n 's/^host: //p')
RUSTFLAGS="-C target-feature=+crt-static" CARGO_TARGET_DIR="$root/target/static" \
  cargo build --quiet --release --target "$target" -p wasmpipe --manifest-path "$root/Cargo.toml"
bin=$root/target/static/$target/release/wasmpipe
mkdir -p "$out"
cp "$bin" "$out/wasmpipe"
cp "$root/deploy/runner/Containerfile" "$out/Containerfile"
"$bin" compile "$pipeline" --target kfp -o "$out/pipeline.kfp.yaml" --image "$image" \
  --components-dir /components --copy-components "$out/components"
if ! "$bin" compile "$pipeline" --target argo -o "$out/pipeline.argo.yaml" --image "$image" --components-dir /components; then
  echo "(no Argo workflow: the reasons are above)" >&2
fi
echo "the runner image's context is $out; build and push it with: podman build -t $image $out && podman push $image"
