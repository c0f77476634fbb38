//! `wasmpipe report`: finds a run's record (by run id, `latest`, run directory or file), reads
//! it and writes its HTML page (see `wasmpipe::report`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use wasmpipe::model::suggest::did_you_mean;
use wasmpipe::record::RunRecord;

/// The largest record read (a 10,000-task record is a few megabytes).
const MAX_RECORD: u64 = 1 << 30;

/// Writes the report of `run` to `out` (or beside its record) and prints where.
pub fn report(run: &str, run_dir: &Path, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let file = find_record(run, run_dir)?;
    let record = read_record(&file)?;
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

/// The record `run` names: a file, a run's directory, `latest`, or a run id under `run_dir`.
fn find_record(run: &str, run_dir: &Path) -> anyhow::Result<PathBuf> {
    let given = Path::new(run);
    if given.is_file() {
        return Ok(given.to_path_buf());
    }
    if given.join("record.json").is_file() {
        return Ok(given.join("record.json"));
    }
    let ids = run_ids(run_dir);
    let id = if run == "latest" {
        match ids.iter().max() {
            Some(id) => id.clone(),
            None => bail!("no run has a record in {} yet; give `--run-dir DIR` or a record.json", run_dir.display()),
        }
    } else {
        run.to_string()
    };
    let file = run_dir.join(&id).join("record.json");
    if file.is_file() {
        return Ok(file);
    }
    bail!(
        "no run `{run}`: neither a file, a run directory, nor a run in {}{} (the runs there: `ls {}`; `latest` is the newest)",
        run_dir.display(),
        did_you_mean(run, ids.iter().map(String::as_str)),
        run_dir.display()
    )
}

/// The ids of the runs under `run_dir` that have a record.
fn run_ids(run_dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(run_dir) else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.path().join("record.json").is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect()
}

/// Reads and parses a run record, saying where it is not one.
fn read_record(file: &Path) -> anyhow::Result<RunRecord> {
    let size = std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?.len();
    if size > MAX_RECORD {
        bail!("{} is {size} bytes, more than the 1 GiB a run record may be; is it a run record?", file.display());
    }
    let text = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut parser = serde_json::Deserializer::from_slice(&text);
    serde_path_to_error::deserialize(&mut parser).map_err(|e| {
        let at = e.path().to_string();
        anyhow::anyhow!(
            "{} is not a wasmpipe run record: at `{at}`: {} (a record is the `record.json` of a run directory, or `wasmpipe run --output json`)",
            file.display(),
            wasmpipe::model::suggest::in_serde_message(&e.inner().to_string())
        )
    })
}
