//! `wasmpipe runs`: the run directory's history (see `wasmpipe::history`): list runs, show
//! one's summary or record, print its logs, remove runs and prune old ones.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::bail;
use serde_json::json;
use wasmpipe::history::{self, Run, Status};
use wasmpipe::record::TaskState;

use super::args::{Output, RunsAction};
use super::output::print_record;

/// Does `action` on the runs under `run_dir`.
pub fn runs(action: RunsAction, run_dir: &Path) -> anyhow::Result<ExitCode> {
    match action {
        RunsAction::List { output } => list(run_dir, output)?,
        RunsAction::Show { run, output } => {
            let dir = history::find(run_dir, &run).map_err(anyhow::Error::msg)?;
            let status = Run::at(&dir).status;
            if matches!(status, Status::Running | Status::Incomplete) {
                show_progress(&dir, status, output)?;
            } else {
                let record = finished_record(&dir)?;
                // `print_record` names the record's place as `RUN_DIR/<id>/record.json`.
                print_record(&record, output, dir.parent().unwrap_or(run_dir), true)?;
            }
        }
        RunsAction::Logs { run, task, output } => logs(run_dir, &run, task.as_deref(), output)?,
        RunsAction::Rm { runs } => {
            let dirs = runs.iter().map(|r| history::find(run_dir, r)).collect::<Result<Vec<_>, _>>();
            for dir in dirs.map_err(anyhow::Error::msg)? {
                history::remove(&dir).map_err(anyhow::Error::msg)?;
                outln!("removed {}", dir.display());
                wasmpipe::run::keep::collect_garbage(dir.parent().unwrap_or(run_dir));
            }
        }
        RunsAction::Prune { keep, older_than, dry_run } => prune(run_dir, keep, older_than.map(|d| d.0), dry_run)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The record of the finished run in `dir`, or why there is none.
fn finished_record(dir: &Path) -> anyhow::Result<wasmpipe::record::RunRecord> {
    match Run::at(dir).status {
        Status::Running => bail!("run {} is still running: its record is written when it ends", dir.display()),
        Status::Incomplete => bail!(
            "run {} did not finish (its process was stopped before the end) and has no record; what it left is in its directory",
            dir.display()
        ),
        _ => history::read_record(&dir.join("record.json")).map_err(anyhow::Error::msg),
    }
}

/// Prints what the journal of a run without a record says: the tasks that ended, those that
/// started and did not, the interruptions.
fn show_progress(dir: &Path, status: Status, output: Output) -> anyhow::Result<()> {
    let progress = history::Progress::of(dir);
    let id = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if output == Output::Json {
        let view = json!({
            "run_id": id,
            "state": status.word(),
            "pipeline": progress.pipeline,
            "started_at": progress.started_at,
            "tasks_ended": progress.ended,
            "tasks_unfinished": progress.unfinished,
            "interruptions": progress.interruptions,
            "journal_bad_line": progress.bad_line,
        });
        outln!("{}", serde_json::to_string_pretty(&view)?);
        return Ok(());
    }
    let how = match status {
        Status::Running => "is running; its journal so far".to_string(),
        _ => "did not finish (its process was stopped before the end); its journal".to_string(),
    };
    let Some(pipeline) = &progress.pipeline else {
        match status {
            Status::Running => outln!("run {id} is running; its journal has nothing yet"),
            _ => outln!("run {id} did not finish (its process was stopped before the end) and left no journal"),
        }
        return Ok(());
    };
    let states: Vec<TaskState> = progress.ended.iter().map(|t| t.state).collect();
    outln!("run {id} ({pipeline}) {how}: {} task(s) ended: {}", progress.ended.len(), counts(&states));
    for task in progress.ended.iter().filter(|t| t.state != TaskState::Succeeded) {
        let why = task.failure.as_ref().map(|f| f.message.lines().next().unwrap_or("").to_string()).unwrap_or_default();
        let state = serde_json::to_value(task.state).unwrap_or_default();
        outln!("  {}: {} {why}", task.id, state.as_str().unwrap_or_default());
    }
    for id in &progress.unfinished {
        outln!("  started, not ended: {id}");
    }
    for message in &progress.interruptions {
        outln!("  interrupted: {message}");
    }
    if let Some(line) = progress.bad_line {
        outln!("  the journal is cut at line {line}: what followed is lost");
    }
    Ok(())
}

/// Prints the runs, oldest first.
fn list(run_dir: &Path, output: Output) -> anyhow::Result<()> {
    let runs = history::list(run_dir);
    if output == Output::Json {
        let rows: Vec<_> = runs.iter().map(row_json).collect();
        outln!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if runs.is_empty() {
        outln!("no runs in {}", run_dir.display());
        return Ok(());
    }
    outln!("{:<23} {:<28} {:<10} {:<20} {:>9}  TASKS", "RUN", "PIPELINE", "STATE", "STARTED", "DURATION");
    for run in &runs {
        let (pipeline, duration, tasks) = match &run.summary {
            Some(s) => (s.pipeline.as_str(), seconds(&s.started_at, s.finished_at.as_deref()), counts(&s.tasks)),
            None => ("-", None, "-".to_string()),
        };
        let started = run.started().replace('T', " ");
        let started = started.get(..19).unwrap_or(&started);
        let duration = duration.map(|d| format!("{d:.3} s")).unwrap_or_else(|| "-".into());
        outln!(
            "{:<23} {:<28} {:<10} {:<20} {:>9}  {tasks}",
            run.id,
            cut(pipeline, 28),
            run.status.word(),
            started,
            duration
        );
    }
    Ok(())
}

/// A run as a row of `runs list --output json`.
fn row_json(run: &Run) -> serde_json::Value {
    let summary = run.summary.as_ref();
    let mut tasks = serde_json::Map::new();
    for state in [TaskState::Succeeded, TaskState::Failed, TaskState::Skipped, TaskState::Cancelled] {
        let n = summary.map_or(0, |s| s.tasks.iter().filter(|t| **t == state).count());
        tasks.insert(serde_json::to_value(state).unwrap_or_default().as_str().unwrap_or_default().into(), n.into());
    }
    json!({
        "run_id": run.id,
        "dir": run.dir.display().to_string(),
        "state": run.status.word(),
        "pipeline": summary.map(|s| s.pipeline.clone()),
        "started_at": run.started(),
        "finished_at": summary.map(|s| s.finished_at.clone()),
        "duration_s": summary.and_then(|s| seconds(&s.started_at, s.finished_at.as_deref())),
        "tasks": summary.map(|_| serde_json::Value::Object(tasks)),
    })
}

/// Tasks by state, as `3 succeeded, 1 failed`.
fn counts(tasks: &[TaskState]) -> String {
    let words = [
        (TaskState::Succeeded, "succeeded"),
        (TaskState::Failed, "failed"),
        (TaskState::Skipped, "skipped"),
        (TaskState::Cancelled, "cancelled"),
    ];
    let parts: Vec<String> = words
        .iter()
        .map(|(state, word)| (tasks.iter().filter(|t| *t == state).count(), word))
        .filter(|(n, _)| *n > 0)
        .map(|(n, word)| format!("{n} {word}"))
        .collect();
    if parts.is_empty() { "none".into() } else { parts.join(", ") }
}

/// Seconds between two RFC 3339 times (none while the second is unknown).
fn seconds(from: &str, to: Option<&str>) -> Option<f64> {
    let (a, b) = (humantime::parse_rfc3339(from).ok()?, humantime::parse_rfc3339(to?).ok()?);
    Some(b.duration_since(a).ok()?.as_secs_f64())
}

/// `text`, cut to `width` characters with an ellipsis.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width - 1).collect();
    cut.push('…');
    cut
}

/// Prints what the tasks of a run logged: all of them, or `task` and the tasks inside it.
fn logs(run_dir: &Path, run: &str, task: Option<&str>, output: Output) -> anyhow::Result<()> {
    let dir = history::find(run_dir, run).map_err(anyhow::Error::msg)?;
    let id = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // A run without a record: the tasks its journal says ended.
    let tasks = match Run::at(&dir).status {
        Status::Running | Status::Incomplete => history::Progress::of(&dir).ended,
        _ => finished_record(&dir)?.tasks,
    };
    let chosen: Vec<_> = tasks
        .iter()
        .filter(|t| task.is_none_or(|want| t.id == want || t.id.starts_with(&format!("{want}/"))))
        .collect();
    if let Some(want) = task
        && chosen.is_empty()
    {
        let hint = wasmpipe::model::suggest::did_you_mean(want, tasks.iter().map(|t| t.id.as_str()));
        bail!("run {id} has no task `{want}`{hint}; `wasmpipe runs show {id}` lists its tasks");
    }
    if output == Output::Json {
        let lines: Vec<_> = chosen
            .iter()
            .flat_map(|t| t.logs.iter().map(|l| json!({"task": t.id, "source": l.source, "text": l.text, "at": l.at})))
            .collect();
        outln!("{}", serde_json::to_string_pretty(&lines)?);
        return Ok(());
    }
    for t in chosen {
        for line in &t.logs {
            let source = if line.source == "stdout" { String::new() } else { format!("{}: ", line.source) };
            let at = line.at.as_deref().map(|a| format!("{a} ")).unwrap_or_default();
            outln!("{at}[{}] {source}{}", t.id, line.text);
        }
    }
    Ok(())
}

/// Removes old runs (never running ones): those that are not among the newest `keep` and
/// started more than `older_than` ago (either condition alone when only one is given).
fn prune(run_dir: &Path, keep: Option<usize>, older_than: Option<Duration>, dry_run: bool) -> anyhow::Result<()> {
    let runs: Vec<Run> = history::list(run_dir).into_iter().filter(|r| r.status != Status::Running).collect();
    let cutoff = older_than.map(|d| SystemTime::now() - d);
    let keep_from = keep.map_or(usize::MAX, |k| runs.len().saturating_sub(k));
    let mut removed = 0;
    for (i, run) in runs.iter().enumerate() {
        // A run whose start cannot be told is not known to be old.
        let old = cutoff.is_none_or(|c| humantime::parse_rfc3339(&run.started()).is_ok_and(|t| t < c));
        if i >= keep_from || !old {
            continue;
        }
        if dry_run {
            outln!("would remove {} ({})", run.id, run.status.word());
        } else {
            history::remove(&run.dir).map_err(anyhow::Error::msg)?;
            outln!("removed {} ({})", run.id, run.status.word());
        }
        removed += 1;
    }
    if !dry_run {
        wasmpipe::run::keep::collect_garbage(run_dir);
    }
    outln!(
        "{} {removed} run(s) of {} in {}",
        if dry_run { "would remove" } else { "removed" },
        runs.len(),
        run_dir.display()
    );
    Ok(())
}
