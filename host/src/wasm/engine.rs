//! The shared wasmtime [`Engine`]s: their configuration (pooling or on-demand allocation, with
//! or without fuel), and the epoch ticker that lets timers run while a guest spins.

use std::collections::HashMap;
use std::sync::Mutex;
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

/// Pool sizing: enough slots for many concurrent tasks of small components, memory slots of
/// [`POOL_MEMORY_SLOT`], and resident pages kept between instances (tuned per NOTES.md).
fn pooling_config() -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(256)
        .total_core_instances(2048)
        .total_memories(256)
        .total_tables(512)
        .max_memories_per_component(4)
        .max_tables_per_component(8)
        .max_core_instances_per_component(32)
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
