//! `wasmpipe report`: finds a run's record (by run id, `latest`, run directory or file, as
//! `wasmpipe::history` finds runs), reads it and writes its HTML page (see `wasmpipe::report`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use wasmpipe::history;

/// Writes the report of `run` to `out` (or beside its record) and prints where.
pub fn report(run: &str, run_dir: &Path, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let file = find_record(run, run_dir)?;
    let record = history::read_record(&file).map_err(anyhow::Error::msg)?;
    let page = wasmpipe::report::render(&record);
    match out {
        Some(path) if path == Path::new("-") => out!("{page}"),
        _ => {
            let path = out.map(Path::to_path_buf).unwrap_or_else(|| file.with_file_name("report.html"));
            std::fs::write(&path, page).with_context(|| format!("cannot write the report to {}", path.display()))?;
            outln!("{}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The record `run` names: any JSON file (`wasmpipe run --output json > r.json`), or the
/// record of a run found as `wasmpipe runs` finds them.
fn find_record(run: &str, run_dir: &Path) -> anyhow::Result<PathBuf> {
    if Path::new(run).is_file() {
        return Ok(PathBuf::from(run));
    }
    let dir = history::find(run_dir, run).map_err(anyhow::Error::msg)?;
    let file = dir.join("record.json");
    if !file.is_file() {
        bail!("run {} has no record yet: it is running, or it was stopped before its end", dir.display());
    }
    Ok(file)
}
