//! The run record: what happened in a run, task by task, written to the run directory as
//! `record.json` and printed by `wasmpipe run --output json`.
//!
//! These types are the source of `schemas/run-record.schema.json`; the field names are a
//! stable contract (`docs/semantics.md`, "Contracts").
//!
//! May use: `model` only (the states, failure kinds and skips it shares with the scheduler and
//! the executor live in `model::outcome`, re-exported here).
//!
//! ```no_run
//! use wasmpipe::record::{RunRecord, TaskState};
//!
//! let text = std::fs::read_to_string(".wasmpipe/runs/RUN_ID/record.json")?;
//! let record: RunRecord = serde_json::from_str(&text)?;
//! for task in record.tasks.iter().filter(|t| t.state == TaskState::Failed) {
//!     let failure = task.failure.as_ref().expect("a failed task has its failure");
//!     println!("{}: {:?} {}", task.id, failure.kind, failure.message);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::Write;
use std::path::Path;

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::model::outcome::{
    Failure, FailureKind, FinalStatusRecord, LogLine, RunState, Skip, SkipReason, TaskFailureRecord, TaskState,
};
pub(crate) use crate::model::time::{now, rfc3339_micros};

/// One attempt at running a task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Attempt {
    /// When it started (RFC 3339, microseconds).
    pub started_at: String,
    /// When it ended (RFC 3339, microseconds).
    pub finished_at: String,
    /// Its failure, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

/// One task instance of the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskRecord {
    /// A unique path: the names of the groups it is in, then its name (`cleanup/train`).
    pub id: String,
    /// The task's name in the pipeline.
    pub task: String,
    /// The component it runs.
    pub component: String,
    /// Its final state.
    pub state: TaskState,
    /// Whether it is the exit task of a group.
    pub exit_handler: bool,
    /// Whether its outputs came from the cache.
    pub cached: bool,
    /// Its attempts, in order (empty for a skipped task).
    pub attempts: Vec<Attempt>,
    /// Its outputs, typed (only for a succeeded task).
    pub outputs: IndexMap<String, Value>,
    /// How it failed (failed or cancelled tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    /// Why it was skipped (skipped tasks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<Skip>,
    /// For an exit task that ran: the final status it received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_status: Option<FinalStatusRecord>,
    /// What it logged and printed, across attempts.
    pub logs: Vec<LogLine>,
}

impl TaskRecord {
    /// Marks the task failed with `failure` after the fact (wasmpipe failed while it recorded
    /// the task's end): no outputs, the failure, the attempts as they ran.
    pub(crate) fn fail(&mut self, failure: Failure) {
        self.state = TaskState::Failed;
        self.outputs.clear();
        self.failure = Some(failure);
    }
}

/// How a run was cancelled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CancelRecord {
    /// What cancelled it: `SIGINT`, `SIGTERM`, `deadline` or `library`.
    pub signal: String,
    /// The grace period given to exit handlers, in milliseconds.
    pub grace_ms: u64,
}

/// What loading the run's components cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CompileStats {
    /// Components compiled for this run (0 on a second run with a warm cache).
    pub compiled: usize,
    /// Components loaded from the compiled-component cache.
    pub from_cache: usize,
}

/// The record of one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "wasmpipe run record", extend("$id" = "urn:wasmpipe:schema:run-record:1"))]
pub struct RunRecord {
    /// The run's id.
    pub run_id: String,
    /// The pipeline's name.
    pub pipeline: String,
    /// The pipeline file, when the run came from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_file: Option<String>,
    /// How the run ended.
    pub state: RunState,
    /// The parameters it ran with, after defaults and `-p` overrides.
    pub params: IndexMap<String, Value>,
    /// The pipeline's outputs (those whose producer succeeded).
    pub outputs: IndexMap<String, Value>,
    /// The pipeline's outputs that have no value, each with why: its producer did not succeed
    /// (failed, or skipped: a branch not taken) or a parameter with `default: null` has none.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub missing_outputs: IndexMap<String, String>,
    /// When it started (RFC 3339, microseconds).
    pub started_at: String,
    /// When it ended (RFC 3339, microseconds).
    pub finished_at: String,
    /// Whether exit handlers were cut short (grace expired or a second signal).
    pub aborted: bool,
    /// The cancellation, or null.
    pub cancel: Option<CancelRecord>,
    /// How the run's components were loaded.
    pub compile: CompileStats,
    /// One entry per task instance, in declaration order (a group's exit task after its body).
    pub tasks: Vec<TaskRecord>,
    /// One entry per task of the pipeline as written (a loop's task once, as `fan/*/train`),
    /// with what it reads or waits for: the run's graph, for tools that draw it.
    #[serde(default)]
    pub templates: Vec<TemplateRecord>,
}

