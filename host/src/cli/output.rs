//! What the commands print about runs and problems: the lines of a finished task, the run's
//! summary or its JSON record, and diagnostics (on stderr for people, as JSON on stdout).

use std::path::Path;
use std::process::ExitCode;

use wasmpipe::model::diag::Diagnostics;
use wasmpipe::record::{RunRecord, RunState, TaskRecord, TaskState};

use super::args::Output;

/// Prints the problems that stopped a command before anything ran, and returns exit code 2.
pub fn report_errors(diags: &Diagnostics, output: Output) -> ExitCode {
    match output {
        Output::Json => outln!("{}", serde_json::to_string_pretty(diags).unwrap_or_default()),
        Output::Human => {
            for d in &diags.errors {
                eprintln!("error: {d}");
            }
            eprintln!("{} problem(s) found; nothing ran.", diags.errors.len());
        }
    }
    ExitCode::from(2)
}

/// Prints the end of a run: its record as JSON, or for people the skipped tasks and a summary
/// naming where the record is (under `run_dir`).
pub fn print_record(record: &RunRecord, output: Output, run_dir: &Path) -> anyhow::Result<()> {
    if output == Output::Json {
        outln!("{}", serde_json::to_string_pretty(record)?);
    } else {
        print_summary(record, run_dir);
    }
    Ok(())
}

/// The lines of a finished task: its state (and why it failed or was skipped), then its logs.
pub fn task_lines(task: &TaskRecord) -> String {
    let role = if task.exit_handler { " (exit handler)" } else { "" };
    let mut text = match (&task.state, &task.failure, &task.skip) {
        (TaskState::Succeeded, _, _) if task.cached => format!("[cached]  {}{role}\n", task.id),
        (TaskState::Succeeded, _, _) => format!("[ok]      {}{role}\n", task.id),
        (_, Some(f), _) => {
            let code = f.trap_code.as_deref().map(|c| format!(" [{c}]")).unwrap_or_default();
            format!("[{}]  {}{role}: {}{code}: {}\n", state_word(task.state), task.id, snake(&f.kind), f.message)
        }
        (_, None, Some(s)) => format!("[skipped] {}{role}: {} (cause: {})\n", task.id, snake(&s.reason), s.cause),
        _ => format!("[{}] {}{role}\n", state_word(task.state), task.id),
    };
    for line in &task.logs {
        let source = if line.source == "stdout" { String::new() } else { format!("{}: ", line.source) };
        text.push_str(&format!("          | {source}{}\n", line.text));
    }
    text
}

/// The snake_case name serde gives an enum value (`memory_limit`).
fn snake(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}

/// The word of a task's state in its line (`[ok]`, `[failed]`, ...).
fn state_word(state: TaskState) -> &'static str {
    match state {
        TaskState::Succeeded => "ok",
        TaskState::Failed => "failed",
        TaskState::Skipped => "skipped",
        TaskState::Cancelled => "cancelled",
    }
}

/// For people, at the end of a run: the skipped tasks (which no progress line showed), then
/// one line with the run's state, its counts and where its record is.
/// A run's state as a word: `succeeded`, `failed`, `cancelled`.
pub fn run_state_word(state: RunState) -> &'static str {
    match state {
        RunState::Succeeded => "succeeded",
        RunState::Failed => "failed",
        RunState::Cancelled => "cancelled",
    }
}

fn print_summary(record: &RunRecord, run_dir: &Path) {
    for task in record.tasks.iter().filter(|t| t.state == TaskState::Skipped) {
        out!("{}", task_lines(task));
    }
    let failed = record.tasks.iter().filter(|t| t.state == TaskState::Failed).count();
    let state = run_state_word(record.state);
    outln!(
        "run {} {state}: {} task(s), {failed} failed; components: {} compiled, {} from cache; record: {}",
        record.run_id,
        record.tasks.len(),
        record.compile.compiled,
        record.compile.from_cache,
        run_dir.join(&record.run_id).join("record.json").display()
    );
}
