//! Fuzz target `load`: a pipeline file's text, loaded with `model::load::load_str` and, when it
//! loads, prepared as `wasmpipe validate` prepares it (`Runner::prepare_pipeline`: parameters,
//! the plan with its conditions and sub-pipelines, component loading, validation).
//!
//! Component paths resolve in an empty directory, so components do not exist and validation
//! runs with load failures (an absolute path may still name a host file). Lines of the form
//! `#p NAME=VALUE` (YAML comments) become `-p` values, so that parameter parsing is reached
//! too. Loading and preparing must never panic, hang or take unbounded memory, and every
//! diagnostic must say something.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use wasmpipe::model::diag::Diagnostics;
use wasmpipe::model::load::load_str;
use wasmpipe::run::{RunOptions, Runner};

/// One runtime for every input: preparing is async.
static RUNTIME: LazyLock<tokio::runtime::Runtime> =
    LazyLock::new(|| tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime"));

/// One runner for every input, without a compiled-component cache on disk.
static RUNNER: LazyLock<Runner> = LazyLock::new(|| Runner::with_cache(None).expect("a runner"));

/// The empty directory that component and sub-pipeline paths are relative to.
static BASE: LazyLock<tempfile::TempDir> = LazyLock::new(|| tempfile::tempdir().expect("a temporary directory"));

/// Checks that every diagnostic carries a message.
fn check(diags: &Diagnostics) {
    assert!(!diags.errors.is_empty(), "an error without diagnostics");
    for d in &diags.errors {
        assert!(!d.message.trim().is_empty(), "a diagnostic without a message: {d:?}");
    }
}

fuzz_target!(|text: &str| {
    let base = BASE.path();
    let loaded = match load_str(text, Path::new("fuzz.yaml"), base) {
        Ok(loaded) => loaded,
        Err(diags) => return check(&diags),
    };
    let params = text
        .lines()
        .filter_map(|line| line.strip_prefix("#p "))
        .filter_map(|p| p.split_once('='))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    let options = RunOptions { params, write_record: false, ..RunOptions::default() };
    let prepared = RUNTIME.block_on(RUNNER.prepare_pipeline(loaded.pipeline, base, &options));
    match prepared {
        Ok(prepared) => prepared.load_failures.iter().for_each(|d| assert!(!d.message.trim().is_empty(), "{d:?}")),
        Err(diags) => check(&diags),
    }
});
