//! Log lines that the host shows and keeps in the run record.
//!
//! `println!` and `eprintln!` are captured too; these functions add a level.

use crate::bindings::wasmpipe::pipeline::host::{self, Level};

/// Logs a debug line.
pub fn debug(message: &str) {
    host::log(Level::Debug, message);
}

/// Logs an informational line.
pub fn info(message: &str) {
    host::log(Level::Info, message);
}

/// Logs a warning.
pub fn warn(message: &str) {
    host::log(Level::Warn, message);
}

/// Logs an error (it does not fail the task: return `Err` for that).
pub fn error(message: &str) {
    host::log(Level::Error, message);
}
