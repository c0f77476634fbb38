//! The parts of the `wasmpipe` command. Each subcommand has a module of its name (`run`,
//! `build`, `validate`, `inspect`, `cache`, `schema`, `completions`, `compile`, `task-run`
//! and `task_run_argo` for its Argo mode, `task_failures` for the failures it leaves under KFP's pipeline root, `graph`, `report`, `runs`, `resume`); they share the
//! command line (`args`), the printing of records and diagnostics (`output`), colors by state
//! (`color`), and, for `run`, the progress writer (`progress`) and signal handling (`signals`).
//!
//! May use: the library's public API only (`model`, `record`, `run`, `authoring`); a thin
//! layer that parses, calls the library and prints.

/// `println!` that never panics: when stdout is closed (`wasmpipe run ... | head`) the rest of
/// the output is lost, not the exit code that says how the run ended.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `print!` that never panics (see `outln!`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}

pub mod args;
pub mod build;
pub mod cache;
pub mod color;
pub mod compile;
pub mod completions;
pub mod graph;
pub mod inspect;
pub mod output;
pub mod progress;
pub mod report;
pub mod resume;
pub mod run;
pub mod runs;
pub mod schema;
pub mod signals;
pub mod task_failures;
pub mod task_run;
pub mod task_run_argo;
pub mod validate;
