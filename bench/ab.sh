#!/usr/bin/env bash
# A/B of two wasmpipe binaries, whole process, runs interleaved (A, B, B, A, ...) so that the
# machine's drift hits both alike: the 20-task shapes (chain, fan-out with a fan-in, 20-item
# loop with a fan-in), the KFP exit-handler example and the 10,000-item loop (one and two jobs). Prints each median and B/A. A run that does not end as
# it should (a binary that cannot load the components, say) stops the comparison.
#
#   bench/ab.sh OLD_BINARY NEW_BINARY [RUNS]
#
# Build an old binary with, e.g.:
#   git worktree add /tmp/base 6eb1f2f && (cd /tmp/base && cargo build --release -p wasmpipe) &&
#   cp /tmp/base/target/release/wasmpipe /tmp/wasmpipe-6eb1f2f
# Binaries from before the WIT's 0.2.0 (commit d994cb9) cannot run components built against
# it: give A components of its own time with A_COMPONENTS=DIR, a directory holding add.wasm,
# sum.wasm, print_op.wasm and fail_op.wasm built from its commit (`tests/guests` and
# `examples/components`, `cargo build --release --target wasm32-wasip2`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
a=$(realpath "$1")
b=$(realpath "$2")
runs=${3:-21}

rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
(cd tests/guests && cargo build --quiet --release --target wasm32-wasip2 --target-dir "$root/tests/guests/target")
(cd examples/components && cargo build --quiet --release --target wasm32-wasip2 --target-dir "$root/examples/components/target")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/b/components"
for f in add sum; do cp "$root/tests/guests/target/wasm32-wasip2/release/$f.wasm" "$work/b/components/"; done
for f in print_op fail_op; do cp "$root/examples/components/target/wasm32-wasip2/release/$f.wasm" "$work/b/components/"; done
if [[ -n ${A_COMPONENTS:-} ]]; then
  mkdir -p "$work/a/components"
  for f in add sum print_op fail_op; do cp "$A_COMPONENTS/$f.wasm" "$work/a/components/"; done
else
  cp -r "$work/b" "$work/a"
fi
for side in a b; do
  dir=$work/$side
  cp examples/exit-handler/pipeline.yaml "$dir/exit_handler.yaml"
  {
    printf 'version: 1\nname: chain20\ncomponents:\n  add: {path: components/add.wasm}\nsteps:\n'
    printf '  - {task: t0, component: add, inputs: {a: 0}}\n'
    for i in $(seq 1 19); do printf '  - {task: t%d, component: add, inputs: {a: "{{tasks.t%d.output}}"}}\n' "$i" $((i - 1)); done
  } > "$dir/chain20.yaml"
  {
    printf 'version: 1\nname: fanout20\ncomponents:\n  add: {path: components/add.wasm}\nsteps:\n'
    after=""
    for i in $(seq 0 19); do printf '  - {task: t%d, component: add, inputs: {a: %d}}\n' "$i" "$i"; after="$after${after:+, }t$i"; done
    printf '  - {task: fan-in, component: add, inputs: {a: "{{tasks.t19.output}}"}, after: [%s]}\n' "$after"
  } > "$dir/fanout20.yaml"
  for n in 20 10000; do
    {
      printf 'version: 1\nname: pfor%s\ncomponents:\n  add: {path: components/add.wasm}\n  sum: {path: components/sum.wasm}\nsteps:\n' "$n"
      printf '  - parallel_for:\n      name: fan\n      items: [%s]\n      steps:\n' "$(seq -s ', ' 0 $((n - 1)))"
      printf '        - {task: add-one, component: add, inputs: {a: "{{item}}"}}\n'
      printf '  - {task: fan-in, component: sum, inputs: {values: "{{tasks.add-one.output}}"}}\n'
    } > "$dir/pfor$n.yaml"
  done
  mv "$dir/pfor10000.yaml" "$dir/pfor10k.yaml"
done

python3 - "$a" "$b" "$runs" "$work" <<'PY'
import os, statistics, subprocess, sys, time
a, b, runs, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
# (name, file and flags, runs, the exit status a correct run ends with)
cases = [("chain20", ["chain20.yaml"], runs, 0), ("fanout20", ["fanout20.yaml"], runs, 0),
         ("pfor20", ["pfor20.yaml"], runs, 0), ("exit_handler", ["exit_handler.yaml"], runs, 1),
         ("pfor10k --jobs 1", ["pfor10k.yaml", "--jobs", "1"], max(runs // 2, 5), 0),
         ("pfor10k --jobs 2", ["pfor10k.yaml", "--jobs", "2"], max(runs // 2, 5), 0)]
def run(binary, tag, args, expected):
    env = dict(os.environ, WASMPIPE_CACHE_DIR=f"{work}/cache-{tag}", WASMPIPE_RUN_DIR=f"{work}/runs-{tag}")
    start = time.perf_counter()
    done = subprocess.run([binary, "run", *[f"{work}/{tag}/{args[0]}", *args[1:]]], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    took = (time.perf_counter() - start) * 1000
    if done.returncode != expected:
        sys.exit(f"{binary} {' '.join(args)}: exit {done.returncode}, not {expected}; the comparison "
                 f"would be meaningless (older binaries need A_COMPONENTS):\n{done.stderr.decode()[-2000:]}")
    subprocess.run(["rm", "-rf", f"{work}/runs-{tag}"])
    return took
print(f"A = {a}\nB = {b}")
for name, args, n, expected in cases:
    run(a, "a", args, expected); run(b, "b", args, expected)  # warm each compiled-component cache
    ta, tb = [], []
    for i in range(n):
        first, second = ((a, "a", ta), (b, "b", tb)) if i % 2 == 0 else ((b, "b", tb), (a, "a", ta))
        for binary, tag, times in (first, second):
            times.append(run(binary, tag, args, expected))
    ma, mb = statistics.median(ta), statistics.median(tb)
    print(f"{name:18} A {ma:8.2f} ms  B {mb:8.2f} ms  B/A {mb / ma:.3f}  ({n} runs each, interleaved)")
PY
