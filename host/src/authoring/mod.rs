//! Authoring: writing pipelines in Rust ([`builder`], the same model a pipeline file parses
//! to) and building components from their sources before a run ([`component_build`]).
//!
//! May use: `model`, and `plan` (a build walks the sub-pipelines a pipeline uses). Nothing
//! here runs a component.

pub mod builder;
pub mod component_build;

pub use builder::*;
