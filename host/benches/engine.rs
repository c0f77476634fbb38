//! Criterion benchmarks of the engine, each beside its floor:
//! - `floor/instantiate_call`: bare wasmtime, a fresh store, instantiate from `InstancePre`,
//!   one call; the physical limit a task can cost;
//! - `floor2/shared_engine`, `floor2/engine_per_thread`: the same floor on two threads at once
//!   (iterations split between them), with one engine or an engine per thread: wasmtime's own
//!   scaling on two cores, the anchor for `--jobs 2`;
//! - `task/run_attempt`: one attempt through wasmpipe's executor (sandbox, limits, output checks);
//! - `pipeline/chain20`: a whole 20-task chain through `Runner::run` (schedule, bind inputs,
//!   run, record, write the record), per run; divide by 20 for the per-task cost;
//!   `pipeline/chain20_in_memory` the same without writing the record to disk;
//! - `pipeline/fanout20_in_memory_jobs2`, `pipeline/pfor20_in_memory_jobs2`: the other two
//!   shapes of `bench/compare.sh` (20 independent tasks and a fan-in; a 20-item loop and a
//!   fan-in), with two workers, without writing the record; divide by 21 per task;
//!   `pipeline/pfor20_in_memory_jobs1` the loop with one worker, to show what a second one costs
//!   or saves on a small loop;
//! - `trap_to_exit_handler`: from a body task's trap to its exit task starting, read from the
//!   run record's microsecond timestamps;
//! - `pfor10k/jobs1`, `pfor10k/jobs2`: a 10,000-iteration `parallel_for` of `add` with a fan-in
//!   `sum`, through `Runner::run` without writing the record, with one and with two workers.
//!
//! Run with `cargo bench -p wasmpipe --bench engine`; see BENCHMARKS.md.

use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use wasmpipe::internals::AttemptPolicy;
use wasmpipe::internals::Capture;
use wasmpipe::internals::EngineKind;
use wasmpipe::internals::Loader;
use wasmpipe::internals::sandbox;
use wasmpipe::internals::types;
use wasmpipe::model::policy::Limits;
use wasmpipe::run::Cache;
use wasmpipe::run::{RunOptions, Runner};
use wasmpipe_test_artifacts as art;

/// The allocator the CLI uses, so that in-process figures match whole-process ones.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn add_inputs() -> Vec<(String, types::InputValue)> {
    let int = |i: i64| types::InputValue::Value(wasmpipe::internals::to_wit(&serde_json::json!(i)));
    vec![("a".into(), int(1)), ("b".into(), int(2))]
}

fn ctx() -> types::Context {
    types::Context { run_id: "bench".into(), task_id: "add".into(), attempt: 1 }
}

fn engine_benches(c: &mut Criterion) {
    let rt = runtime();
    let loader = Loader::new(EngineKind { fuel: false, pooling: true }, None).unwrap();
    let component = rt.block_on(loader.load(Path::new(art::ADD))).unwrap();
    let limits = Limits::default();
    c.bench_function("floor/instantiate_call", |b| b.iter(|| floor(&rt, &component, &limits)));

    // The same floor on both cores at once, iterations split over two threads: with one engine
    // (what the runner does) and with an engine per thread (nothing of wasmtime's shared).
    // Against `floor/instantiate_call`, wasmtime's own scaling on two cores.
    let other = Loader::new(EngineKind { fuel: false, pooling: true }, None).unwrap();
    let own = rt.block_on(other.load(Path::new(art::ADD))).unwrap();
    for (name, second) in [("floor2/shared_engine", &component), ("floor2/engine_per_thread", &own)] {
        c.bench_function(name, |b| {
            b.iter_custom(|iterations| {
                let start = std::time::Instant::now();
                std::thread::scope(|scope| {
                    for component in [&component, second] {
                        let limits = &limits;
                        scope.spawn(move || {
                            let rt = runtime();
                            for _ in 0..iterations.div_ceil(2) {
                                floor(&rt, component, limits);
                            }
                        });
                    }
                });
                start.elapsed()
            })
        });
    }

    c.bench_function("task/run_attempt", |b| {
        b.iter(|| {
            rt.block_on(async {
                let capture = Capture::new(limits.output);
                let outcome = wasmpipe::internals::run_attempt(
                    &component,
                    ctx(),
                    &add_inputs(),
                    AttemptPolicy { limits: &limits, grants: &Default::default(), run_data: None },
                    None,
                    capture,
                )
                .await;
                assert_eq!(outcome.result.unwrap()["output"], 3);
            })
        })
    });
}

