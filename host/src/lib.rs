//! wasmpipe: a pipeline runtime for WebAssembly components, with exit handlers that the host
//! guarantees as `finally` blocks.
//!
//! A pipeline file ([`model`]) is parsed with the line of every node, turned into a plan,
//! checked against the components' own descriptions, then run: the scheduler says which task
//! may start, each attempt runs in a fresh wasmtime sandbox, and the [`record`] says what
//! happened. [`run::Runner`] ties them together; [`authoring`] writes pipelines in Rust.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use wasmpipe::run::{Runner, RunOptions};
//! let runner = Runner::new()?;
//! let options = RunOptions { params: vec![("message".into(), "hi".into())], ..RunOptions::default() };
//! let prepared = runner.prepare_file("pipeline.yaml".as_ref(), &options).await?;
//! let record = runner.run(&prepared, &options, &mut |_| {}).await;
//! println!("{:?}", record.state);
//! # Ok(()) }
//! ```
//!
//! The crate is layered, and a lower layer never uses a higher one (`tests/layout.rs` checks):
//! `model` (the file format and the shared vocabulary) < `plan` (plan, validation, scheduler)
//! and `wasm` (everything that touches wasmtime) and `record` < `run` (the runner);
//! `authoring` and [`graph`] build on `model` and `plan`. The rules the code implements are in
//! `docs/semantics.md`.
#![deny(missing_docs)]

pub mod authoring;
pub mod export;
mod faults;
pub mod graph;
pub mod history;
pub mod journal;
pub mod model;
mod plan;
pub mod record;
pub mod report;
pub mod run;
mod wasm;

/// Not API: what the benchmarks and tests need of the engine's insides (the bare wasmtime
/// floor, one attempt by itself). May change in any release.
#[doc(hidden)]
pub mod internals {
    pub use crate::wasm::capture::Capture;
    pub use crate::wasm::engine::EngineKind;
    pub use crate::wasm::executor::run_attempt;
    pub use crate::wasm::loader::{LoadedComponent, Loader, Pre};
    pub use crate::wasm::sandbox;
    pub use crate::wasm::sandbox::AttemptPolicy;
    pub use crate::wasm::wit::types;
    pub use crate::wasm::wit_value::from_wit;
    pub use crate::wasm::wit_value::to_wit;
}