/// A task of the pipeline as written, and its dependencies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TemplateRecord {
    /// Its id, with `*` for a loop's iteration (`fan/*/train`); instances in `tasks` replace the
    /// `*` with the iteration's index.
    pub id: String,
    /// The component it runs.
    pub component: String,
    /// Whether it is the exit task of a group (its group is its id without the last part).
    pub exit_handler: bool,
    /// The ids of the task templates and groups it reads outputs of or waits for (`after`),
    /// itself or through the groups it is in (a loop's items, a condition, a sub-pipeline's
    /// inputs).
    pub depends_on: Vec<String>,
}

impl RunRecord {
    /// The task record with this id.
    pub fn task(&self, id: &str) -> Option<&TaskRecord> {
        self.tasks.iter().find(|t| t.id == id)
    }

    /// Writes the record to `RUN_DIR/<run_id>/record.json` (`run_dir` being `RUN_DIR`),
    /// atomically; returns the file's path. [`Runner::run`](crate::run::Runner::run) does this
    /// itself unless `RunOptions::write_record` is false: a caller that must know whether the
    /// record was written (the CLI exits 3 when it was not) writes it with this instead.
    pub fn write(&self, run_dir: &Path) -> std::io::Result<std::path::PathBuf> {
        let dir = run_dir.join(&self.run_id);
        self.write_atomically(&dir, false)?;
        Ok(dir.join("record.json"))
    }

    /// Writes the record to `dir/record.json` atomically (a temporary file, then a rename), so a
    /// reader never sees half a record; with `sync`, the file is synced before the rename and
    /// the directory after it, so the record survives a power cut once this returns.
    pub(crate) fn write_atomically(&self, dir: &Path, sync: bool) -> std::io::Result<()> {
        write_json_atomically(dir, sync, self)
    }
}

/// Writes `record` (a [`RunRecord`], or a view that serializes as one) to `dir/record.json`
/// atomically, pretty-printed; with `sync`, synced before the rename and the directory after.
pub(crate) fn write_json_atomically(dir: &Path, sync: bool, record: &impl Serialize) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(".record.json.tmp");
    // Streamed to the file: a 10,000-task record is megabytes, not worth building in memory.
    let mut file = std::io::BufWriter::with_capacity(1 << 16, std::fs::File::create(&tmp)?);
    serde_json::to_writer_pretty(&mut file, record).map_err(std::io::Error::other)?;
    file.write_all(b"\n")?;
    let file = file.into_inner().map_err(|e| e.into_error())?;
    if sync {
        file.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join("record.json"))?;
    if sync {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// The JSON Schema of run records, as shipped in `schemas/run-record.schema.json`.
pub fn schema() -> Value {
    serde_json::to_value(schemars::schema_for!(RunRecord)).expect("a schema serialises")
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    /// Ensures the hand-written RFC 3339 timestamps match humantime's over leap years, month
    /// and year ends, and the microseconds.
    #[test]
    fn timestamps_match_humantime() {
        let mut t = 0u64;
        // Steps of about 1.3 days plus some microseconds from 1970 to 2100.
        while t < 4_102_444_800 {
            let time = UNIX_EPOCH + Duration::from_micros(t * 1_000_000 + t % 999_983);
            assert_eq!(super::rfc3339_micros(time), humantime::format_rfc3339_micros(time).to_string());
            t += 113_017;
        }
        for text in ["2000-02-29T23:59:59.999999Z", "2024-02-29T00:00:00.000001Z", "2100-03-01T12:34:56.000000Z"] {
            let time = humantime::parse_rfc3339(text).unwrap();
            assert_eq!(super::rfc3339_micros(time), text);
        }
        let now = SystemTime::now();
        assert_eq!(super::rfc3339_micros(now), humantime::format_rfc3339_micros(now).to_string());
    }
}
