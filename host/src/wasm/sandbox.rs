//! The sandbox of one task attempt: its store data (WASI context, resource table, limiter,
//! captured output and log), its limits, and the linker that gives guests WASI, `wasi:http`
//! (every request checked against the task's network grant: none by default), the
//! `wasmpipe:pipeline/host` interface (in each version the host supports) and the embedder's
//! host interfaces, and nothing else.

use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, ResourceLimiter, Store};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView, filesystem::FsPerms};

use super::attempt_dirs::Preopen;
use super::capture::Capture;
use super::network::NetworkPolicy;
use super::wit::wasmpipe::pipeline::host::{self, Level};
use super::wit::{Task, types, v0_1};
use crate::model::policy::{Grants, Limits};

/// Denies memory growth past the limit and remembers that it did, so that the trap which
/// follows is reported as `memory_limit` and not as a generic trap (wasmtime #3772, #4153).
#[derive(Debug)]
pub(crate) struct RecordingLimiter {
    memory_limit: usize,
    memory_used: usize,
    /// Set when a growth was denied.
    pub(crate) hit: bool,
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

/// What an attempt may see of the host besides its limits: what the pipeline grants, its
/// artifact directories, and for a WASI command its arguments and environment.
#[derive(Clone, Copy, Default)]
pub struct Access<'a> {
    /// Host environment and directories the pipeline grants the task.
    pub(crate) grants: Option<&'a Grants>,
    /// The attempt's artifact directories.
    pub(crate) preopens: &'a [Preopen],
    /// Arguments, program name first (WASI commands).
    pub(crate) args: &'a [String],
    /// Environment variables besides the granted ones (WASI commands).
    pub(crate) env: &'a [(String, String)],
    /// Whether the guest is a preview-1 module (it gets a preview-1 WASI context).
    pub(crate) preview1: bool,
    /// What the run hands the embedder's host interfaces.
    pub(crate) run_data: Option<&'a RunData>,
}

/// What a run hands the host interfaces' implementations (its tenant, say): any value,
/// shared by the run's tasks.
pub type RunData = std::sync::Arc<dyn std::any::Any + Send + Sync>;

/// What confines one attempt: its limits, what its pipeline grants it, and what the run hands
/// the embedder's host interfaces.
#[derive(Clone, Copy)]
pub struct AttemptPolicy<'a> {
    /// Time, memory, fuel and output limits.
    pub limits: &'a Limits,
    /// Environment, directories, network and host interfaces the task is granted.
    pub grants: &'a Grants,
    /// The embedder's per-run state, reachable from its host functions.
    pub run_data: Option<&'a RunData>,
}

/// The WASI context of a store: preview 2 for components, preview 1 for core modules.
enum Wasi {
    P2 { ctx: WasiCtx, table: ResourceTable },
    P1(WasiP1Ctx),
}

/// The data of a task attempt's store. An embedder's host interface reaches its own state
/// through [`HostState::run_data`].
pub struct HostState {
    wasi: Wasi,
    http: wasmtime_wasi_http::WasiHttpCtx,
    /// Which hosts the attempt may send HTTP requests to.
    network: NetworkPolicy,
    /// The memory limiter, which records hits.
    pub(crate) limiter: RecordingLimiter,
    /// What the guest writes.
    pub(crate) capture: Capture,
    /// What the run hands the embedder's host interfaces (`RunOptions::run_data`).
    run_data: Option<RunData>,
}

impl HostState {
    /// What the run hands the embedder's host interfaces (`RunOptions::run_data`: its tenant,
    /// say), if it is a `T`. Shared by every task of the run; one run never sees another's.
    pub fn run_data<T: std::any::Any + Send + Sync>(&self) -> Option<&T> {
        self.run_data.as_deref()?.downcast_ref()
    }

