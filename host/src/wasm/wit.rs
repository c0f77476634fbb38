//! Host-side bindings of the `wasmpipe:pipeline/task` world (`wit/pipeline.wit`).
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../wit",
    world: "task",
    exports: { default: async },
});

pub use self::wasmpipe::pipeline::types;

/// The exported interface's name, as the linker reports it when missing.
pub(crate) const COMPONENT_INTERFACE: &str = "wasmpipe:pipeline/component@0.1.0";
