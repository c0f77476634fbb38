//! The shared wasmtime [`Engine`]s: their configuration (pooling or on-demand allocation, with
//! or without fuel), and the epoch ticker that lets timers run while a guest spins.
//!
//! The pooling allocator builds its whole pool when its engine is built (a guard page per
//! stack, an index per slot), so the pool is sized for the attempts a process runs at once
//! ([`set_pool_capacity`]): the CLI sizes it from `--jobs`, and a 3-task pipeline does not pay
//! for a 10,000-task one (BENCHMARKS.md, startup).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances: guests yield to the executor this often.
pub(crate) const EPOCH_TICK: Duration = crate::model::policy::CHECK_INTERVAL;

/// The largest linear memory a pooling slot holds. A task whose memory limit is larger runs on
/// the on-demand allocator instead.
pub(crate) const POOL_MEMORY_SLOT: usize = 1 << 30;

/// Which engine: engines differ in settings that wasmtime fixes per engine, and a component
/// compiled for one engine cannot run on another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EngineKind {
    /// Guests consume fuel (it costs time on every instruction, so only runs that ask use it).
    pub fuel: bool,
    /// Instances come from the pooling allocator (fast instantiation, bounded slots) rather
    /// than being allocated on demand.
    pub pooling: bool,
}

/// Builds an engine for running components: async calls (so that timeouts also stop guests
/// blocked in host calls) and epoch interruption (so that spinning guests yield).
pub(crate) fn new_engine(kind: EngineKind) -> anyhow::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.consume_fuel(kind.fuel);
    if kind.pooling {
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling_config()));
    }
    let engine = Engine::new(&config)?;
    start_epoch_ticker(&engine);
    Ok(engine)
}

/// The most memories, tables and core instances one component may have to run in the pool;
/// a component with more runs on the on-demand allocator (its `describe` fails in the pool).
const MAX_MEMORIES_PER_COMPONENT: u32 = 4;
const MAX_TABLES_PER_COMPONENT: u32 = 8;
const MAX_CORE_INSTANCES_PER_COMPONENT: u32 = 32;

/// The pool's capacity in attempts at once when nobody set one: a library embedder running many
/// runs in one process.
pub const DEFAULT_POOL_CAPACITY: usize = 256;

/// The capacity the pooling engines are (or will be) built with.
static POOL_CAPACITY: AtomicUsize = AtomicUsize::new(DEFAULT_POOL_CAPACITY);

/// Whether a pooling engine has been built (its capacity is then fixed).
static POOL_BUILT: Mutex<bool> = Mutex::new(false);

/// Sizes the pooling allocator of this process's engines for `attempts` attempts running at
/// once (at least 1; [`DEFAULT_POOL_CAPACITY`] unless set). The pool then holds, for every
/// attempt, a component instance, a fiber stack and the most memories, tables and core
/// instances a component may have in the pool, so that up to `attempts` attempts never find the
/// pool full. Its set-up cost grows with `attempts` (about 1 ms at 256 on this machine).
///
/// The engines are built once per process, on first use: this must come first, and fails
/// (naming the capacity in use) once a pooling engine exists with another one.
pub fn set_pool_capacity(attempts: usize) -> Result<(), String> {
    let attempts = attempts.max(1);
    let built = POOL_BUILT.lock().unwrap();
    let current = POOL_CAPACITY.load(Ordering::Relaxed);
    if *built && current != attempts {
        return Err(format!(
            "the pooling allocator is already built for {current} attempts at once; set its capacity before the first component loads"
        ));
    }
    POOL_CAPACITY.store(attempts, Ordering::Relaxed);
    Ok(())
}

/// The pool for [`POOL_CAPACITY`] attempts at once (see [`set_pool_capacity`]), memory slots of
/// [`POOL_MEMORY_SLOT`], and resident pages kept between instances (tuned per NOTES.md).
fn pooling_config() -> PoolingAllocationConfig {
    *POOL_BUILT.lock().unwrap() = true;
    let attempts = u32::try_from(POOL_CAPACITY.load(Ordering::Relaxed)).unwrap_or(u32::MAX / 64);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(attempts)
        .total_stacks(attempts)
        .total_core_instances(attempts.saturating_mul(MAX_CORE_INSTANCES_PER_COMPONENT))
        .total_memories(attempts.saturating_mul(MAX_MEMORIES_PER_COMPONENT))
        .total_tables(attempts.saturating_mul(MAX_TABLES_PER_COMPONENT))
        .max_memories_per_component(MAX_MEMORIES_PER_COMPONENT)
        .max_tables_per_component(MAX_TABLES_PER_COMPONENT)
        .max_core_instances_per_component(MAX_CORE_INSTANCES_PER_COMPONENT)
        .max_memory_size(POOL_MEMORY_SLOT)
        .linear_memory_keep_resident(1 << 20)
        .table_keep_resident(64 << 10)
        .pagemap_scan(Enabled::Auto);
    pool
}

/// The engine of `kind` shared by everything in this process, built on first use.
pub(crate) fn shared_engine(kind: EngineKind) -> anyhow::Result<Engine> {
    static ENGINES: Mutex<Option<HashMap<EngineKind, Engine>>> = Mutex::new(None);
    let mut engines = ENGINES.lock().unwrap();
    let engines = engines.get_or_insert_with(HashMap::new);
    if let Some(engine) = engines.get(&kind) {
        return Ok(engine.clone());
    }
    let engine = new_engine(kind)?;
    engines.insert(kind, engine.clone());
    Ok(engine)
}

/// Advances the engine's epoch every [`EPOCH_TICK`] on a background thread, which ends when
/// the engine is dropped.
fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("wasmpipe-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawning the epoch thread");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_capacity_is_fixed_once_a_pooling_engine_exists() {
        shared_engine(EngineKind { fuel: false, pooling: true }).unwrap();
        let current = POOL_CAPACITY.load(Ordering::Relaxed);
        let error = set_pool_capacity(current + 1).unwrap_err();
        assert!(error.contains(&format!("already built for {current} attempts")), "{error}");
        assert_eq!(set_pool_capacity(current), Ok(()), "the same capacity is no change");
    }
}