    /// Fresh state for one attempt: captured stdio, and of the host only what `access` allows
    /// (by default no files, no network, no environment). Fails when a directory cannot be
    /// opened or a host variable is not set.
    pub(crate) fn new(limits: &Limits, access: &Access<'_>, capture: Capture) -> Result<HostState, String> {
        let mut builder = WasiCtx::builder();
        builder.stdout(capture.stdout.clone()).stderr(capture.stderr.clone());
        builder.args(access.args);
        for (name, value) in access.env {
            builder.env(name, value);
        }
        if let Some(grants) = access.grants {
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
        }
        for p in access.preopens {
            let perms = if p.writable { FsPerms::ReadWrite } else { FsPerms::ReadOnly };
            builder.preopened_dir(&p.host, &p.guest, perms).map_err(|e| {
                format!("cannot open artifact directory `{}` for `{}`: {e:#}", p.host.display(), p.guest)
            })?;
        }
        let wasi = if access.preview1 {
            Wasi::P1(builder.build_p1())
        } else {
            Wasi::P2 { ctx: builder.build(), table: ResourceTable::new() }
        };
        Ok(HostState {
            wasi,
            http: wasmtime_wasi_http::WasiHttpCtx::new(),
            network: NetworkPolicy::new(access.grants.map_or(&[][..], |g| &g.network)),
            limiter: RecordingLimiter { memory_limit: limits.memory, memory_used: 0, hit: false },
            capture,
            run_data: access.run_data.cloned(),
        })
    }

    fn preview1(&mut self) -> &mut WasiP1Ctx {
        match &mut self.wasi {
            Wasi::P1(ctx) => ctx,
            Wasi::P2 { .. } => panic!("a core module runs in a store with a preview-1 context"),
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        match &mut self.wasi {
            Wasi::P2 { ctx, table } => WasiCtxView { ctx, table },
            Wasi::P1(p1) => p1.ctx(),
        }
    }
}

impl wasmtime_wasi_http::WasiHttpView for HostState {
    fn http(&mut self) -> wasmtime_wasi_http::WasiHttpCtxView<'_> {
        match &mut self.wasi {
            Wasi::P2 { table, .. } => {
                wasmtime_wasi_http::WasiHttpCtxView { ctx: &mut self.http, table, hooks: &mut self.network }
            }
            Wasi::P1(_) => panic!("a core module has no wasi:http (its linker does not give it)"),
        }
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

impl v0_1::types::Host for HostState {}

impl v0_1::wasmpipe::pipeline::host::Host for HostState {
    fn log(&mut self, level: v0_1::wasmpipe::pipeline::host::Level, message: String) {
        use v0_1::wasmpipe::pipeline::host::Level as Old;
        let level = match level {
            Old::Debug => Level::Debug,
            Old::Info => Level::Info,
            Old::Warn => Level::Warn,
            Old::Error => Level::Error,
        };
        host::Host::log(self, level, message);
    }
}

/// The most bytes a guest may hand the host in one call (its return value, or one call of a
/// host function), which bounds what the host copies out of the guest before any of it is
/// checked: wasmtime's own default (128 MiB), or four times the value limit when that is more
/// (a value's WIT encoding is bigger than its JSON text).
pub(crate) fn hostcall_fuel(limits: &Limits) -> usize {
    usize::try_from(limits.values.saturating_mul(4)).unwrap_or(usize::MAX).max(128 << 20)
}

/// A linker with WASI (preview 2) and the wasmpipe host interface, in every version of the
/// WIT package that wasmpipe runs components of (0.2.0 and 0.1.0); the loader adds the
/// embedder's host interfaces.
pub(crate) fn linker(engine: &Engine) -> anyhow::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    Task::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
    v0_1::Task::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
    Ok(linker)
}

/// A linker with WASI preview 1, for command modules.
pub(crate) fn module_linker(engine: &Engine) -> anyhow::Result<wasmtime::Linker<HostState>> {
    let mut linker = wasmtime::Linker::new(engine);
    wasmtime_wasi::p1::add_to_linker_async(&mut linker, HostState::preview1)?;
    Ok(linker)
}

/// A fresh store for one attempt, with its limits armed. `fuel_engine` says whether `engine`
/// consumes fuel; then the store gets the attempt's fuel, or as good as unlimited.
pub fn new_store(
    engine: &Engine,
    limits: &Limits,
    access: &Access<'_>,
    fuel_engine: bool,
    capture: Capture,
) -> Result<Store<HostState>, String> {
    let mut store = Store::new(engine, HostState::new(limits, access, capture)?);
    store.limiter(|s| &mut s.limiter);
    store.set_hostcall_fuel(hostcall_fuel(limits));
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
