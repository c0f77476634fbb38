//! The top of the report: the run's state and counts, its failures, its exit handlers'
//! outcomes and its outputs.

use std::fmt::Write;

use super::html::{duration, esc, push_cut};
use super::state_word;
use super::tasks::{Clock, push_value};
use super::templates::{STATES, state_index};
use crate::record::{RunRecord, RunState, TaskState};

/// The most bytes of a failure message shown.
const MESSAGE_MAX: usize = 2048;
/// The most failed tasks, and exit handlers, listed at the top; all of them are in the task
/// list below.
const LISTED: usize = 100;
/// Up to this many exit handlers are all listed; beyond, only those worth a look.
const SHOWN_ALL: usize = 20;

/// The run's name, state, times and task counts.
pub(super) fn header(out: &mut String, record: &RunRecord, clock: &Clock, unfinished: Option<&str>) {
    let state = unfinished.map_or_else(|| super::snake(&record.state), str::to_string);
    let _ = write!(
        out,
        "<header>\n<h1>{} <span class=\"badge s-{state}\" id=\"run-state\">{state}</span></h1>\n<dl class=\"facts\">\n",
        esc(&record.pipeline)
    );
    let mut fact = |name: &str, value: &str| {
        let _ = writeln!(out, "<dt>{name}</dt><dd>{value}</dd>");
    };
    fact("run", &format!("<code>{}</code>", esc(&record.run_id)));
    if let Some(file) = &record.pipeline_file {
        fact("pipeline file", &format!("<code>{}</code>", esc(file)));
    }
    fact("started", &esc(&record.started_at));
    fact("duration", &duration(clock.span));
    let mut counts = [0usize; 4];
    for task in &record.tasks {
        counts[state_index(task.state)] += 1;
    }
    let shown: Vec<String> = STATES
        .iter()
        .filter(|s| counts[state_index(**s)] > 0)
        .map(|s| format!("<span class=\"s-{0}\">{1} {0}</span>", state_word(*s), counts[state_index(*s)]))
        .collect();
    fact("tasks", &format!("<span id=\"task-count\">{}</span>: {}", record.tasks.len(), shown.join(", ")));
    if let Some(cancel) = &record.cancel {
        fact("cancelled by", &format!("{} (grace {} ms)", esc(&cancel.signal), cancel.grace_ms));
    }
    if record.aborted {
        fact("aborted", "exit handlers were cut short");
    }
    if !record.params.is_empty() {
        let mut params = String::new();
        for (name, value) in &record.params {
            let _ = write!(params, "<code>{}</code> = ", esc(name));
            push_value(&mut params, value);
            params.push_str("<br>");
        }
        fact("params", &params);
    }
    fact("components", &format!("{} compiled, {} from the cache", record.compile.compiled, record.compile.from_cache));
    out.push_str("</dl>\n</header>\n");
}

/// Every failed task with its kind, trap code and message, linked to its row.
pub(super) fn failures(out: &mut String, record: &RunRecord) {
    let failed: Vec<_> = record.tasks.iter().filter(|t| t.failure.is_some()).collect();
    if failed.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<section id=\"failures\">\n<h2>Failures ({})</h2>\n<table>\n<tr><th>task</th><th>state</th><th>kind</th><th>message</th></tr>\n",
        failed.len()
    );
    for task in failed.iter().take(LISTED) {
        let failure = task.failure.as_ref().expect("filtered on failures");
        let kind = super::snake(&failure.kind);
        let trap = failure.trap_code.as_deref().map(|c| format!(" ({})", esc(c))).unwrap_or_default();
        let state = state_word(task.state);
        let _ = write!(
            out,
            "<tr class=\"failure\" data-task=\"{id}\"><td><a href=\"{anchor}\"><code>{id}</code></a></td><td class=\"s-{state}\">{state}</td><td>{kind}{trap}</td><td>",
            id = esc(&task.id),
            anchor = esc(&super::tasks::link(&task.id)),
        );
        push_cut(out, &failure.message, MESSAGE_MAX);
        out.push_str("</td></tr>\n");
    }
    more_row(out, failed.len(), 4);
    out.push_str("</table>\n</section>\n");
}

/// A last row saying how many of `total` rows were left out.
fn more_row(out: &mut String, total: usize, columns: usize) {
    if total > LISTED {
        let _ = writeln!(
            out,
            "<tr><td colspan=\"{columns}\" class=\"note\">… and {} more, in the task list below</td></tr>",
            total - LISTED
        );
    }
}

/// Each exit task: what it ran after (its body's state and failures) and how it ended.
pub(super) fn exit_handlers(out: &mut String, record: &RunRecord) {
    let mut handlers: Vec<_> = record.tasks.iter().filter(|t| t.exit_handler).collect();
    if handlers.is_empty() {
        return;
    }
    // Many handlers (a loop's): those that did not succeed or ran after a failed body are
    // listed, the rest counted.
    let many = handlers.len() > SHOWN_ALL;
    let total = handlers.len();
    if many {
        handlers.retain(|t| {
            t.state != TaskState::Succeeded || t.final_status.as_ref().is_none_or(|s| s.state != RunState::Succeeded)
        });
    }
    out.push_str("<section id=\"exit-handlers\">\n<h2>Exit handlers</h2>\n<table>\n<tr><th>exit task</th><th>its state</th><th>body ended</th><th>body failures it received</th></tr>\n");
    for task in handlers.iter().take(LISTED) {
        let state = state_word(task.state);
        let _ = write!(
            out,
            "<tr><td><a href=\"{}\"><code>{}</code></a></td><td class=\"s-{state}\">{state}</td>",
            esc(&super::tasks::link(&task.id)),
            esc(&task.id)
        );
        match &task.final_status {
            Some(status) => {
                let body = super::snake(&status.state);
                let failures: Vec<String> = status
                    .failures
                    .iter()
                    .map(|f| format!("<code>{}</code> {}", esc(&f.task), super::snake(&f.kind)))
                    .collect();
                let received = if failures.is_empty() { "none".to_string() } else { failures.join(", ") };
                let _ = writeln!(out, "<td class=\"s-{body}\">{body}</td><td>{received}</td></tr>");
            }
            None => out.push_str("<td>—</td><td>did not run</td></tr>\n"),
        }
    }
    more_row(out, handlers.len(), 4);
    if many {
        let _ = writeln!(
            out,
            "<tr><td colspan=\"4\" class=\"note\">… and {} more that succeeded after a body that succeeded</td></tr>",
            total - handlers.len()
        );
    }
    out.push_str("</table>\n</section>\n");
}

/// The pipeline's outputs.
pub(super) fn outputs(out: &mut String, record: &RunRecord) {
    if record.outputs.is_empty() && record.missing_outputs.is_empty() {
        return;
    }
    out.push_str("<section id=\"outputs\">\n<h2>Outputs</h2>\n<table>\n");
    for (name, value) in &record.outputs {
        let _ = write!(out, "<tr><th><code>{}</code></th><td>", esc(name));
        push_value(out, value);
        out.push_str("</td></tr>\n");
    }
    for (name, why) in &record.missing_outputs {
        let _ = write!(out, "<tr class=\"missing\"><th><code>{}</code></th><td class=\"note\">no value: ", esc(name));
        push_cut(out, why, MESSAGE_MAX);
        out.push_str("</td></tr>\n");
    }
    out.push_str("</table>\n</section>\n");
}
