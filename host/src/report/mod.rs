//! `wasmpipe report`: a run record as one self-contained HTML page (nothing loaded from elsewhere):
//! the run's summary, its graph with states in color, and a timeline of every task's attempts
//! whose rows open on the task's details. A loop's instances are one collapsed row per task of
//! the pipeline, so a 10,000-task run reads like its pipeline.
//!
//! May use: `record` and `model` only: the report is drawn from the record alone, so it works
//! on a record from another machine.
//!
//! ```no_run
//! let text = std::fs::read_to_string(".wasmpipe/runs/RUN_ID/record.json")?;
//! let record: wasmpipe::record::RunRecord = serde_json::from_str(&text)?;
//! std::fs::write("report.html", wasmpipe::report::render(&record))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod dag;
mod html;
mod summary;
mod tasks;
mod templates;

use crate::record::{RunRecord, TaskState};
use html::push_esc;

/// The page's style sheet, inlined.
const STYLE: &str = include_str!("style.css");

/// The page's one script: following a link to a task (`#task-ID`) opens the rows it is folded
/// in, so that a failure listed at the top leads to its details.
const SCRIPT: &str = "function show(){var id=location.hash.slice(1);try{id=decodeURIComponent(id)}catch(x){}var e=id&&document.getElementById(id);if(!e)return;for(var d=e;d;d=d.parentElement){if(d.tagName==='DETAILS')d.open=true;}e.scrollIntoView();}window.addEventListener('hashchange',show);show();";

/// The report of `record`: one HTML page, self-contained.
pub fn render(record: &RunRecord) -> String {
    render_with(record, None)
}

/// The report of a run that has no record yet, from what its journal says
/// ([`crate::history::Progress::partial_record`]): `state` (`running`, `incomplete`) shows in
/// place of the run's state, and `unfinished` lists the tasks that started and did not end.
pub fn render_unfinished(record: &RunRecord, state: &str, unfinished: &[String]) -> String {
    render_with(record, Some((state, unfinished)))
}

fn render_with(record: &RunRecord, unfinished: Option<(&str, &[String])>) -> String {
    let templates = templates::templates(record);
    let clock = tasks::Clock::of(record);
    let mut out = String::with_capacity(4096 + record.tasks.len() * 600);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
    push_esc(&mut out, &format!("{} · {} · wasmpipe", record.pipeline, record.run_id));
    out.push_str("</title>\n<style>\n");
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n<body>\n");
    summary::header(&mut out, record, &clock, unfinished.map(|(state, _)| state));
    if let Some((state, tasks)) = unfinished {
        out.push_str("<section id=\"unfinished\"><p class=\"note\">This run has no record: it ");
        out.push_str(if state == "running" { "is still running" } else { "was stopped before its end" });
        out.push_str(". The page shows what its journal says: the tasks that ended.");
        if !tasks.is_empty() {
            out.push_str(" Started and not ended: ");
            let names: Vec<String> = tasks.iter().map(|t| format!("<code>{}</code>", html::esc(t))).collect();
            out.push_str(&names.join(", "));
            out.push('.');
        }
        out.push_str("</p></section>\n");
    }
    summary::failures(&mut out, record);
    summary::exit_handlers(&mut out, record);
    summary::outputs(&mut out, record);
    out.push_str("<section id=\"graph\">\n<h2>Graph</h2>\n");
    match dag::svg(&templates) {
        Ok(svg) => {
            out.push_str("<div class=\"dag\">");
            out.push_str(&svg);
            out.push_str("</div>\n");
        }
        Err(why) => {
            out.push_str("<p class=\"note\">");
            push_esc(&mut out, &why);
            out.push_str("</p>\n");
        }
    }
    out.push_str("</section>\n");
    tasks::timeline(&mut out, record, &templates, &clock);
    out.push_str("<script>");
    out.push_str(SCRIPT);
    out.push_str("</script>\n<footer>wasmpipe ");
    push_esc(&mut out, env!("CARGO_PKG_VERSION"));
    out.push_str(" · the run's record is <code>record.json</code> in its run directory</footer>\n</body>\n</html>\n");
    out
}

/// A task state as the record spells it.
pub(crate) fn state_word(state: TaskState) -> &'static str {
    match state {
        TaskState::Succeeded => "succeeded",
        TaskState::Failed => "failed",
        TaskState::Skipped => "skipped",
        TaskState::Cancelled => "cancelled",
    }
}

/// A state or kind as the record spells it (serde's name).
pub(crate) fn snake(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}
