//! What the commands print about runs and problems: the lines of a finished task, the run's
//! summary or its JSON record, and diagnostics (on stderr for people, as JSON on stdout).

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use wasmpipe::model::diag::Diagnostics;
use wasmpipe::record::{RunRecord, RunState, TaskRecord, TaskState};

use super::args::Output;
use super::color::{of_state, paint};

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

/// Prints the end of a run: its record as JSON, or for people the skipped tasks (unless
/// `quiet`) and a summary naming where the record is (under `run_dir`).
pub fn print_record(record: &RunRecord, output: Output, run_dir: &Path, quiet: bool) -> anyhow::Result<()> {
    if output == Output::Json {
        outln!("{}", serde_json::to_string_pretty(record)?);
    } else {
        if !quiet {
            for task in record.tasks.iter().filter(|t| t.state == TaskState::Skipped) {
                out!("{}", task_lines(task));
            }
        }
        print_summary(record, run_dir);
    }
    Ok(())
}

/// The lines of a finished task: its state (and why it failed or was skipped) and how long its
/// attempts took, then its logs.
pub fn task_lines(task: &TaskRecord) -> String {
    let role = if task.exit_handler { " (exit handler)" } else { "" };
    let took = task_duration(task).map(|d| format!(" (took {})", human_duration(d))).unwrap_or_default();
    let mut text = match (&task.state, &task.failure, &task.skip) {
        (TaskState::Succeeded, _, _) if task.cached => format!("{}{}{role}\n", tag("cached"), task.id),
        (TaskState::Succeeded, _, _) => format!("{}{}{role}{took}\n", tag("ok"), task.id),
        (_, Some(f), _) => {
            let code = f.trap_code.as_deref().map(|c| format!(" [{c}]")).unwrap_or_default();
            let state = tag(state_word(task.state));
            format!("{state}{}{role}: {}{code}: {}{took}\n", task.id, snake(&f.kind), f.message)
        }
        (_, None, Some(s)) => {
            format!("{}{}{role}: {} (cause: {})\n", tag("skipped"), task.id, snake(&s.reason), s.cause)
        }
        _ => format!("{}{}{role}{took}\n", tag(state_word(task.state)), task.id),
    };
    for line in &task.logs {
        let source = if line.source == "stdout" { String::new() } else { format!("{}: ", line.source) };
        text.push_str(&format!("          | {source}{}\n", line.text));
    }
    text
}

/// A task line's state tag, `[ok]` to `[cancelled]`, colored by state when colors are on, and
/// padded so that task ids line up.
fn tag(word: &str) -> String {
    let tag = format!("[{word}]");
    let pad = " ".repeat(10usize.saturating_sub(tag.len()).max(1));
    format!("{}{pad}", paint(&tag, of_state(word)))
}

/// From a task's first attempt's start to its last attempt's end (none for a task that did not
/// run).
fn task_duration(task: &TaskRecord) -> Option<Duration> {
    let (first, last) = (task.attempts.first()?, task.attempts.last()?);
    between(&first.started_at, &last.finished_at)
}

/// The time between two of the record's timestamps (RFC 3339).
fn between(start: &str, end: &str) -> Option<Duration> {
    let start = humantime::parse_rfc3339(start).ok()?;
    humantime::parse_rfc3339(end).ok()?.duration_since(start).ok()
}

/// A duration for people: `0.42 ms`, `12 ms`, `1.25 s`, `2m 5s`.
fn human_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    match ms {
        ms if ms < 10.0 => format!("{ms:.2} ms"),
        ms if ms < 1000.0 => format!("{ms:.0} ms"),
        ms if ms < 60_000.0 => format!("{:.2} s", ms / 1000.0),
        _ => format!("{}m {}s", d.as_secs() / 60, d.as_secs() % 60),
    }
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

/// A run's state as a word: `succeeded`, `failed`, `cancelled`.
pub fn run_state_word(state: RunState) -> &'static str {
    match state {
        RunState::Succeeded => "succeeded",
        RunState::Failed => "failed",
        RunState::Cancelled => "cancelled",
    }
}

/// The most failed tasks, and the most exit handlers, the summary lists one by one; the rest
/// are counted (a 1,000-item loop's summary stays a screen long).
const SUMMARY_LINES: usize = 10;

