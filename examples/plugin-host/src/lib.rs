//! An application that runs its tenants' plugins as wasmpipe pipelines: a small HTTP service
//! (axum, on 127.0.0.1) where a tenant uploads WebAssembly components and a pipeline, runs it
//! and reads the record. Plugins get a key-value store of their tenant through the
//! application's own host interface (`acme:host/kv`, [`kv`]); what a tenant's pipeline may
//! ask of the host is checked by [`policy`]; [`service`] holds the routes, the tenants' turns
//! and their budgets.

pub mod kv;
pub mod policy;
pub mod service;

pub use service::{App, Config};
