//! The report's timeline: one row per task of the pipeline, its attempts drawn on the run's
//! time axis; a loop's task is one collapsed row that opens on a row per instance; each
//! instance's row opens on its details (attempts, outputs, artifacts, failure, final status,
//! logs), with every value and log cut to a bound.

use std::fmt::Write;
use std::time::SystemTime;

use serde_json::Value;

use super::html::{bytes, duration, esc, push_cut};
use super::state_word;
use super::templates::Template;
use crate::model::artifact::ArtifactRef;
use crate::record::{RunRecord, TaskRecord};

/// The most bytes of one value shown.
const VALUE_MAX: usize = 1024;
/// The most log lines shown per task, and bytes per line.
const LOG_LINES: usize = 200;
const LOG_LINE_MAX: usize = 1024;

/// The run's time axis: when it started and how long it took, in seconds.
pub(super) struct Clock {
    start: Option<SystemTime>,
    pub span: f64,
}

impl Clock {
    /// The axis of `record` (an unreadable time counts as the start).
    pub fn of(record: &RunRecord) -> Clock {
        let start = parse(&record.started_at);
        let mut clock = Clock { start, span: 0.0 };
        clock.span = clock.at(&record.finished_at);
        clock
    }

    /// Seconds from the run's start to `time`.
    fn at(&self, time: &str) -> f64 {
        match (self.start, parse(time)) {
            (Some(start), Some(time)) => time.duration_since(start).map_or(0.0, |d| d.as_secs_f64()),
            _ => 0.0,
        }
    }

    /// `left` and `width` of a bar from `from` to `to`, in percent of the axis.
    fn bar(&self, from: &str, to: &str) -> (f64, f64) {
        let span = self.span.max(1e-6);
        let (a, b) = (self.at(from), self.at(to));
        let left = (a / span * 100.0).clamp(0.0, 100.0);
        let width = ((b - a).max(0.0) / span * 100.0).clamp(0.0, 100.0 - left);
        (left, width)
    }
}

fn parse(time: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339(time).ok()
}

/// The element id of a task's row.
pub(super) fn anchor(id: &str) -> String {
    format!("task-{id}")
}

