//! The bindings wit-bindgen generates for the `wasmpipe:pipeline/task` world.
//!
//! Most components never touch these: [`crate::component`] writes the glue. They are public
//! for components that want to implement the world by hand.
#![allow(missing_docs, clippy::all)]

wit_bindgen::generate!({
    path: "../wit",
    world: "task",
    pub_export_macro: true,
    export_macro_name: "export",
    default_bindings_module: "::wasmpipe_guest::bindings",
});
