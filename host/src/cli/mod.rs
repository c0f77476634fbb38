//! The parts of the `wasmpipe` command. Each subcommand has a module of its name (`run`,
//! `build`, `validate`, `inspect`, `cache`, `schema`); they share the command line (`args`),
//! the printing of records and diagnostics (`output`), and, for `run`, the progress writer
//! (`progress`) and signal handling (`signals`).
//!
//! May use: the library's public API only (`model`, `record`, `run`, `authoring`); a thin
//! layer that parses, calls the library and prints.

pub mod args;
pub mod build;
pub mod cache;
pub mod inspect;
pub mod output;
pub mod progress;
pub mod run;
pub mod schema;
pub mod signals;
pub mod validate;