/// For people, at the end of a run: the run's state, duration and counts by state, the failed tasks with kind and message, each exit
/// handler's outcome and what its body ended as, the pipeline's outputs, and where the record is.
fn print_summary(record: &RunRecord, run_dir: &Path) {
    let took = between(&record.started_at, &record.finished_at).map(|d| format!(" in {}", human_duration(d)));
    let counts: Vec<String> = [TaskState::Succeeded, TaskState::Failed, TaskState::Cancelled, TaskState::Skipped]
        .into_iter()
        .filter_map(|state| {
            let n = record.tasks.iter().filter(|t| t.state == state).count();
            (n > 0).then(|| format!("{n} {}", snake(&state)))
        })
        .collect();
    outln!(
        "run {} {}{}: {} task(s): {}",
        record.run_id,
        paint(run_state_word(record.state), of_state(run_state_word(record.state))),
        took.unwrap_or_default(),
        record.tasks.len(),
        counts.join(", ")
    );
    let failed: Vec<&TaskRecord> =
        record.tasks.iter().filter(|t| !t.exit_handler && t.state == TaskState::Failed).collect();
    for task in failed.iter().take(SUMMARY_LINES) {
        if let Some(f) = &task.failure {
            let code = f.trap_code.as_deref().map(|c| format!(" [{c}]")).unwrap_or_default();
            outln!("  failed:  {} ({}{code}): {}", task.id, snake(&f.kind), first_line(&f.message));
        }
    }
    if failed.len() > SUMMARY_LINES {
        outln!(
            "  failed:  ... and {} more (all of them: wasmpipe report {})",
            failed.len() - SUMMARY_LINES,
            record.run_id
        );
    }
    let mut handlers: Vec<&TaskRecord> = record.tasks.iter().filter(|t| t.exit_handler).collect();
    if handlers.len() > SUMMARY_LINES {
        // The ones to look at first: handlers that did not succeed, then those after a failed body.
        handlers.sort_by_key(|t| (t.state == TaskState::Succeeded, body_succeeded(t)));
    }
    for task in handlers.iter().take(SUMMARY_LINES) {
        let outcome = match &task.failure {
            Some(f) => format!("{} ({}): {}", snake(&task.state), snake(&f.kind), first_line(&f.message)),
            None => snake(&task.state),
        };
        let body = match &task.final_status {
            Some(status) => {
                format!("; its body {} with {} failure(s)", run_state_word(status.state), status.failures.len())
            }
            None => String::new(),
        };
        outln!("  handler: {} {outcome}{body}", task.id);
    }
    if handlers.len() > SUMMARY_LINES {
        let mut kinds: Vec<(String, usize)> = Vec::new();
        for task in &handlers[SUMMARY_LINES..] {
            let body = task.final_status.as_ref().map_or("did not run", |s| run_state_word(s.state));
            let kind = format!("{} after a body that {body}", snake(&task.state));
            match kinds.iter_mut().find(|(k, _)| *k == kind) {
                Some((_, n)) => *n += 1,
                None => kinds.push((kind, 1)),
            }
        }
        let kinds: Vec<String> = kinds.into_iter().map(|(kind, n)| format!("{n} {kind}")).collect();
        outln!("  handler: ... and {} more: {}", handlers.len() - SUMMARY_LINES, kinds.join(", "));
    }
    for (name, value) in &record.outputs {
        let text = value.to_string();
        let shown = if text.len() > 200 {
            format!("{}... ({} bytes)", &text[..text.floor_char_boundary(200)], text.len())
        } else {
            text
        };
        outln!("  output:  {name} = {shown}");
    }
    for (name, why) in &record.missing_outputs {
        outln!("  output:  {name} has no value: {}", first_line(why));
    }
    outln!(
        "  components: {} compiled, {} from cache; record: {}",
        record.compile.compiled,
        record.compile.from_cache,
        run_dir.join(&record.run_id).join("record.json").display()
    );
}

/// Whether an exit task ran after a body that succeeded.
fn body_succeeded(task: &TaskRecord) -> bool {
    task.final_status.as_ref().is_some_and(|s| s.state == RunState::Succeeded)
}

/// The first line of a message, for a one-line summary.
fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or("")
}
