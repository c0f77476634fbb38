//! A run that has ended ([`FinishedRun`]): its record's fields, and its tasks' records read one
//! at a time from where the run kept them (memory, or its journal), so that the record of a
//! million tasks is written and summarised without ever being whole in memory.
//!
//! A task record kept in the journal is copied into `record.json` from its `task_ended` line:
//! the line's compact JSON is indented as `serde_json`'s pretty printer would have written it
//! ([`indent`]), never parsed into a record and written again.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use serde::Serialize;
use serde::ser::{Error as _, SerializeSeq};
use serde_json::value::RawValue;

use super::records::{unrun_brief, unrun_record};
use super::task_store::{Kept, TaskBrief, TaskStore};
use crate::journal::Lines;
use crate::plan::TaskInstIdx;
use crate::plan::scheduler::Scheduler;
use crate::record::{RunRecord, TaskRecord};

/// A run that has ended, as [`Runner::run_and_write`](super::Runner::run_and_write) returns it:
/// the record's fields, and its tasks one at a time.
pub struct FinishedRun {
    /// The record, without its tasks.
    head: RunRecord,
    /// The task instances in the record's order.
    order: Vec<TaskInstIdx>,
    store: TaskStore,
    scheduler: Scheduler,
    /// The journal's lines, for the records kept there.
    lines: Option<Mutex<Lines>>,
}

impl FinishedRun {
    pub(super) fn new(head: RunRecord, store: TaskStore, scheduler: Scheduler, lines: Option<Lines>) -> FinishedRun {
        let order = scheduler.tree().tasks_within(crate::plan::GroupInstIdx::ROOT);
        FinishedRun { head, order, store, scheduler, lines: lines.map(Mutex::new) }
    }

    /// Every field of the run's record but `tasks`, which is empty here: read the tasks with
    /// [`FinishedRun::task`], or all of them with [`FinishedRun::into_record`].
    pub fn record(&self) -> &RunRecord {
        &self.head
    }

    /// How many tasks the record lists.
    pub fn task_count(&self) -> usize {
        self.order.len()
    }

    /// What the summary needs of the `i`-th task of the record, without reading its record.
    pub fn brief(&self, i: usize) -> TaskBrief {
        let t = self.order[i];
        self.store.get(t).1.unwrap_or_else(|| unrun_brief(&self.scheduler, t))
    }

    /// The record of the `i`-th task (in the record's order); an error when the journal that
    /// holds it cannot be read back.
    pub fn task(&self, i: usize) -> std::io::Result<TaskRecord> {
        let t = self.order[i];
        match self.store.get(t).0 {
            Kept::Nowhere => Ok(unrun_record(&self.scheduler, t)),
            Kept::Memory(record) => Ok((**record).clone()),
            Kept::Journal(_) => {
                let json = self.json_in_journal(t)?;
                crate::journal::decode_deep(&json).ok_or_else(|| unreadable(&self.scheduler, t))
            }
        }
    }

    /// The whole record. A task whose record cannot be read back from the journal is recorded
    /// as failed, with kind `internal` and the reason.
    pub fn into_record(mut self) -> RunRecord {
        let mut tasks = Vec::with_capacity(self.order.len());
        for i in 0..self.order.len() {
            let t = self.order[i];
            let task = match self.store.take(t) {
                Some(record) => *record,
                None => self.task(i).unwrap_or_else(|e| {
                    let mut record = unrun_record(&self.scheduler, t);
                    record
                        .fail(crate::model::outcome::Failure::new(crate::record::FailureKind::Internal, e.to_string()));
                    record
                }),
            };
            tasks.push(task);
        }
        self.head.tasks = tasks;
        self.head
    }

    /// Writes the record as pretty-printed JSON and a newline, as `serde_json` writes a
    /// [`RunRecord`].
    pub fn write_json(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
        serde_json::to_writer_pretty(&mut out, &self.view()).map_err(std::io::Error::other)?;
        out.write_all(b"\n")?;
        out.flush()
    }

    /// Writes the record to `dir/record.json` atomically (see [`RunRecord::write`]).
    pub(super) fn write_atomically(&self, dir: &Path, sync: bool) -> std::io::Result<()> {
        crate::record::write_json_atomically(dir, sync, &self.view())
    }

    /// The JSON of task `t`'s record in the journal.
    fn json_in_journal(&self, t: TaskInstIdx) -> std::io::Result<String> {
        let Kept::Journal(at) = *self.store.get(t).0 else { unreachable!("only for records in the journal") };
        let lines = self.lines.as_ref().ok_or_else(|| unreadable(&self.scheduler, t))?;
        let id = &self.scheduler.tree().tasks[t].id;
        lines.lock().unwrap_or_else(std::sync::PoisonError::into_inner).task_at(at, id)
    }

