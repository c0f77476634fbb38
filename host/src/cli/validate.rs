//! `wasmpipe validate`: checks a pipeline, with its parameters and artifacts, without running it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::json;
use wasmpipe::model::diag::Diagnostics;
use wasmpipe::run::{RunOptions, Runner, set_pool_capacity};

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
    // Components are described one at a time: a pool for one attempt is enough.
    set_pool_capacity(1).map_err(anyhow::Error::msg)?;
    let runner = Runner::new()?;
    let options = RunOptions { params, artifacts, ..RunOptions::default() };
    let diags = match runner.prepare_file(file, &options).await {
        Ok(prepared) => Diagnostics { errors: prepared.load_failures },
        Err(diags) => diags,
    };
    if diags.errors.is_empty() {
        match output {
            Output::Json => outln!("{}", json!({"errors": []})),
            Output::Human => outln!("{}: valid", file.display()),
        }
        return Ok(ExitCode::SUCCESS);
    }
    Ok(report_errors(&diags, output))
}