/// Writes a pipeline into `dir` and prepares it.
fn prepare(rt: &tokio::runtime::Runtime, runner: &Runner, dir: &Path, body: &str) -> wasmpipe::run::Prepared {
    let file = dir.join("pipeline.yaml");
    let text = format!(
        "version: 1\nname: bench\ncomponents:\n  add: {{path: {:?}}}\n  sum: {{path: {:?}}}\n  fault: {{path: {:?}}}\n  exit_report: {{path: {:?}}}\nsteps:\n{body}",
        art::ADD,
        art::SUM,
        art::FAULT,
        art::EXAMPLE_EXIT_REPORT
    );
    std::fs::write(&file, text).unwrap();
    rt.block_on(runner.prepare_file(&file, &RunOptions::default())).unwrap()
}

/// Bare wasmtime: a store, an instance from the `InstancePre`, one call of `run` through a
/// `TypedFunc` made once (the bindings' own path type-checks every export per instance).
fn floor(rt: &tokio::runtime::Runtime, component: &wasmpipe::internals::LoadedComponent, limits: &Limits) {
    let wasmpipe::internals::Pre::Task(pre, run) = &component.pre else { panic!("`add` is a task component") };
    rt.block_on(async {
        let capture = Capture::new(limits.output);
        let mut store = sandbox::new_store(&component.engine, limits, &Default::default(), false, capture).unwrap();
        let instance = pre.instance_pre().instantiate_async(&mut store).await.unwrap();
        let func = instance.get_func(&mut store, run).unwrap();
        let (ctx, inputs) = (ctx(), add_inputs());
        // SAFETY: the loader's `describe` type-checked `run` against these types.
        let typed = unsafe {
            wasmtime::component::TypedFunc::<
                (&types::Context, &[(String, types::InputValue)]),
                (Result<Vec<(String, types::OutputValue)>, String>,),
            >::new_unchecked(func)
        };
        let (out,) = typed.call_async(&mut store, (&ctx, &inputs)).await.unwrap();
        assert!(out.is_ok());
    })
}

