//! KFP: what a run's tasks leave under the pipeline root, so that the run keeps wasmpipe's
//! semantics where KFP gives a container less than `wasmpipe run` gives a task:
//!
//! - the failures: an exit task's final status lists every failed task of its body (kind,
//!   message, trap code), not only the one error KFP's `PipelineTaskFinalStatus` carries;
//! - the attempts: a retried task's component sees its attempt number (KFP gives none).
//!
//! Under `ROOT/wasmpipe/RUN_ID/`: `failures/KEY.json` (the task's id, the DAGs that hold it,
//! whether it is an exit task, its failure) for a task whose last attempt failed, removed when
//! an attempt succeeds; `attempts/KEY` the attempts so far. KEY names one task instance
//! across its retries: a hash of its wasmpipe id, its executor input's inputs and output file
//! (each instance's own on kfp.local) and, on KFP's backend (one output file for all), its
//! execution (`{{$.pipeline_task_uuid}}`). In an exit handler's body inside a loop, tasks are
//! given the loops' items, which their failures keep: the exit task of an iteration lists only
//! that iteration's (KFP gives a container no iteration number).
//! An exit task reads the failures whose DAGs include its body's. The root is where KFP's
//! launcher has it on the container's disk (`/gcs/...` for `gs://`); where it is not writable
//! (a KFP cluster whose root is in object storage without a mount), nothing is left: exit
//! tasks get KFP's one error, and every attempt is attempt 1.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use wasmpipe::model::outcome::{Failure, TaskFailureRecord};

use super::args::TaskRunArgs;

/// The run's directory under the pipeline root, and this task instance's key there.
pub(super) struct FailureBoard {
    dir: PathBuf,
    key: String,
}

/// What a failed task leaves.
#[derive(Serialize, Deserialize)]
struct Left {
    task: String,
    groups: Vec<String>,
    exit_handler: bool,
    failure: Failure,
    /// The items of the loops around it, by channel (in an exit handler's body inside a loop).
    #[serde(default)]
    items: serde_json::Map<String, Value>,
}

/// The output file KFP's launcher gives every task on KFP's backend (kfp.local gives each
/// task instance its own).
const LAUNCHER_OUTPUT_FILE: &str = "/tmp/kfp_outputs/output_metadata.json";

impl FailureBoard {
    /// The board of run `run_id` under `--pipeline-root`, for the instance of task `task_id`
    /// that KFP's executor input `input` describes; None without a root.
    pub(super) fn new(
        args: &TaskRunArgs,
        run_id: &str,
        task_id: &str,
        input: &Value,
        local_path: fn(&str) -> PathBuf,
    ) -> Option<FailureBoard> {
        let root = args.pipeline_root.as_deref().filter(|r| !r.is_empty())?;
        let run = if super::task_run::plain(run_id) { run_id } else { "run" };
        // On KFP's backend every task has the same output file: its execution tells instances
        // apart there (kfp.local gives each attempt an execution of its own, each instance an
        // output file).
        let output_file = &input["outputs"]["outputFile"];
        let execution = match output_file.as_str() {
            Some(LAUNCHER_OUTPUT_FILE) => args.instance.as_deref().unwrap_or_default(),
            _ => "",
        };
        let instance = serde_json::json!([task_id, input["inputs"], output_file, execution]);
        let key = blake3::hash(instance.to_string().as_bytes()).to_hex()[..32].to_string();
        Some(FailureBoard { dir: local_path(root).join("wasmpipe").join(run), key })
    }

    /// This instance's attempt: one more than the attempts counted so far (1 when none can be
    /// counted), counted now.
    pub(super) fn attempt(&self) -> u32 {
        let file = self.dir.join("attempts").join(&self.key);
        let before: u32 = std::fs::read_to_string(&file).ok().and_then(|t| t.trim().parse().ok()).unwrap_or(0);
        let now = before.saturating_add(1);
        let counted =
            std::fs::create_dir_all(self.dir.join("attempts")).and_then(|()| std::fs::write(&file, now.to_string()));
        if counted.is_err() { 1 } else { now }
    }

    fn failure_file(&self) -> PathBuf {
        self.dir.join("failures").join(format!("{}.json", self.key))
    }

    /// Leaves `failure` of task `task` (in DAGs `groups`, in the iteration of the loops
    /// around it that `items` give); a note on stderr when it cannot.
    pub(super) fn leave(
        &self,
        task: &str,
        groups: &[String],
        items: &serde_json::Map<String, Value>,
        exit_handler: bool,
        failure: &Failure,
    ) {
        let left = Left {
            task: task.into(),
            groups: groups.to_vec(),
            exit_handler,
            failure: failure.clone(),
            items: items.clone(),
        };
        let written = std::fs::create_dir_all(self.dir.join("failures"))
            .and_then(|()| std::fs::write(self.failure_file(), serde_json::to_vec(&left).unwrap_or_default()));
        if let Err(e) = written {
            eprintln!(
                "wasmpipe: cannot leave the failure under the pipeline root ({}: {e}); exit tasks get KFP's one error",
                self.dir.display()
            );
        }
    }

    /// Removes what an earlier attempt of this instance left.
    pub(super) fn clear(&self) {
        let _ = std::fs::remove_file(self.failure_file());
    }

    /// The failures left by tasks inside DAG `body` in the iteration `items` give (those the
    /// exit task has: its loops'), by task id; empty when none can be read.
    pub(super) fn collect(&self, body: &str, items: &serde_json::Map<String, Value>) -> Vec<TaskFailureRecord> {
        let Ok(entries) = std::fs::read_dir(self.dir.join("failures")) else { return Vec::new() };
        let mut failures: Vec<TaskFailureRecord> = entries
            .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
            .filter_map(|bytes| serde_json::from_slice::<Left>(&bytes).ok())
            .filter(|left| left.groups.iter().any(|g| g == body))
            .filter(|left| items.iter().all(|(channel, value)| left.items.get(channel) == Some(value)))
            .map(|left| TaskFailureRecord {
                task: left.task,
                kind: left.failure.kind,
                message: left.failure.message,
                trap_code: left.failure.trap_code,
                cached: false,
                exit_handler: left.exit_handler,
            })
            .collect();
        failures.sort_by(|a, b| a.task.cmp(&b.task));
        failures
    }
}
