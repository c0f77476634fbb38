//! What the commands print about runs and problems: the lines of a finished task, the run's
//! summary or its JSON record, and diagnostics (on stderr for people, as JSON on stdout).

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use wasmpipe::model::diag::Diagnostics;
use wasmpipe::record::{RunRecord, RunState, TaskRecord, TaskState};
use wasmpipe::run::{FinishedRun, TaskBrief};

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

/// A run's record as the commands print it: its fields, and its tasks one at a time. A record
/// read from a file is one; a run that has just finished is another, whose task records are
/// read back from its journal only when printed.
pub trait Printable {
    /// The record's fields (its `tasks` may be empty: read them with `task`).
    fn head(&self) -> &RunRecord;
    /// How many tasks the record lists.
    fn count(&self) -> usize;
    /// What the summary needs of the `i`-th task.
    fn brief(&self, i: usize) -> TaskBrief;
    /// The record of the `i`-th task (None: it cannot be read back).
    fn task(&self, i: usize) -> Option<TaskRecord>;
    /// Writes the whole record as pretty JSON and a newline.
    fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()>;
}

impl Printable for RunRecord {
    fn head(&self) -> &RunRecord {
        self
    }
    fn count(&self) -> usize {
        self.tasks.len()
    }
    fn brief(&self, i: usize) -> TaskBrief {
        TaskBrief::of(&self.tasks[i])
    }
    fn task(&self, i: usize) -> Option<TaskRecord> {
        self.tasks.get(i).cloned()
    }
    fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        out.write_all(b"\n")
    }
}

impl Printable for FinishedRun {
    fn head(&self) -> &RunRecord {
        self.record()
    }
    fn count(&self) -> usize {
        self.task_count()
    }
    fn brief(&self, i: usize) -> TaskBrief {
        FinishedRun::brief(self, i)
    }
    fn task(&self, i: usize) -> Option<TaskRecord> {
        FinishedRun::task(self, i).ok()
    }
    fn write_json(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        FinishedRun::write_json(self, out)
    }
}

/// Prints the end of a run: its record as JSON, or for people the skipped tasks (unless
/// `quiet`) and a summary naming where the record is (under `run_dir`).
pub fn print_record(record: &dyn Printable, output: Output, run_dir: &Path, quiet: bool) -> anyhow::Result<()> {
    if output == Output::Json {
        if let Err(e) = record.write_json(&mut std::io::stdout().lock())
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            eprintln!("wasmpipe: could not print the run's record: {e}");
        }
    } else {
        if !quiet {
            let skipped = (0..record.count()).filter(|&i| record.brief(i).state == TaskState::Skipped);
            for task in skipped.filter_map(|i| record.task(i)) {
                out!("{}", task_lines(&task));
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
fn print_summary(run: &dyn Printable, run_dir: &Path) {
    let record = run.head();
    let took = between(&record.started_at, &record.finished_at).map(|d| format!(" in {}", human_duration(d)));
    let briefs: Vec<TaskBrief> = (0..run.count()).map(|i| run.brief(i)).collect();
    let counts: Vec<String> = [TaskState::Succeeded, TaskState::Failed, TaskState::Cancelled, TaskState::Skipped]
        .into_iter()
        .filter_map(|state| {
            let n = briefs.iter().filter(|t| t.state == state).count();
            (n > 0).then(|| format!("{n} {}", snake(&state)))
        })
        .collect();
    outln!(
        "run {} {}{}: {} task(s): {}",
        record.run_id,
        paint(run_state_word(record.state), of_state(run_state_word(record.state))),
        took.unwrap_or_default(),
        briefs.len(),
        counts.join(", ")
    );
    let failed: Vec<usize> =
        (0..briefs.len()).filter(|&i| !briefs[i].exit_handler && briefs[i].state == TaskState::Failed).collect();
    for task in failed.iter().take(SUMMARY_LINES).filter_map(|&i| run.task(i)) {
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
    let mut handlers: Vec<usize> = (0..briefs.len()).filter(|&i| briefs[i].exit_handler).collect();
    if handlers.len() > SUMMARY_LINES {
        // The ones to look at first: handlers that did not succeed, then those after a failed body.
        handlers
            .sort_by_key(|&i| (briefs[i].state == TaskState::Succeeded, briefs[i].body == Some(RunState::Succeeded)));
    }
    for task in handlers.iter().take(SUMMARY_LINES).filter_map(|&i| run.task(i)) {
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
        for task in handlers[SUMMARY_LINES..].iter().map(|&i| briefs[i]) {
            let body = task.body.map_or("did not run", run_state_word);
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

/// The first line of a message, for a one-line summary.
fn first_line(message: &str) -> &str {
    message.lines().next().unwrap_or("")
}