fn pipeline_benches(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let runner = Runner::with_cache(Some(Cache::new(dir.path().join("cache")))).unwrap();
    let options = RunOptions { run_dir: dir.path().join("runs"), jobs: 1, ..RunOptions::default() };

    let mut chain = String::from("  - {task: t0, component: add, inputs: {a: 0}}\n");
    for i in 1..20 {
        chain.push_str(&format!(
            "  - {{task: t{i}, component: add, inputs: {{a: \"{{{{tasks.t{}.output}}}}\"}}}}\n",
            i - 1
        ));
    }
    let prepared = prepare(&rt, &runner, dir.path(), &chain);
    c.bench_function("pipeline/chain20", |b| {
        b.iter(|| {
            let record = rt.block_on(runner.run(&prepared, &options, &mut |_| {}));
            assert_eq!(record.tasks[19].outputs["output"], 20);
        })
    });
    let in_memory = RunOptions { write_record: false, ..options.clone() };
    c.bench_function("pipeline/chain20_in_memory", |b| {
        b.iter(|| {
            let record = rt.block_on(runner.run(&prepared, &in_memory, &mut |_| {}));
            assert_eq!(record.tasks[19].outputs["output"], 20);
        })
    });

    // The other two shapes of `bench/compare.sh`, with two workers: 20 independent tasks and a
    // fan-in after them; a 20-item loop and a fan-in of its outputs.
    let two_jobs = RunOptions { jobs: 2, ..in_memory.clone() };
    let mut fanout = String::new();
    for i in 0..20 {
        fanout.push_str(&format!("  - {{task: t{i}, component: add, inputs: {{a: {i}}}}}\n"));
    }
    let all: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
    fanout.push_str(&format!(
        "  - {{task: fan-in, component: add, inputs: {{a: \"{{{{tasks.t19.output}}}}\"}}, after: [{}]}}\n",
        all.join(", ")
    ));
    let prepared = prepare(&rt, &runner, dir.path(), &fanout);
    c.bench_function("pipeline/fanout20_in_memory_jobs2", |b| {
        b.iter(|| {
            let record = rt.block_on(runner.run(&prepared, &two_jobs, &mut |_| {}));
            assert_eq!(record.task("fan-in").unwrap().outputs["output"], 21);
        })
    });
    let pfor = "  - parallel_for:\n      name: fan\n      items: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]\n      steps:\n        - {task: inc, component: add, inputs: {a: \"{{item}}\"}}\n  - {task: total, component: sum, inputs: {values: \"{{tasks.inc.output}}\"}}\n";
    let prepared = prepare(&rt, &runner, dir.path(), pfor);
    let one_job = RunOptions { jobs: 1, ..in_memory.clone() };
    c.bench_function("pipeline/pfor20_in_memory_jobs1", |b| {
        b.iter(|| {
            let record = rt.block_on(runner.run(&prepared, &one_job, &mut |_| {}));
            assert_eq!(record.task("total").unwrap().outputs["output"], 210, "the sum of 1..=20");
        })
    });
    c.bench_function("pipeline/pfor20_in_memory_jobs2", |b| {
        b.iter(|| {
            let record = rt.block_on(runner.run(&prepared, &two_jobs, &mut |_| {}));
            assert_eq!(record.task("total").unwrap().outputs["output"], 210, "the sum of 1..=20");
        })
    });

    let trap = "  - exit_handler:\n      name: g\n      exit: {task: e, component: exit_report, inputs: {message: bye}}\n      steps:\n        - {task: boom, component: fault, inputs: {mode: unreachable}}\n";
    let prepared = prepare(&rt, &runner, dir.path(), trap);
    c.bench_function("trap_to_exit_handler", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let record = rt.block_on(runner.run(&prepared, &options, &mut |_| {}));
                let trapped = &record.task("g/boom").unwrap().attempts[0].finished_at;
                let exit_started = &record.task("g/e").unwrap().attempts[0].started_at;
                total += humantime::parse_rfc3339(exit_started)
                    .unwrap()
                    .duration_since(humantime::parse_rfc3339(trapped).unwrap())
                    .unwrap_or_default();
            }
            total
        })
    });
}

fn loop_benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let runner = Runner::with_cache(Some(Cache::new(dir.path().join("cache")))).unwrap();
    let items: Vec<String> = (0..10_000).map(|i| i.to_string()).collect();
    let body = format!(
        "  - parallel_for:\n      name: fan\n      items: [{}]\n      steps:\n        - {{task: inc, component: add, inputs: {{a: \"{{{{item}}}}\"}}}}\n  - {{task: total, component: sum, inputs: {{values: \"{{{{tasks.inc.output}}}}\"}}}}\n",
        items.join(", ")
    );
    let file = dir.path().join("pipeline.yaml");
    let text = format!(
        "version: 1\nname: pfor10k\ncomponents:\n  add: {{path: {:?}}}\n  sum: {{path: {:?}}}\nsteps:\n{body}",
        art::ADD,
        art::SUM
    );
    std::fs::write(&file, text).unwrap();
    let mut group = c.benchmark_group("pfor10k");
    group.sample_size(10).measurement_time(Duration::from_secs(8));
    for jobs in [1, 2] {
        let rt = runtime();
        let options =
            RunOptions { run_dir: dir.path().join("runs"), jobs, write_record: false, ..RunOptions::default() };
        let prepared = rt.block_on(runner.prepare_file(&file, &options)).unwrap();
        group.bench_function(format!("jobs{jobs}"), |b| {
            b.iter(|| {
                let record = rt.block_on(runner.run(&prepared, &options, &mut |_| {}));
                assert_eq!(record.tasks.last().unwrap().outputs["output"], 50_005_000, "the sum of 1..=10,000");
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    targets = engine_benches, pipeline_benches, loop_benches
}
criterion_main!(benches);
