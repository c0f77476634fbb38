#!/usr/bin/env bash
# Whole-process comparison, in one go on this machine: wasmpipe and kfp.local on the same
# pipeline shapes, with ratios; and, in process, the floor (bare wasmtime instantiate + call) and
# the per-task cost of each shape beside it. Slow the first time (release build, kfp venv); see
# BENCHMARKS.md.
#
#   bench/compare.sh            # wasmpipe and kfp.local
#   bench/compare.sh --no-kfp   # wasmpipe only
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=${RUNS:-20}
with_kfp=1
[[ ${1:-} == --no-kfp ]] && with_kfp=0

rustup target add wasm32-wasip2 >/dev/null 2>&1 || true
cargo build --quiet --release -p wasmpipe
(cd tests/guests && cargo build --quiet --release --target wasm32-wasip2 --target-dir "$root/tests/guests/target")
(cd examples/components && cargo build --quiet --release --target wasm32-wasip2 --target-dir "$root/examples/components/target")
bin=$root/target/release/wasmpipe
guests=$root/tests/guests/target/wasm32-wasip2/release
examples=$root/examples/components/target/wasm32-wasip2/release

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export WASMPIPE_CACHE_DIR=$work/cache WASMPIPE_RUN_DIR=$work/runs

# The KFP exit-handler example, with its components beside it.
mkdir -p "$work/components"
cp "$examples"/{print_op,fail_op}.wasm "$work/components/"
cp examples/exit-handler/pipeline.yaml "$work/exit_handler.yaml"

# loop_yaml NAME N: a parallel_for over 0..N-1 of `add` (item + 1), and a fan-in `sum` of the
# list of outputs (kfp.local's `pfor` shape: ParallelFor + dsl.Collected).
loop_yaml() {
  printf 'version: 1\nname: %s\ncomponents:\n  add: {path: %s/add.wasm}\n  sum: {path: %s/sum.wasm}\nsteps:\n' "$1" "$guests" "$guests"
  printf '  - parallel_for:\n      name: fan\n      items: [%s]\n      steps:\n' "$(seq -s ', ' 0 $(($2 - 1)))"
  printf '        - {task: add-one, component: add, inputs: {a: "{{item}}"}}\n'
  printf '  - {task: fan-in, component: sum, inputs: {values: "{{tasks.add-one.output}}"}}\n'
}

# A 20-task chain and a 20-task fan-out with a fan-in task, of the `add` component.
{
  printf 'version: 1\nname: chain20\ncomponents:\n  add: {path: %s/add.wasm}\nsteps:\n' "$guests"
  printf '  - {task: t0, component: add, inputs: {a: 0}}\n'
  for i in $(seq 1 19); do printf '  - {task: t%d, component: add, inputs: {a: "{{tasks.t%d.output}}"}}\n' "$i" $((i - 1)); done
} > "$work/chain20.yaml"
{
  printf 'version: 1\nname: fanout20\ncomponents:\n  add: {path: %s/add.wasm}\nsteps:\n' "$guests"
  after=""
  for i in $(seq 0 19); do printf '  - {task: t%d, component: add, inputs: {a: %d}}\n' "$i" "$i"; after="$after${after:+, }t$i"; done
  printf '  - {task: fan-in, component: add, inputs: {a: "{{tasks.t19.output}}"}, after: [%s]}\n' "$after"
} > "$work/fanout20.yaml"
loop_yaml pfor20 20 > "$work/pfor20.yaml"

# median_ms COMMAND...: the median wall time of $runs runs, in milliseconds (exit codes ignored).
median_ms() {
  python3 - "$runs" "$@" <<'PY'
import statistics, subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
times = []
for _ in range(runs):
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append((time.perf_counter() - start) * 1000)
print(f"{statistics.median(times):.2f}")
PY
}

declare -A wp
for shape in exit_handler chain20 fanout20 pfor20; do
  "$bin" run "$work/$shape.yaml" >/dev/null 2>&1 || true   # warm the compiled-component cache
  wp[$shape]=$(median_ms "$bin" run "$work/$shape.yaml")
  compiled=$({ "$bin" run "$work/$shape.yaml" --output json 2>/dev/null || true; } |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["compile"])')
  echo "wasmpipe $shape: median ${wp[$shape]} ms whole process over $runs runs (warm cache: $compiled)"
done
wp_jobs1=$(median_ms "$bin" run "$work/fanout20.yaml" --jobs 1)
echo "wasmpipe fanout20 --jobs 1: median $wp_jobs1 ms"