/// A link to a task's row: its anchor, percent-encoded past letters, digits and `-_./`.
pub(super) fn link(id: &str) -> String {
    let mut out = String::from("#");
    for b in anchor(id).bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => out.push(b as char),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// The timeline section.
pub(super) fn timeline(out: &mut String, record: &RunRecord, templates: &[Template], clock: &Clock) {
    let _ = write!(
        out,
        "<section id=\"tasks\">\n<h2>Tasks</h2>\n<p class=\"note\">Bars show attempts on the run's {} time axis. Click a task for its details; a loop's task opens on its instances.</p>\n",
        duration(clock.span)
    );
    for template in templates {
        if template.tasks.len() == 1 && !template.id.contains('*') {
            task_row(out, &record.tasks[template.tasks[0]], clock);
            continue;
        }
        let state = state_word(template.state());
        let _ = write!(
            out,
            "<details class=\"template\" data-template=\"{id}\"><summary class=\"row\"><span class=\"label\"><code>{id}</code> <span class=\"count\">{n} instances</span></span><span class=\"track\">",
            id = esc(&template.id),
            n = template.tasks.len()
        );
        // One bar from the first instance's start to the last one's end.
        let first =
            template.tasks.iter().filter_map(|&t| record.tasks[t].attempts.first()).map(|a| clock.at(&a.started_at));
        let last =
            template.tasks.iter().filter_map(|&t| record.tasks[t].attempts.last()).map(|a| clock.at(&a.finished_at));
        if let (Some(a), Some(b)) = (first.reduce(f64::min), last.reduce(f64::max)) {
            let span = clock.span.max(1e-6);
            let left = (a / span * 100.0).clamp(0.0, 100.0);
            let width = ((b - a) / span * 100.0).clamp(0.0, 100.0 - left);
            let _ = write!(out, "<i class=\"s-{state}\" style=\"left:{left:.3}%;width:{width:.3}%\"></i>");
        }
        let _ = writeln!(out, "</span><span class=\"state s-{state}\">{}</span></summary>", template.counts_text());
        for &t in &template.tasks {
            task_row(out, &record.tasks[t], clock);
        }
        out.push_str("</details>\n");
    }
    out.push_str("</section>\n");
}

/// One task instance: its row (label, attempt bars, state), opening on its details.
fn task_row(out: &mut String, task: &TaskRecord, clock: &Clock) {
    let state = state_word(task.state);
    let took: f64 = task.attempts.iter().map(|a| (clock.at(&a.finished_at) - clock.at(&a.started_at)).max(0.0)).sum();
    let _ = write!(
        out,
        "<details class=\"task\" id=\"{anchor}\" data-task=\"{id}\" data-state=\"{state}\"><summary class=\"row\"><span class=\"label\"><code>{id}</code>{exit}</span><span class=\"track\">",
        anchor = esc(&anchor(&task.id)),
        id = esc(&task.id),
        exit = if task.exit_handler { " <span class=\"tag\">exit task</span>" } else { "" },
    );
    for attempt in &task.attempts {
        let (left, width) = clock.bar(&attempt.started_at, &attempt.finished_at);
        let class = if attempt.failure.is_some() { "failed" } else { "succeeded" };
        let _ = write!(out, "<i class=\"s-{class}\" style=\"left:{left:.3}%;width:{width:.3}%\"></i>");
    }
    let time = if task.attempts.is_empty() { String::new() } else { format!(" · {}", duration(took)) };
    let cached = if task.cached { " · cached" } else { "" };
    let _ = write!(
        out,
        "</span><span class=\"state s-{state}\">{state}{cached}{time}</span></summary>\n<div class=\"details\">\n"
    );
    details(out, task);
    out.push_str("</div></details>\n");
}

/// A task's details.
fn details(out: &mut String, task: &TaskRecord) {
    let _ = writeln!(out, "<p>component <code>{}</code></p>", esc(&task.component));
    if let Some(failure) = &task.failure {
        let _ = write!(out, "<p class=\"failure\"><b>{}</b>", super::snake(&failure.kind));
        if let Some(code) = &failure.trap_code {
            let _ = write!(out, " (trap code <code>{}</code>)", esc(code));
        }
        out.push_str(": ");
        push_cut(out, &failure.message, VALUE_MAX * 4);
        out.push_str("</p>\n");
    }
    if let Some(skip) = &task.skip {
        let _ = writeln!(out, "<p>skipped: {} (<code>{}</code>)</p>", super::snake(&skip.reason), esc(&skip.cause));
    }
    if task.attempts.len() > 1 || task.attempts.iter().any(|a| a.failure.is_some()) {
        out.push_str("<table><tr><th>attempt</th><th>started</th><th>ended</th><th>failure</th></tr>\n");
        for (n, attempt) in task.attempts.iter().enumerate() {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>",
                n + 1,
                esc(&attempt.started_at),
                esc(&attempt.finished_at)
            );
            if let Some(failure) = &attempt.failure {
                let _ = write!(out, "{}: ", super::snake(&failure.kind));
                push_cut(out, &failure.message, VALUE_MAX);
            }
            out.push_str("</td></tr>\n");
        }
        out.push_str("</table>\n");
    }
    if !task.outputs.is_empty() {
        out.push_str("<table class=\"outputs\">\n");
        for (name, value) in &task.outputs {
            let _ = write!(out, "<tr><th><code>{}</code></th><td>", esc(name));
            push_value(out, value);
            out.push_str("</td></tr>\n");
        }
        out.push_str("</table>\n");
    }
    if let Some(status) = &task.final_status {
        let _ = write!(
            out,
            "<p>final status received: body <code>{}</code> {}",
            esc(&status.group),
            super::snake(&status.state)
        );
        for failure in &status.failures {
            let _ = write!(out, "<br><code>{}</code> {}", esc(&failure.task), super::snake(&failure.kind));
            if let Some(code) = &failure.trap_code {
                let _ = write!(out, " ({})", esc(code));
            }
            out.push_str(": ");
            push_cut(out, &failure.message, VALUE_MAX);
        }
        out.push_str("</p>\n");
    }
    if !task.logs.is_empty() {
        out.push_str("<pre class=\"logs\">");
        for line in task.logs.iter().take(LOG_LINES) {
            let _ = write!(out, "<span class=\"src\">{:>6}</span> ", esc(&line.source));
            push_cut(out, &line.text, LOG_LINE_MAX);
            out.push('\n');
        }
        if task.logs.len() > LOG_LINES {
            let _ =
                writeln!(out, "<span class=\"cut\">… {} more lines in the record</span>", task.logs.len() - LOG_LINES);
        }
        out.push_str("</pre>\n");
    }
}

/// A value: an artifact as its kind, size, digest and path; anything else as JSON, cut.
pub(super) fn push_value(out: &mut String, value: &Value) {
    if let Value::Object(map) = value
        && map.contains_key("digest")
        && let Ok(artifact) = ArtifactRef::from_value(value)
    {
        let what = if artifact.directory { "directory" } else { "file" };
        let _ = write!(
            out,
            "<span class=\"artifact\">{} {what}, {} <code>{}</code> at <code>{}</code></span>",
            esc(&artifact.kind),
            bytes(artifact.size),
            esc(&artifact.digest),
            esc(&artifact.path)
        );
        return;
    }
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    out.push_str("<code class=\"value\">");
    push_cut(out, &text, VALUE_MAX);
    out.push_str("</code>");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ensures that a link to a task reaches its row whatever its id holds.
    #[test]
    fn links_are_percent_encoded() {
        assert_eq!(link("fan/3/a b%c"), "#task-fan/3/a%20b%25c");
        assert_eq!(anchor("fan/3/a b%c"), "task-fan/3/a b%c");
    }

    /// Ensures that a bar never leaves the axis, whatever the times say.
    #[test]
    fn bars_stay_on_the_axis() {
        let clock = Clock { start: parse("2026-01-01T00:00:00Z"), span: 10.0 };
        assert_eq!(clock.bar("2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"), (10.0, 10.0));
        assert_eq!(clock.bar("2025-01-01T00:00:00Z", "2027-01-01T00:00:00Z").0, 0.0);
        let (left, width) = clock.bar("2026-01-01T00:00:09Z", "2026-01-01T00:01:00Z");
        assert_eq!((left, width), (90.0, 10.0));
        assert_eq!(clock.bar("not a time", "either"), (0.0, 0.0));
    }
}
