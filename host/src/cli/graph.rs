//! `wasmpipe graph`: the pipeline drawn as DOT or Mermaid (see `wasmpipe::graph`).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use wasmpipe::graph::{GraphFormat, draw_file};

use super::args::{GraphFormatArg, Output};
use super::output::report_errors;

/// Prints the graph of `file` (or writes it to `out`): exit code 0, or 2 when the file cannot
/// be read.
pub fn graph(file: &Path, format: GraphFormatArg, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let format = match format {
        GraphFormatArg::Dot => GraphFormat::Dot,
        GraphFormatArg::Mermaid => GraphFormat::Mermaid,
    };
    let text = match draw_file(file, format) {
        Ok(text) => text,
        Err(diags) => return Ok(report_errors(&diags, Output::Human)),
    };
    match out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("cannot write the graph to {}", path.display()))?
        }
        None => out!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
