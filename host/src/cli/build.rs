//! `wasmpipe build`, and `wasmpipe run --build`: builds the components of a pipeline whose
//! sources changed, reporting each build on stderr.

use std::path::Path;
use std::process::ExitCode;

use wasmpipe::authoring::component_build;

use super::args::Output;
use super::output::report_errors;

/// `wasmpipe build`: exit code 0 when every component is built or up to date, 2 when a build
/// failed.
pub fn build(file: &Path) -> ExitCode {
    build_components(file, Output::Human).unwrap_or(ExitCode::SUCCESS)
}

/// Builds the stale components of the pipeline in `file`, reporting on stderr; returns the exit
/// code to stop with if a build failed.
pub fn build_components(file: &Path, output: Output) -> Option<ExitCode> {
    let started = |name: &str, path: &Path| eprintln!("building {name} ({})", path.display());
    let done = |report: &component_build::Report| match report.outcome {
        component_build::Outcome::Built(took) => eprintln!("built {} in {:.1}s", report.name, took.as_secs_f64()),
        component_build::Outcome::UpToDate => eprintln!("{} is up to date", report.name),
    };
    match component_build::build_pipeline(file, started, done) {
        Ok(_) => None,
        Err(diagnostics) => Some(report_errors(&diagnostics, output)),
    }
}
