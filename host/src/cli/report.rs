//! `wasmpipe report`: finds a run's record (by run id, `latest`, run directory or file, as
//! `wasmpipe::history` finds runs), reads it and writes its HTML page (see `wasmpipe::report`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use wasmpipe::history;

/// Writes the report of `run` to `out` (or beside its record) and prints where.
pub fn report(run: &str, run_dir: &Path, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let (file, page) = match find_record(run, run_dir)? {
        Found::Record(file) => {
            let record = history::read_record(&file).map_err(anyhow::Error::msg)?;
            (file, wasmpipe::report::render(&record))
        }
        Found::Unfinished(dir) => {
            let run = history::Run::at(&dir);
            let progress = history::Progress::of(&dir);
            let Some(record) = progress.partial_record() else {
                bail!("run {} has no record and no journal to draw: nothing of it was recorded", dir.display());
            };
            let page = wasmpipe::report::render_unfinished(&record, run.status.word(), &progress.unfinished);
            (dir.join("record.json"), page)
        }
    };
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

/// What a report is drawn from.
enum Found {
    /// A record file.
    Record(PathBuf),
    /// The directory of a run without a record (running, or stopped before its end).
    Unfinished(PathBuf),
}

/// The record `run` names: any JSON file (`wasmpipe run --output json > r.json`), or the
/// record of a run found as `wasmpipe runs` finds them, or that run's journal.
fn find_record(run: &str, run_dir: &Path) -> anyhow::Result<Found> {
    if Path::new(run).is_file() {
        return Ok(Found::Record(PathBuf::from(run)));
    }
    let dir = history::find(run_dir, run).map_err(anyhow::Error::msg)?;
    let file = dir.join("record.json");
    Ok(if file.is_file() { Found::Record(file) } else { Found::Unfinished(dir) })
}
