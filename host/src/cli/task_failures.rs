//! KFP: the failures of a run's tasks, left under the pipeline root so that an exit task's
//! final status lists every failed task of its body (kind, message, trap code), as `wasmpipe
//! run` gives it, and not only the one error KFP's `PipelineTaskFinalStatus` carries.
//!
//! A failed task writes `ROOT/wasmpipe-failures/RUN_ID/INSTANCE.json` (its id, the DAGs that
//! hold it, whether it is an exit task, its failure); a task that succeeds removes its own
//! (an earlier attempt's). An exit task reads those whose DAGs include its body's. The root is
//! where KFP's launcher has it on the container's disk (`/gcs/...` for `gs://`); where it is
//! not writable (a KFP cluster whose root is in object storage without a mount), nothing is
//! left, and the exit task gets KFP's one error.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use wasmpipe::model::outcome::{Failure, TaskFailureRecord};

use super::args::TaskRunArgs;

/// The directory of one run's failures, and this task's file there.
pub(super) struct FailureBoard {
    dir: PathBuf,
    instance: String,
}

/// What a failed task leaves.
#[derive(Serialize, Deserialize)]
struct Left {
    task: String,
    groups: Vec<String>,
    exit_handler: bool,
    failure: Failure,
}

impl FailureBoard {
    /// The board of run `run_id` under `--pipeline-root`, for execution `--instance`; None
    /// without them.
    pub(super) fn new(args: &TaskRunArgs, run_id: &str, local_path: fn(&str) -> PathBuf) -> Option<FailureBoard> {
        let root = args.pipeline_root.as_deref().filter(|r| !r.is_empty())?;
        let instance = args.instance.clone().filter(|i| !i.is_empty() && super::task_run::plain(i))?;
        let run = if super::task_run::plain(run_id) { run_id } else { "run" };
        Some(FailureBoard { dir: local_path(root).join("wasmpipe-failures").join(run), instance })
    }

    fn file(&self) -> PathBuf {
        self.dir.join(format!("{}.json", self.instance))
    }

    /// Leaves `failure` of task `task` (in DAGs `groups`); a note on stderr when it cannot.
    pub(super) fn leave(&self, task: &str, groups: &[String], exit_handler: bool, failure: &Failure) {
        let left = Left { task: task.into(), groups: groups.to_vec(), exit_handler, failure: failure.clone() };
        let written = std::fs::create_dir_all(&self.dir)
            .and_then(|()| std::fs::write(self.file(), serde_json::to_vec(&left).unwrap_or_default()));
        if let Err(e) = written {
            eprintln!(
                "wasmpipe: cannot leave the failure under the pipeline root ({}: {e}); exit tasks get KFP's one error",
                self.dir.display()
            );
        }
    }

    /// Removes what an earlier attempt of this task left.
    pub(super) fn clear(&self) {
        let _ = std::fs::remove_file(self.file());
    }

    /// The failures left by tasks inside DAG `body`, by task id; empty when none can be read.
    pub(super) fn collect(&self, body: &str) -> Vec<TaskFailureRecord> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return Vec::new() };
        let mut failures: Vec<TaskFailureRecord> = entries
            .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
            .filter_map(|bytes| serde_json::from_slice::<Left>(&bytes).ok())
            .filter(|left| left.groups.iter().any(|g| g == body))
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
