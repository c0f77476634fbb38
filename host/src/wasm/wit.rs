//! Host-side bindings of the `wasmpipe:pipeline/task` world: the current version
//! (`wit/pipeline.wit`, 0.2.0) and, in [`v0_1`], the first one (`wit/v0.1.0/pipeline.wit`),
//! which components built before 0.2.0 implement.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../wit",
    world: "task",
    exports: { default: async },
});

pub use self::wasmpipe::pipeline::types;

/// The exported interface's name, as the linker reports it when missing.
pub(crate) const COMPONENT_INTERFACE: &str = "wasmpipe:pipeline/component@0.2.0";

/// The WIT package components implement, and the earlier ones that still run.
pub(crate) const PACKAGE: &str = "wasmpipe:pipeline@0.2.0";
pub(crate) const EARLIER_PACKAGES: &[&str] = &["wasmpipe:pipeline@0.1.0"];

/// Bindings of `wasmpipe:pipeline@0.1.0`. Its types are the current ones but for
/// `failure-kind`, which has no `internal`; `wit_compat.rs` converts between the two.
pub mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../wit/v0.1.0",
        world: "task",
        exports: { default: async },
    });

    pub use self::wasmpipe::pipeline::types;

    /// The exported interface's name in 0.1.0.
    pub(crate) const COMPONENT_INTERFACE: &str = "wasmpipe:pipeline/component@0.1.0";
}
