//! `wasmpipe validate`: checks a pipeline, with its parameters and artifacts, without running it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::json;
use wasmpipe::run::{RunOptions, Runner};

use super::args::Output;
use super::output::report_errors;

/// Prepares the pipeline as `run` would and reports what is wrong, components that do not load
/// included: exit code 0 when nothing is, else 2.
pub async fn validate(
    file: &Path,
    params: Vec<(String, String)>,
    artifacts: Vec<(String, PathBuf)>,
    output: Output,
) -> anyhow::Result<ExitCode> {
    // Nothing runs here: no pool to build.
    let runner = Runner::new()?.without_pooling();
    let options = RunOptions { params, artifacts, ..RunOptions::default() };
    let diags = runner.check_file(file, &options).await;
    if diags.errors.is_empty() {
        match output {
            Output::Json => outln!("{}", json!({"errors": []})),
            Output::Human => outln!("{}: valid", file.display()),
        }
        return Ok(ExitCode::SUCCESS);
    }
    Ok(report_errors(&diags, output))
}
