//! Where a run keeps the records of its finished tasks until its record is written: in memory,
//! or, for a run that writes its record to disk and has a journal, once the records kept in
//! memory reach a budget ([`crate::run::RunOptions::records_in_memory`]), only as the place of
//! the task's `task_ended` line in the journal, so that the run's memory does not grow with its
//! history (a task's record takes 0.5 to a few KB; its place, 8 bytes). Records under the
//! budget are not read back: a run of ten thousand tasks writes its record as fast as one that
//! kept them all. Either way each task keeps a [`TaskBrief`], what the end-of-run summary sorts
//! by.

use crate::plan::{Idx, IdxVec, TaskInstIdx};
use crate::record::{RunState, TaskRecord, TaskState};

/// What the summary of a run needs to know of a task without reading its record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskBrief {
    /// Its final state.
    pub state: TaskState,
    /// Whether it is the exit task of a group.
    pub exit_handler: bool,
    /// For an exit task that ran: the state of the body it received in its final status.
    pub body: Option<RunState>,
}

impl TaskBrief {
    /// The brief of a task's record.
    pub fn of(task: &TaskRecord) -> TaskBrief {
        TaskBrief {
            state: task.state,
            exit_handler: task.exit_handler,
            body: task.final_status.as_ref().map(|s| s.state),
        }
    }
}

/// Where a finished task's record is.
#[derive(Debug, Default)]
pub(super) enum Kept {
    /// Nowhere: the task has not ended, or never ran (its record comes from the scheduler).
    #[default]
    Nowhere,
    /// In memory.
    Memory(Box<TaskRecord>),
    /// In the journal, on the line that starts at this byte.
    Journal(u64),
}

/// The records of a run's finished tasks, by task instance.
pub(super) struct TaskStore {
    kept: IdxVec<TaskInstIdx, (Kept, Option<TaskBrief>)>,
    /// How many bytes of records (as their journal lines measure them) may still be kept in
    /// memory; past that, a record whose journal line is known is dropped from memory.
    budget: usize,
}

impl TaskStore {
    /// An empty store that keeps in memory up to `budget` bytes of records that reached the
    /// journal (`usize::MAX`: all of them).
    pub(super) fn new(budget: usize) -> TaskStore {
        TaskStore { kept: IdxVec::new(), budget }
    }

    /// Keeps the record of task `t`, whose `task_ended` line, when it is known, starts at byte
    /// `line.0` of the journal and is `line.1` bytes long.
    pub(super) fn keep(&mut self, t: TaskInstIdx, record: Box<TaskRecord>, line: Option<(u64, usize)>) {
        let brief = TaskBrief::of(&record);
        let kept = match line {
            Some((_, len)) if len <= self.budget => {
                self.budget -= len;
                Kept::Memory(record)
            }
            Some((at, _)) => {
                // Once over, for good: a run's later records are not kept for a smaller one.
                self.budget = 0;
                Kept::Journal(at)
            }
            None => Kept::Memory(record),
        };
        *self.slot(t) = (kept, Some(brief));
    }

    /// Keeps where the record of task `t` is in the journal, with its brief.
    pub(super) fn keep_journaled(&mut self, t: TaskInstIdx, at: u64, brief: TaskBrief) {
        *self.slot(t) = (Kept::Journal(at), Some(brief));
    }

    /// The place of task `t`, made if the store is not that long yet.
    fn slot(&mut self, t: TaskInstIdx) -> &mut (Kept, Option<TaskBrief>) {
        if self.kept.len() <= t.index() {
            self.kept.resize_with(t.index() + 1, Default::default);
        }
        &mut self.kept[t]
    }

    /// Where the record of task `t` is, and its brief (None: the task never ran).
    pub(super) fn get(&self, t: TaskInstIdx) -> (&Kept, Option<TaskBrief>) {
        self.kept.get(t).map_or((&Kept::Nowhere, None), |(kept, brief)| (kept, *brief))
    }

    /// Takes the record of task `t` if it is in memory.
    pub(super) fn take(&mut self, t: TaskInstIdx) -> Option<Box<TaskRecord>> {
        let kept = &mut self.kept.get_mut(t)?.0;
        if !matches!(kept, Kept::Memory(_)) {
            return None;
        }
        match std::mem::take(kept) {
            Kept::Memory(record) => Some(record),
            _ => None,
        }
    }
}