# A 10,000-iteration parallel_for with a fan-in, with one and with two jobs; peak RSS.
loop_yaml pfor10k 10000 > "$work/pfor10k.yaml"
declare -A pfor10k
"$bin" run "$work/pfor10k.yaml" >/dev/null 2>&1 || true
for jobs in 1 2; do
  t=$(runs=10 median_ms "$bin" run "$work/pfor10k.yaml" --jobs "$jobs")
  /usr/bin/time -f '%M' -o "$work/rss" "$bin" run "$work/pfor10k.yaml" --jobs "$jobs" >/dev/null 2>&1 || true
  rss=$(tail -1 "$work/rss")
  echo "wasmpipe pfor10k --jobs $jobs: median $t ms whole process, peak RSS ${rss} KB"
  pfor10k[$jobs]=$t
  rm -rf "$work/runs"   # 10,000-task records add up
done
python3 -c "print(f'  --jobs 2 speed-up over --jobs 1: {${pfor10k[1]}/${pfor10k[2]}:.2f}x')"

# In process (criterion, 3 s per bench): the floor, bare wasmtime instantiate + call, on one
# thread and on two at once; and the three 20-task shapes through `Runner::run`, per task.
criterion_dir=${CARGO_TARGET_DIR:-$root/target}/criterion
cargo bench --quiet -p wasmpipe --bench engine -- --warm-up-time 1 --measurement-time 3 --noplot \
  '^(floor|pipeline/(chain20_in_memory|fanout20_in_memory_jobs2|pfor20_in_memory_jobs2)$)' >/dev/null 2>&1
# median_us BENCH [DIVISOR]: criterion's median estimate of BENCH, in microseconds, divided.
median_us() {
  python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["median"]["point_estimate"]; print(f"{e/1000/float(sys.argv[2]):.2f}")' \
    "$criterion_dir/$1/new/estimates.json" "${2:-1}"
}
floor=$(median_us floor_instantiate_call)
floor2=$(median_us floor2_shared_engine)
floor2_own=$(median_us floor2_engine_per_thread)
declare -A per_task=(
  [chain20]=$(median_us pipeline_chain20_in_memory 20)
  [fanout20]=$(median_us pipeline_fanout20_in_memory_jobs2 21)
  [pfor20]=$(median_us pipeline_pfor20_in_memory_jobs2 21)
)
echo
echo "floor (bare wasmtime instantiate + call, in process): $floor us; two threads at once: $floor2 us each" \
  "($(python3 -c "print(f'{$floor/$floor2:.2f}')")x; an engine per thread: $floor2_own us," \
  "$(python3 -c "print(f'{$floor/$floor2_own:.2f}')")x)"
for shape in chain20 fanout20 pfor20; do
  echo "wasmpipe $shape in process: ${per_task[$shape]} us per task" \
    "($(python3 -c "print(f'{${per_task[$shape]}/$floor:.2f}')")x the floor)"
done

if [[ $with_kfp == 1 ]]; then
  py=$("$root/../shared/bench/kfp/setup_venv.sh")
  kfp_dir=$root/../shared/bench/kfp
  echo
  for mode in seq fanout pfor; do
    line=$("$py" "$kfp_dir/bench_kfp_local.py" 20 --mode "$mode" 2>/dev/null | grep -o "kfp_local .*" | tail -1)
    echo "kfp.local $mode: $line"
    seconds=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$line")
    case $mode in seq) shape=chain20 ;; fanout) shape=fanout20 ;; pfor) shape=pfor20 ;; esac
    per_task_ms=$(sed -n 's/.*per_task_ms=\([0-9.]*\).*/\1/p' <<<"$line")
    python3 -c "print(f'  ratio kfp.local / wasmpipe ($shape, whole process): {float($seconds)*1000/float(${wp[$shape]}):.0f}x')"
    python3 -c "print(f'  per task: kfp.local {$per_task_ms} ms / wasmpipe in process ${per_task[$shape]} us = {$per_task_ms*1000/${per_task[$shape]}:,.0f}x (the floor: {$per_task_ms*1000/$floor:,.0f}x)')"
  done
  kfp_eh=$(runs=3 median_ms "$py" "$kfp_dir/exit_handler_sample.py")
  echo "kfp.local exit_handler_sample.py: median $kfp_eh ms whole process"
  python3 -c "print(f'  ratio kfp.local / wasmpipe (exit handler, whole process): {float($kfp_eh)/float(${wp[exit_handler]}):.0f}x')"
fi