    /// The record as `serde_json` writes it, its tasks read as they are written.
    fn view(&self) -> View<'_> {
        let h = &self.head;
        View {
            run_id: &h.run_id,
            pipeline: &h.pipeline,
            pipeline_file: &h.pipeline_file,
            state: h.state,
            params: &h.params,
            outputs: &h.outputs,
            missing_outputs: &h.missing_outputs,
            started_at: &h.started_at,
            finished_at: &h.finished_at,
            aborted: h.aborted,
            cancel: &h.cancel,
            compile: h.compile,
            tasks: Tasks(self),
            templates: &h.templates,
        }
    }
}

/// Why the record of task `t` cannot be had from the journal.
fn unreadable(scheduler: &Scheduler, t: TaskInstIdx) -> std::io::Error {
    std::io::Error::other(format!(
        "the record of task `{}` cannot be read back from the run's journal",
        scheduler.tree().tasks[t].id
    ))
}

/// [`RunRecord`]'s fields in its order, borrowed; `tasks` read one at a time. A test in
/// `tests/runs.rs` checks that both write the same bytes.
#[derive(Serialize)]
struct View<'a> {
    run_id: &'a str,
    pipeline: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pipeline_file: &'a Option<String>,
    state: crate::record::RunState,
    params: &'a indexmap::IndexMap<String, serde_json::Value>,
    outputs: &'a indexmap::IndexMap<String, serde_json::Value>,
    #[serde(skip_serializing_if = "indexmap::IndexMap::is_empty")]
    missing_outputs: &'a indexmap::IndexMap<String, String>,
    started_at: &'a str,
    finished_at: &'a str,
    aborted: bool,
    cancel: &'a Option<crate::record::CancelRecord>,
    compile: crate::record::CompileStats,
    tasks: Tasks<'a>,
    templates: &'a [crate::record::TemplateRecord],
}

/// The tasks of a finished run, serialized as they are read.
struct Tasks<'a>(&'a FinishedRun);

impl Serialize for Tasks<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let run = self.0;
        let mut seq = serializer.serialize_seq(Some(run.order.len()))?;
        for &t in &run.order {
            match run.store.get(t).0 {
                Kept::Nowhere => seq.serialize_element(&unrun_record(&run.scheduler, t))?,
                Kept::Memory(record) => seq.serialize_element(record)?,
                Kept::Journal(_) => {
                    let json = run.json_in_journal(t).map_err(S::Error::custom)?;
                    // Elements of the record's `tasks` stand two levels deep.
                    let raw = RawValue::from_string(indent(&json, 2)).map_err(S::Error::custom)?;
                    seq.serialize_element(&raw)?;
                }
            }
        }
        seq.end()
    }
}

/// Compact JSON (no whitespace outside strings, as `serde_json::to_string` writes it) indented
/// as `serde_json::to_string_pretty` writes the same value `depth` levels deep: two spaces a
/// level, `": "` after keys, empty arrays and objects as `[]` and `{}`.
pub(crate) fn indent(compact: &str, depth: usize) -> String {
    let bytes = compact.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 2);
    let (mut depth, mut in_string, mut escaped) = (depth, false, false);
    let newline = |out: &mut Vec<u8>, depth: usize| {
        out.push(b'\n');
        out.resize(out.len() + 2 * depth, b' ');
    };
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        if in_string {
            out.push(b);
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                out.push(b);
            }
            b'{' | b'[' if matches!(bytes.get(i), Some(b'}' | b']')) => {
                out.extend_from_slice(&[b, bytes[i]]);
                i += 1;
            }
            b'{' | b'[' => {
                out.push(b);
                depth += 1;
                newline(&mut out, depth);
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(b);
            }
            b',' => {
                out.push(b);
                newline(&mut out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            _ => out.push(b),
        }
    }
    // Only ASCII was added, at ASCII bytes: still UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    /// Ensures the indentation matches serde_json's pretty printer, at the top and nested,
    /// with empty containers, strings holding brackets, commas, colons and escapes, and
    /// non-ASCII text.
    #[test]
    fn indenting_matches_serde_json() {
        let values = [
            json!({"id": "a/0/b", "outputs": {}, "logs": [], "n": [1, 2.5, -3e-7], "s": "x,{y}:[z] \"q\" \\ é"}),
            json!([[], {}, [[{}]], {"a": {"b": []}}]),
            json!("plain"),
            json!(null),
            json!({"deep": [[[[{"k": [true, false, null]}]]]]}),
        ];
        for value in values {
            let compact = serde_json::to_string(&value).unwrap();
            assert_eq!(super::indent(&compact, 0), serde_json::to_string_pretty(&value).unwrap());
            // Two levels deep, as an element of the record's tasks.
            let wrapped = json!({"tasks": [value]});
            let pretty = serde_json::to_string_pretty(&wrapped).unwrap();
            let inner = super::indent(&compact, 2);
            assert!(pretty.contains(&format!("\n    {inner}\n  ]")), "{pretty}\n---\n{inner}");
        }
    }
}
