//! 1,000 runs at once in one process, each a tenant of its own: one `Runner` with the plugin
//! host's key-value interface, 1,000 runs of `count.yaml` (one task calling the tenant's store)
//! started together on a multi-threaded runtime. Prints the wall time, the peak resident set
//! (`VmHWM`), and checks every record and every store.
//!
//! Run with `cargo bench -p wasmpipe-plugin-host --bench tenants [-- RUNS]`; see BENCHMARKS.md.

use std::sync::Arc;
use std::time::Instant;

use wasmpipe::run::{RunData, RunOptions, Runner};
use wasmpipe_plugin_host::kv;
use wasmpipe_test_artifacts as art;

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn main() {
    let runs: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(1000);
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(art::EXAMPLE_KV_COUNTER, dir.path().join("kv_counter.wasm")).unwrap();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/count.yaml")).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let runner = Arc::new(Runner::with_cache(None).unwrap().with_host_interfaces(kv::host_interfaces()));
    // Compiled once, before the clock starts: the figure is of runs, not of compiling.
    let base = RunOptions { run_dir: dir.path().join("runs"), write_record: false, jobs: 1, ..RunOptions::default() };
    let prepared = rt
        .block_on(runner.prepare_str(&text, "count.yaml".as_ref(), dir.path(), &base))
        .unwrap_or_else(|e| panic!("{e}"));
    let prepared = Arc::new(prepared);
    let before = peak_rss_mib();
    let stores: Vec<Arc<kv::Store>> = (0..runs).map(|_| Arc::new(kv::Store::default())).collect();
    let start = Instant::now();
    let records = rt.block_on(async {
        let handles: Vec<_> = stores
            .iter()
            .map(|store| {
                let (runner, prepared) = (runner.clone(), prepared.clone());
                let options = RunOptions { run_data: Some(store.clone() as RunData), ..base.clone() };
                tokio::spawn(async move { runner.run(&prepared, &options, &mut |_| {}).await })
            })
            .collect();
        let mut records = Vec::with_capacity(handles.len());
        for handle in handles {
            records.push(handle.await.unwrap());
        }
        records
    });
    let elapsed = start.elapsed();
    let succeeded = records.iter().filter(|r| r.state == wasmpipe::record::RunState::Succeeded).count();
    let counted = stores.iter().filter(|s| s.snapshot().get("visits").map(String::as_str) == Some("1")).count();
    println!(
        "tenants: {runs} runs at once: {:.3} s ({:.0} µs a run), {succeeded} succeeded, {counted} stores hold their own count; peak RSS {:.1} MiB ({:.1} MiB before the runs)",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / runs as f64,
        peak_rss_mib(),
        before
    );
    assert_eq!((succeeded, counted), (runs, runs));
}
