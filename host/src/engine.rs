//! The shared wasmtime [`Engine`]: its configuration, and the epoch ticker that makes
//! timeouts work for guests that spin.

use std::sync::OnceLock;
use std::time::Duration;

use wasmtime::{Config, Engine};

/// How often the epoch advances: the resolution of task timeouts.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Builds an engine for running components: async calls (so that timeouts also stop guests
/// blocked in host calls) and epoch interruption (so that they stop guests that spin).
pub fn new_engine() -> anyhow::Result<Engine> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    let engine = Engine::new(&config)?;
    start_epoch_ticker(&engine);
    Ok(engine)
}

/// The engine shared by everything in this process that does not bring its own.
pub fn shared_engine() -> anyhow::Result<Engine> {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    if let Some(engine) = ENGINE.get() {
        return Ok(engine.clone());
    }
    let engine = new_engine()?;
    Ok(ENGINE.get_or_init(|| engine).clone())
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
