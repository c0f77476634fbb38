//! How groups end and what exit tasks receive: a group's state from its body and its exit
//! task, skips of groups never entered, a loop whose items cannot be had, and the final status
//! (`docs/semantics.md`, rules 5 and 8).

use super::{GroupStatus, Interruption, Scheduler, TaskStatus};
use crate::model::outcome::{Failure, FinalStatusRecord, RunState, Skip, SkipReason, TaskFailureRecord};
use crate::plan::{Child, GroupInstIdx, TaskInstIdx};

impl Scheduler {
    /// Records how group `g` ended, now that everything in it is terminal; a failed group stops
    /// its parent when the parent fails fast (for a loop: no new iteration starts).
    pub(super) fn finish_group(&mut self, g: GroupInstIdx) {
        let state = self.group_state(g);
        if self.groups[g] != GroupStatus::Finished(state) {
            if self.groups[g] == GroupStatus::Running
                && let Some(parent) = self.tree.groups[g].parent
                && self.template(parent).looping.is_some()
            {
                self.active[parent] -= 1;
            }
            self.groups[g] = GroupStatus::Finished(state);
            self.changed = true;
        }
        if state == RunState::Failed
            && let Some(parent) = self.tree.groups[g].parent
        {
            self.stop(parent, self.tree.groups[g].id.clone());
        }
    }

    /// A group whose value cannot be had when it is reached (a loop's items, a branch's
    /// condition): its tasks fail with `failure` (kind `input`, or `output_limit` for too many
    /// items; `what` and the group's id name the value in the message), the exit tasks inside
    /// it are never entered, its inner groups fail.
    pub(super) fn fail_unentered(&mut self, h: GroupInstIdx, what: &str, failure: Failure) {
        let id = self.tree.groups[h].id.clone();
        let failure = Failure { message: format!("{what} `{id}`: {}", failure.message), ..failure };
        for t in self.tree.tasks_within(h) {
            self.tasks[t] = if self.spec(t).is_exit {
                TaskStatus::Skipped(Box::new(Skip { reason: SkipReason::NotEntered, cause: id.clone() }))
            } else {
                TaskStatus::Failed(Box::new(failure.clone()))
            };
        }
        for k in self.tree.groups_within(h).into_iter().skip(1) {
            self.groups[k] = GroupStatus::Finished(RunState::Failed);
        }
    }

    /// Skips a group never entered: every task in it, exit tasks included, gets its reason.
    pub(super) fn skip_group(&mut self, h: GroupInstIdx, skip: Skip) {
        self.changed = true;
        for t in self.tree.tasks_within(h) {
            if self.tasks[t] == TaskStatus::Waiting {
                self.tasks[t] = TaskStatus::Skipped(Box::new(skip.clone()));
            }
        }
        for g in self.tree.groups_within(h) {
            self.groups[g] = GroupStatus::Skipped(skip.clone());
        }
    }

    /// The state of a group's body: failed if a child task failed or a child group failed.
    pub(super) fn body_state(&self, g: GroupInstIdx) -> RunState {
        if self.interrupted[g] {
            return match self.interruption {
                Some((Interruption::Deadline | Interruption::Internal, _)) => RunState::Failed,
                _ => RunState::Cancelled,
            };
        }
        let failed = self.tree.groups[g].children.iter().any(|&c| match c {
            Child::Task(t) => matches!(self.tasks[t], TaskStatus::Failed(_)),
            Child::Group(h) => self.groups[h] == GroupStatus::Finished(RunState::Failed),
        });
        if failed { RunState::Failed } else { RunState::Succeeded }
    }

    /// A finished group's state: its body's, or failed when its exit task failed.
    pub(super) fn group_state(&self, g: GroupInstIdx) -> RunState {
        let exit_failed = self.tree.groups[g].exit.is_some_and(|x| matches!(self.tasks[x], TaskStatus::Failed(_)));
        match self.body_state(g) {
            RunState::Succeeded if exit_failed => RunState::Failed,
            state => state,
        }
    }

    /// What exit task `exit` receives: its body's state and every failed task inside the body,
    /// inner exit tasks included, in record order.
    pub(crate) fn final_status(&self, exit: TaskInstIdx, run_id: &str) -> FinalStatusRecord {
        let g = self.tree.tasks[exit].group;
        let failures = self
            .tree
            .tasks_within(g)
            .into_iter()
            .filter(|&t| t != exit)
            .filter_map(|t| match &self.tasks[t] {
                TaskStatus::Failed(f) | TaskStatus::Cancelled(f) => Some(TaskFailureRecord {
                    task: self.tree.tasks[t].id.clone(),
                    kind: f.kind,
                    message: f.message.clone(),
                    trap_code: f.trap_code.clone(),
                    cached: false,
                    exit_handler: self.spec(t).is_exit,
                }),
                _ => None,
            })
            .collect();
        FinalStatusRecord {
            state: self.body_state(g),
            run_id: run_id.to_string(),
            group: self.template(g).name.clone(),
            failures,
        }
    }
}
