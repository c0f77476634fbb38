//! The sandbox of one task attempt: its store data (WASI context, resource table, limiter,
//! captured output and log), its limits, and the linker that gives guests WASI and the
//! `wasmpipe:pipeline/host` interface and nothing else.

use std::time::Duration;

use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, ResourceLimiter, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView, filesystem::FsPerms};

use crate::artifact::Preopen;
use crate::capture::Capture;
use crate::plan::Grants;
use crate::wit::wasmpipe::pipeline::host::{self, Level};
use crate::wit::{Task, types};

/// Limits on one task attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time for one attempt.
    pub timeout: Duration,
    /// Linear memory, in bytes, summed over the instance's memories.
    pub memory: usize,
    /// Bytes of stdout and of stderr kept; more is cut off.
    pub output: usize,
    /// Fuel for one attempt (None: unlimited). Needs an engine that consumes fuel.
    pub fuel: Option<u64>,
    /// Bytes of output artifacts, summed over the attempt's outputs.
    pub artifacts: u64,
}

impl Default for Limits {
    /// 5 minutes, 512 MiB of memory, 1 MiB each of stdout and stderr, 1 GiB of artifacts.
    fn default() -> Self {
        Limits { timeout: Duration::from_secs(300), memory: 512 << 20, output: 1 << 20, fuel: None, artifacts: 1 << 30 }
    }
}

/// Denies memory growth past the limit and remembers that it did, so that the trap which
/// follows is reported as `memory_limit` and not as a generic trap (wasmtime #3772, #4153).
#[derive(Debug)]
pub struct RecordingLimiter {
    memory_limit: usize,
    memory_used: usize,
    /// Set when a growth was denied.
    pub hit: bool,
}

impl ResourceLimiter for RecordingLimiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        let total = self.memory_used - current.min(self.memory_used) + desired;
        if total > self.memory_limit {
            self.hit = true;
            return Ok(false);
        }
        self.memory_used = total;
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _max: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 1 << 20)
    }
}

/// The data of a task attempt's store.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    /// The memory limiter, which records hits.
    pub limiter: RecordingLimiter,
    /// What the guest writes.
    pub capture: Capture,
}

impl HostState {
    /// Fresh state for one attempt: captured stdio, and of the host only what `grants` allows
    /// (by default no files, no network, no environment), plus the attempt's artifact
    /// directories `preopens`. Fails when a directory cannot be opened or a host variable is
    /// not set.
    pub fn new(limits: &Limits, grants: &Grants, preopens: &[Preopen], capture: Capture) -> Result<HostState, String> {
        let mut builder = WasiCtx::builder();
        builder.stdout(capture.stdout.clone()).stderr(capture.stderr.clone());
        for (name, value) in &grants.env {
            builder.env(name, value);
        }
        for name in &grants.host_env {
            let value = std::env::var(name).map_err(|_| format!("host variable `{name}` is not set"))?;
            builder.env(name, value);
        }
        for (guest, host) in &grants.dirs {
            builder
                .preopened_dir(host, guest, FsPerms::ReadOnly)
                .map_err(|e| format!("cannot open host directory `{}` for `{guest}`: {e:#}", host.display()))?;
        }
        for p in preopens {
            let perms = if p.writable { FsPerms::ReadWrite } else { FsPerms::ReadOnly };
            builder.preopened_dir(&p.host, &p.guest, perms).map_err(|e| {
                format!("cannot open artifact directory `{}` for `{}`: {e:#}", p.host.display(), p.guest)
            })?;
        }
        let wasi = builder.build();
        Ok(HostState {
            wasi,
            table: ResourceTable::new(),
            limiter: RecordingLimiter { memory_limit: limits.memory, memory_used: 0, hit: false },
            capture,
        })
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl types::Host for HostState {}

impl host::Host for HostState {
    fn log(&mut self, level: Level, message: String) {
        let source = match level {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        self.capture.log(source, message);
    }
}

/// A linker with WASI (preview 2) and the wasmpipe host interface.
pub fn linker(engine: &Engine) -> anyhow::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    Task::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
    Ok(linker)
}

/// A fresh store for one attempt, with its limits armed. `fuel_engine` says whether `engine`
/// consumes fuel; then the store gets the attempt's fuel, or as good as unlimited.
pub fn new_store(
    engine: &Engine,
    limits: &Limits,
    grants: &Grants,
    preopens: &[Preopen],
    fuel_engine: bool,
    capture: Capture,
) -> Result<Store<HostState>, String> {
    let mut store = Store::new(engine, HostState::new(limits, grants, preopens, capture)?);
    store.limiter(|s| &mut s.limiter);
    if fuel_engine {
        store.set_fuel(limits.fuel.unwrap_or(u64::MAX)).expect("the engine consumes fuel");
    }
    // Every epoch tick the guest yields to the async executor, so that timers (the task's
    // timeout, the run's deadline) and signal handlers run even while a guest spins; the
    // executor enforces the timeout by dropping the call.
    store.set_epoch_deadline(1);
    store.epoch_deadline_async_yield_and_update(1);
    Ok(store)
}
