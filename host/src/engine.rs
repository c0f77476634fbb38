//! The shared wasmtime [`Engine`]: its configuration, and the epoch ticker that makes
//! timeouts work for guests that spin.

use std::sync::OnceLock;
use std::time::Duration;

use wasmtime::{Config, Engine};

/// How often the epoch advances: the resolution of task timeouts.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Builds an engine for running components: async calls (so that timeouts also stop guests
/// blocked in host calls) and epoch interruption (so that they stop guests that spin). With
/// `fuel`, guests also consume fuel: wasmtime makes that an engine-wide setting, and it costs
/// time on every instruction, so only runs that ask for a fuel limit use such an engine.
pub fn new_engine(fuel: bool) -> anyhow::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.consume_fuel(fuel);
    let engine = Engine::new(&config)?;
    start_epoch_ticker(&engine);
    Ok(engine)
}

/// The engine shared by everything in this process that does not bring its own: one without
/// fuel and, built on first use, one with.
pub fn shared_engine(fuel: bool) -> anyhow::Result<Engine> {
    static PLAIN: OnceLock<Engine> = OnceLock::new();
    static FUELED: OnceLock<Engine> = OnceLock::new();
    let cell = if fuel { &FUELED } else { &PLAIN };
    if let Some(engine) = cell.get() {
        return Ok(engine.clone());
    }
    let engine = new_engine(fuel)?;
    Ok(cell.get_or_init(|| engine).clone())
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
