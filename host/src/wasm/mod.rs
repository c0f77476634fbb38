//! Everything that touches wasmtime: engines ([`engine`]), the sandbox of one attempt
//! ([`sandbox`]: store data, WASI context, limiter, linkers), loading and describing components
//! ([`loader`], with compiled forms kept on disk by [`compiled_cache`]), running one attempt
//! ([`executor`] for task components, [`command`] for WASI commands, [`verdict`] for what the
//! attempt comes to), the attempt's artifact directories ([`attempt_dirs`]), bounded capture of
//! what guests write ([`capture`]) and the WIT bindings ([`wit`], [`wit_value`]).
//!
//! May use: `model` only. Knows nothing of plans, scheduling or run records: it runs one
//! attempt of one component under the limits and grants it is given, and says how it ended.

pub(crate) mod attempt_dirs;
pub mod capture;
pub(crate) mod command;
pub(crate) mod compiled_cache;
pub mod engine;
pub mod executor;
pub mod host_interfaces;
pub mod loader;
pub(crate) mod network;
pub mod sandbox;
pub(crate) mod verdict;
pub mod wit;
pub(crate) mod wit_compat;
pub mod wit_value;
