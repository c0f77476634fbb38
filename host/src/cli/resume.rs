//! `wasmpipe resume`: goes on with a run that was stopped before its end (killed, or the
//! machine stopped), from its journal (see `wasmpipe::run::resume`).

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use wasmpipe::history;
use wasmpipe::run::resume::Plan;
use wasmpipe::run::{CancelHandle, RunOptions, available_jobs};

use super::args::Output;
use super::signals::listen_for_signals;

/// Resumes run `run` (an id, `latest` or a run's directory) under `run_dir`: tasks whose end
/// its journal holds are not run again; the rest runs as it would have. Exit codes as `run`'s;
/// 2 when the run cannot be resumed (it ended, runs now, has no journal, or an artifact it
/// published is missing or changed).
pub async fn resume(run: &str, run_dir: &Path, output: Output, quiet: bool) -> anyhow::Result<ExitCode> {
    let dir = history::find(run_dir, run).map_err(anyhow::Error::msg)?;
    // Taken first and kept until the record is written: no other process resumes or removes
    // the run meanwhile.
    let lock = history::lock(&dir).map_err(|_| {
        anyhow::anyhow!(
            "run {} is running (a process holds its lock); it can be resumed once it has stopped",
            dir.display()
        )
    })?;
    let mut plan = match Plan::load(&dir) {
        Ok(plan) => plan,
        Err(e) => {
            if dir.join("record.json").is_file() {
                lock.finish(); // an ended run keeps no lock file
            }
            return Err(anyhow::Error::msg(e));
        }
    };
    plan.resume.lock = Some(Arc::new(lock));
    plan.check_artifacts(&dir).map_err(anyhow::Error::msg)?;
    let cancel = CancelHandle::new();
    listen_for_signals(cancel.clone())?;
    let mut options = RunOptions {
        params: plan.params.clone(),
        artifacts: plan.artifacts.clone(),
        run_dir: dir.parent().unwrap_or(run_dir).to_path_buf(),
        cancel,
        jobs: available_jobs(),
        write_record: false,
        ..RunOptions::default()
    };
    if let Some(started) = &plan.options {
        started.apply(&mut options);
    }
    options.jobs = options.jobs.max(1);
    let file = plan.kept_pipeline_file(&dir);
    let changed = plan.changed_inputs();
    let plan_cancel = plan.cancel.clone();
    options.resume = Some(Arc::new(plan.resume));
    if let Some(signal) = &plan_cancel {
        eprintln!(
            "note: the run was being cancelled ({signal}) when it stopped; the cancellation goes on: exit handlers run"
        );
        options.cancel.cancel(signal);
    }
    for path in changed {
        eprintln!("note: {path} changed since the run started; resuming with the copy the run kept");
    }
    super::run::run_file(&file, options, output, quiet).await
}
