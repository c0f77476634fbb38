//! Task records: of a task that ran (its attempts, outputs or failure, logs, final status) and
//! of one that never ran (skipped, or failed before it could start).

use indexmap::IndexMap;

use super::job::TaskResult;
use super::task_store::TaskBrief;
use crate::plan::scheduler::{Scheduler, TaskStatus};
use crate::plan::{PlanTask, TaskInstIdx};
use crate::record::{Attempt, FailureKind, FinalStatusRecord, LogLine, Skip, SkipReason, TaskRecord, TaskState};

/// The record of a task that ran.
pub(super) fn task_record(
    id: &str,
    task: &PlanTask,
    attempts: Vec<Attempt>,
    result: &TaskResult,
    logs: Vec<LogLine>,
    final_status: Option<FinalStatusRecord>,
) -> TaskRecord {
    let (state, outputs, failure) = match result {
        Ok(values) => (TaskState::Succeeded, values.clone(), None),
        Err(f) if f.kind == FailureKind::Cancelled => (TaskState::Cancelled, IndexMap::new(), Some(f.clone())),
        Err(f) => (TaskState::Failed, IndexMap::new(), Some(f.clone())),
    };
    TaskRecord {
        id: id.to_string(),
        task: task.name.clone(),
        component: task.component.clone(),
        state,
        exit_handler: task.is_exit,
        cached: false,
        attempts,
        outputs,
        failure,
        skip: None,
        final_status,
        logs,
    }
}

/// The record of a task that never ran: skipped, or failed before it could start (a loop
/// whose items could not be had), or left waiting by a scheduler that failed for good.
pub(super) fn unrun_record(scheduler: &Scheduler, t: TaskInstIdx) -> TaskRecord {
    let task = scheduler.spec(t);
    let (failure, skip) = match scheduler.status(t) {
        TaskStatus::Failed(f) => (Some((**f).clone()), None),
        TaskStatus::Skipped(skip) => (None, Some((**skip).clone())),
        // Left waiting: the scheduler failed for good (a bug; see `pool::state`) and the run
        // ended with what it had.
        _ => (None, Some(Skip { reason: SkipReason::Aborted, cause: "internal error".into() })),
    };
    TaskRecord {
        id: scheduler.tree().tasks[t].id.clone(),
        task: task.name.clone(),
        component: task.component.clone(),
        state: unrun_brief(scheduler, t).state,
        exit_handler: task.is_exit,
        cached: false,
        attempts: Vec::new(),
        outputs: IndexMap::new(),
        failure,
        skip,
        final_status: None,
        logs: Vec::<LogLine>::new(),
    }
}

/// The brief of a task that never ran (see [`unrun_record`]), without making its record.
pub(super) fn unrun_brief(scheduler: &Scheduler, t: TaskInstIdx) -> TaskBrief {
    let state = match scheduler.status(t) {
        TaskStatus::Failed(_) => TaskState::Failed,
        _ => TaskState::Skipped,
    };
    TaskBrief { state, exit_handler: scheduler.spec(t).is_exit, body: None }
}
