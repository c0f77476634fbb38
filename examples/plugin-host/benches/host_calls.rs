//! What a call of an embedder's host interface costs against a WASI call: one attempt of the
//! `host_calls` test guest making 10,000 calls of `acme:host/kv.get` (through
//! `HostInterfaces`, the tenant's store reached by `run_data`), of
//! `wasi:clocks/monotonic-clock.now`, or none (the loop alone); per call, subtract `none` and
//! divide by 10,000.
//!
//! Run with `cargo bench -p wasmpipe-plugin-host --bench host_calls`; see BENCHMARKS.md.

use std::path::Path;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use wasmpipe::internals::{AttemptPolicy, Capture, EngineKind, Loader, run_attempt, to_wit, types};
use wasmpipe::model::policy::{Grants, Limits};
use wasmpipe::run::RunData;
use wasmpipe_plugin_host::kv;
use wasmpipe_test_artifacts as art;

const CALLS: i64 = 10_000;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let loader = Loader::with_host(EngineKind { fuel: false, pooling: true }, None, kv::host_interfaces()).unwrap();
    let component = rt.block_on(loader.load(Path::new(art::HOST_CALLS))).unwrap();
    let limits = Limits::default();
    let grants = Grants { host: vec![kv::KV.into()], ..Grants::default() };
    let store: RunData = Arc::new(kv::Store::default());
    for mode in ["none", "clock", "kv"] {
        let inputs = vec![
            ("mode".to_string(), types::InputValue::Value(to_wit(&serde_json::json!(mode)))),
            ("n".to_string(), types::InputValue::Value(to_wit(&serde_json::json!(CALLS)))),
        ];
        c.bench_function(&format!("host_calls/{mode}_{CALLS}"), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let ctx = types::Context { run_id: "bench".into(), task_id: "calls".into(), attempt: 1 };
                    let policy = AttemptPolicy { limits: &limits, grants: &grants, run_data: Some(&store) };
                    let outcome =
                        run_attempt(&component, ctx, &inputs, policy, None, Capture::new(limits.output)).await;
                    assert!(outcome.result.is_ok(), "{:?}", outcome.result);
                })
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
