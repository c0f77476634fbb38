//! The scheduler: which task may start next, and what the others become. A pure state
//! machine over a [`Plan`], with no wasmtime in it, so the exit-handler rules (SPEC 1, 7, 8, 9)
//! are testable on their own.
//!
//! Rules it enforces: a group is entered when its upstream siblings succeeded; its exit task
//! starts once every body task is terminal, however they ended; after a failure nothing new
//! starts in the innermost group that holds it (fail fast); a step whose upstream failed or
//! was skipped is skipped (`upstream_failed`); a group never entered has all its tasks,
//! exit task included, skipped with the group's reason. After an interruption (a
//! cancellation or the run deadline, rule 10) no body task starts, but the exit tasks of
//! groups already entered still do, until an abort (second signal, grace expired).

use crate::plan::{Child, GroupIdx, Plan, TaskIdx};
use crate::record::{Failure, FinalStatusRecord, RunState, Skip, SkipReason, TaskFailureRecord};

/// Where a task stands.
#[derive(Clone, Debug, PartialEq)]
pub enum TaskStatus {
    /// Not started yet.
    Waiting,
    /// Started, not finished.
    Running,
    /// Finished with outputs.
    Succeeded,
    /// Finished with a failure.
    Failed(Failure),
    /// Will never run.
    Skipped(Skip),
    /// Interrupted by a cancellation (its failure has kind `cancelled`).
    Cancelled(Failure),
}

/// What interrupted the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Interruption {
    /// A cancellation (signal or library): interrupted groups end `cancelled`.
    Cancel,
    /// The run deadline: interrupted groups end `failed`.
    Deadline,
}

/// Where a group stands.
#[derive(Clone, Debug, PartialEq)]
enum GroupStatus {
    Waiting,
    Running,
    Finished(RunState),
    Skipped(Skip),
}

/// The scheduler's state for one run.
pub struct Scheduler<'p> {
    plan: &'p Plan,
    tasks: Vec<TaskStatus>,
    groups: Vec<GroupStatus>,
    /// Per group: the id of the first failed child, which stops new starts (fail fast).
    stopped: Vec<Option<String>>,
    /// Per group, per child: the siblings it waits for.
    sibling_deps: Vec<Vec<Vec<Child>>>,
    /// Per group: the index of its first child that is not terminal yet; the children before it
    /// need no further visits (keeps a pass over a wide group from being quadratic).
    cursor: Vec<usize>,
    /// Set when a pass over the tree changed a status (a skip, a group entered or finished),
    /// which may make steps visited earlier in the same pass ready.
    changed: bool,
    /// What interrupted the run, and its cause (`SIGINT`, `deadline`, ...).
    interruption: Option<(Interruption, String)>,
    /// Per group: whether the interruption arrived before its body finished.
    interrupted: Vec<bool>,
    /// Set by an abort: nothing starts any more, exit tasks included.
    aborted: Option<Skip>,
}

enum Readiness {
    Ready,
    Blocked,
    Skip(Skip),
}

impl<'p> Scheduler<'p> {
    /// A scheduler with every task waiting and the pipeline (the root group) entered.
    pub fn new(plan: &'p Plan) -> Scheduler<'p> {
        let sibling_deps = (0..plan.groups.len())
            .map(|g| plan.groups[g].children.iter().map(|&c| plan.sibling_deps(g, c)).collect())
            .collect();
        let mut groups = vec![GroupStatus::Waiting; plan.groups.len()];
        groups[0] = GroupStatus::Running;
        Scheduler {
            plan,
            tasks: vec![TaskStatus::Waiting; plan.tasks.len()],
            groups,
            stopped: vec![None; plan.groups.len()],
            sibling_deps,
            changed: false,
            cursor: vec![0; plan.groups.len()],
            interruption: None,
            interrupted: vec![false; plan.groups.len()],
            aborted: None,
        }
    }

    /// Interrupts the run (SPEC rule 10): no body task starts any more; groups whose body has
    /// not finished are marked, so they end `cancelled` (or `failed`, for a deadline); their exit
    /// tasks still run. The first interruption wins.
    pub fn interrupt(&mut self, kind: Interruption, cause: &str) {
        if self.interruption.is_some() {
            return;
        }
        self.interruption = Some((kind, cause.to_string()));
        for g in 0..self.groups.len() {
            let exit_waiting = self.plan.groups[g].exit.is_none_or(|x| self.tasks[x] == TaskStatus::Waiting);
            if self.groups[g] == GroupStatus::Running && exit_waiting {
                self.interrupted[g] = true;
            }
        }
    }

    /// Aborts the run: nothing starts any more, exit tasks included; they are skipped with
    /// `reason` (`grace_expired` or `aborted`).
    pub fn abort(&mut self, reason: SkipReason, cause: &str) {
        if self.interruption.is_none() {
            self.interrupt(Interruption::Cancel, cause);
        }
        self.aborted.get_or_insert(Skip { reason, cause: cause.to_string() });
    }

    /// The status of task `t`.
    pub fn status(&self, t: TaskIdx) -> &TaskStatus {
        &self.tasks[t]
    }

    /// The next task that may start, marked running; None when nothing can start now
    /// (everything is finished, or what is left waits for running tasks).
    pub fn next_ready(&mut self) -> Option<TaskIdx> {
        self.next_ready_with(&mut |_| true)
    }

    /// [`Scheduler::next_ready`], with `decide` saying whether the condition of a conditional
    /// group holds when the group is reached (its upstream has succeeded).
    pub fn next_ready_with(&mut self, decide: &mut dyn FnMut(GroupIdx) -> bool) -> Option<TaskIdx> {
        loop {
            self.changed = false;
            if let Some(t) = self.visit(0, decide) {
                return Some(t);
            }
            if !self.changed {
                return None;
            }
        }
    }

    /// Records how task `t` ended.
    pub fn finish(&mut self, t: TaskIdx, result: Result<(), Failure>) {
        debug_assert_eq!(self.tasks[t], TaskStatus::Running);
        match result {
            Ok(()) => self.tasks[t] = TaskStatus::Succeeded,
            Err(failure) if failure.kind == crate::record::FailureKind::Cancelled => {
                self.tasks[t] = TaskStatus::Cancelled(failure);
            }
            Err(failure) => {
                self.tasks[t] = TaskStatus::Failed(failure);
                let task = &self.plan.tasks[t];
                // A failed exit task fails its group, which stops its parent when it finishes.
                if !task.is_exit {
                    self.stop(task.group, task.id.clone());
                }
            }
        }
    }

    fn stop(&mut self, g: GroupIdx, cause: String) {
        self.stopped[g].get_or_insert(cause);
    }

    /// Whether every task is terminal.
    pub fn is_done(&self) -> bool {
        !self.tasks.iter().any(|s| matches!(s, TaskStatus::Waiting | TaskStatus::Running))
    }

    /// The run's state: cancelled if a cancellation arrived before it finished, else failed if
    /// any top-level step failed, else succeeded.
    pub fn run_state(&self) -> RunState {
        match &self.groups[0] {
            GroupStatus::Finished(state) => *state,
            _ => self.body_state(0),
        }
    }

    fn visit(&mut self, g: GroupIdx, decide: &mut dyn FnMut(GroupIdx) -> bool) -> Option<TaskIdx> {
        let plan = self.plan;
        let children = &plan.groups[g].children;
        while self.cursor[g] < children.len() && self.terminal(children[self.cursor[g]]) {
            self.cursor[g] += 1;
        }
        let mut body_done = true;
        for (i, &child) in children.iter().enumerate().skip(self.cursor[g]) {
            match child {
                Child::Task(t) => match self.tasks[t] {
                    TaskStatus::Waiting => match self.readiness(g, i) {
                        Readiness::Ready => {
                            self.tasks[t] = TaskStatus::Running;
                            return Some(t);
                        }
                        Readiness::Blocked => body_done = false,
                        Readiness::Skip(skip) => {
                            self.tasks[t] = TaskStatus::Skipped(skip);
                            self.changed = true;
                        }
                    },
                    TaskStatus::Running => body_done = false,
                    _ => {}
                },
                Child::Group(h) => {
                    if self.groups[h] == GroupStatus::Waiting {
                        match self.readiness(g, i) {
                            Readiness::Ready => {
                                let holds = match &self.plan.groups[h].branch {
                                    Some(branch) => branch.condition.is_none() || decide(h),
                                    None => true,
                                };
                                if holds {
                                    self.groups[h] = GroupStatus::Running;
                                    self.changed = true;
                                } else {
                                    let cause = self.plan.groups[h].id.clone();
                                    self.skip_group(h, Skip { reason: SkipReason::ConditionFalse, cause });
                                }
                            }
                            Readiness::Blocked => {}
                            Readiness::Skip(skip) => self.skip_group(h, skip),
                        }
                    }
                    if self.groups[h] == GroupStatus::Running
                        && let Some(t) = self.visit(h, decide)
                    {
                        return Some(t);
                    }
                    if matches!(self.groups[h], GroupStatus::Waiting | GroupStatus::Running) {
                        body_done = false;
                    }
                }
            }
        }
        if !body_done {
            return None;
        }
        if let Some(exit) = self.plan.groups[g].exit {
            match self.tasks[exit] {
                TaskStatus::Waiting if self.aborted.is_some() => {
                    self.tasks[exit] = TaskStatus::Skipped(self.aborted.clone().expect("checked"));
                }
                TaskStatus::Waiting => {
                    self.tasks[exit] = TaskStatus::Running;
                    return Some(exit);
                }
                TaskStatus::Running => return None,
                _ => {}
            }
        }
        let state = self.group_state(g);
        if self.groups[g] != GroupStatus::Finished(state) {
            self.groups[g] = GroupStatus::Finished(state);
            self.changed = true;
        }
        if state == RunState::Failed
            && let Some(parent) = self.plan.groups[g].parent
        {
            self.stop(parent, self.plan.groups[g].id.clone());
        }
        None
    }

    /// Whether a child has reached its final state.
    fn terminal(&self, child: Child) -> bool {
        match child {
            Child::Task(t) => !matches!(self.tasks[t], TaskStatus::Waiting | TaskStatus::Running),
            Child::Group(h) => matches!(self.groups[h], GroupStatus::Finished(_) | GroupStatus::Skipped(_)),
        }
    }

    fn readiness(&self, g: GroupIdx, child_index: usize) -> Readiness {
        if let Some(skip) = &self.aborted {
            return Readiness::Skip(skip.clone());
        }
        if let Some((_, cause)) = &self.interruption {
            return Readiness::Skip(Skip { reason: SkipReason::Cancelled, cause: cause.clone() });
        }
        // An `elif` or `else` waits until the branch before it is decided, and runs only if that
        // branch was not taken.
        if let Child::Group(h) = self.plan.groups[g].children[child_index]
            && let Some(prev) = self.plan.groups[h].branch.as_ref().and_then(|b| b.prev)
        {
            match &self.groups[prev] {
                GroupStatus::Waiting => return Readiness::Blocked,
                GroupStatus::Running | GroupStatus::Finished(_) => {
                    let cause = self.plan.groups[prev].id.clone();
                    return Readiness::Skip(Skip { reason: SkipReason::ConditionFalse, cause });
                }
                // Its own condition was false: this branch may run.
                GroupStatus::Skipped(skip)
                    if skip.reason == SkipReason::ConditionFalse && skip.cause == self.plan.groups[prev].id => {}
                // An earlier branch was taken, or the chain was never reached.
                GroupStatus::Skipped(skip) => return Readiness::Skip(skip.clone()),
            }
        }
        // A task that ignores upstream failures waits for its upstream to end, however it ends,
        // and is not stopped by fail fast.
        if let Child::Task(t) = self.plan.groups[g].children[child_index]
            && self.plan.tasks[t].ignore_upstream_failure
        {
            let pending = self.sibling_deps[g][child_index].iter().any(|&dep| match dep {
                Child::Task(d) => matches!(self.tasks[d], TaskStatus::Waiting | TaskStatus::Running),
                Child::Group(h) => matches!(self.groups[h], GroupStatus::Waiting | GroupStatus::Running),
            });
            return if pending { Readiness::Blocked } else { Readiness::Ready };
        }
        let mut blocked = false;
        for &dep in &self.sibling_deps[g][child_index] {
            let id = self.plan.child_id(dep).to_string();
            let upstream_failed = |cause: String| Readiness::Skip(Skip { reason: SkipReason::UpstreamFailed, cause });
            match dep {
                Child::Task(d) => match &self.tasks[d] {
                    TaskStatus::Succeeded => {}
                    TaskStatus::Failed(_) => return upstream_failed(id),
                    TaskStatus::Skipped(_) | TaskStatus::Cancelled(_) => return upstream_failed(id),
                    TaskStatus::Waiting | TaskStatus::Running => blocked = true,
                },
                Child::Group(h) => match &self.groups[h] {
                    GroupStatus::Finished(RunState::Succeeded) => {}
                    GroupStatus::Finished(_) | GroupStatus::Skipped(_) => {
                        return upstream_failed(id);
                    }
                    GroupStatus::Waiting | GroupStatus::Running => blocked = true,
                },
            }
        }
        if let Some(cause) = &self.stopped[g] {
            return Readiness::Skip(Skip { reason: SkipReason::FailFast, cause: cause.clone() });
        }
        if blocked { Readiness::Blocked } else { Readiness::Ready }
    }

    /// Skips a group never entered: every task in it, exit tasks included, gets its reason.
    fn skip_group(&mut self, h: GroupIdx, skip: Skip) {
        self.changed = true;
        self.groups[h] = GroupStatus::Skipped(skip.clone());
        for t in 0..self.tasks.len() {
            if self.plan.task_in_group(t, h) && self.tasks[t] == TaskStatus::Waiting {
                self.tasks[t] = TaskStatus::Skipped(skip.clone());
            }
        }
        for g in 0..self.groups.len() {
            if g != h && self.plan.group_within(g, h) {
                self.groups[g] = GroupStatus::Skipped(skip.clone());
            }
        }
    }

    /// The state of a group's body: failed if a child task failed or a child group failed.
    fn body_state(&self, g: GroupIdx) -> RunState {
        if self.interrupted[g] {
            return match self.interruption {
                Some((Interruption::Deadline, _)) => RunState::Failed,
                _ => RunState::Cancelled,
            };
        }
        let failed = self.plan.groups[g].children.iter().any(|&c| match c {
            Child::Task(t) => matches!(self.tasks[t], TaskStatus::Failed(_)),
            Child::Group(h) => self.groups[h] == GroupStatus::Finished(RunState::Failed),
        });
        if failed { RunState::Failed } else { RunState::Succeeded }
    }

    /// A finished group's state: its body's, or failed when its exit task failed.
    fn group_state(&self, g: GroupIdx) -> RunState {
        let exit_failed = self.plan.groups[g].exit.is_some_and(|x| matches!(self.tasks[x], TaskStatus::Failed(_)));
        match self.body_state(g) {
            RunState::Succeeded if exit_failed => RunState::Failed,
            state => state,
        }
    }

    /// What exit task `exit` receives: its body's state and every failed task inside the body,
    /// inner exit tasks included, in record order.
    pub fn final_status(&self, exit: TaskIdx, run_id: &str) -> FinalStatusRecord {
        let g = self.plan.tasks[exit].group;
        let failures = (0..self.tasks.len())
            .filter(|&t| t != exit && self.plan.task_in_group(t, g))
            .filter_map(|t| match &self.tasks[t] {
                TaskStatus::Failed(f) | TaskStatus::Cancelled(f) => Some(TaskFailureRecord {
                    task: self.plan.tasks[t].id.clone(),
                    kind: f.kind,
                    message: f.message.clone(),
                    trap_code: f.trap_code.clone(),
                    cached: false,
                    exit_handler: self.plan.tasks[t].is_exit,
                }),
                _ => None,
            })
            .collect();
        FinalStatusRecord {
            state: self.body_state(g),
            run_id: run_id.to_string(),
            group: self.plan.groups[g].name.clone(),
            failures,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::record::FailureKind;

    fn plan(steps: &str) -> Plan {
        let text = format!("version: 1\nname: p\ncomponents: {{c: {{path: c.wasm}}}}\nsteps:\n{steps}");
        let loaded = crate::model::load::load_str(&text, Path::new("p.yaml"), Path::new(".")).unwrap();
        Plan::build(&loaded.pipeline, Path::new("."))
    }

    /// Runs the scheduler to the end; `fails` names the tasks that fail. Returns the start order.
    fn drive<'p>(plan: &'p Plan, fails: &[&str]) -> (Scheduler<'p>, Vec<String>) {
        let mut s = Scheduler::new(plan);
        let mut order = Vec::new();
        while let Some(t) = s.next_ready() {
            let id = plan.tasks[t].id.clone();
            let result =
                if fails.contains(&id.as_str()) { Err(Failure::new(FailureKind::Error, "no")) } else { Ok(()) };
            order.push(id);
            s.finish(t, result);
        }
        assert!(s.is_done());
        (s, order)
    }

    #[test]
    fn the_exit_task_starts_after_its_body_and_inner_handlers_before_outer_ones() {
        let plan = plan(
            "  - exit_handler:\n      name: o\n      exit: {task: oe, component: c}\n      steps:\n        - exit_handler:\n            name: i\n            exit: {task: ie, component: c}\n            steps:\n              - {task: a, component: c}\n        - {task: b, component: c}\n",
        );
        let (s, order) = drive(&plan, &[]);
        assert_eq!(order, ["o/i/a", "o/i/ie", "o/b", "o/oe"]);
        assert_eq!(s.run_state(), RunState::Succeeded);
    }

    #[test]
    fn a_failed_exit_task_fails_its_group_and_the_run() {
        let plan = plan(
            "  - exit_handler:\n      name: g\n      exit: {task: e, component: c}\n      steps:\n        - {task: a, component: c}\n  - {task: after, component: c}\n",
        );
        let (s, order) = drive(&plan, &["g/e"]);
        assert_eq!(order, ["g/a", "g/e"]);
        assert_eq!(s.run_state(), RunState::Failed);
        let after = plan.by_name["after"];
        assert_eq!(s.status(after), &TaskStatus::Skipped(Skip { reason: SkipReason::FailFast, cause: "g".into() }));
    }

    #[test]
    fn a_task_reading_from_inside_a_group_waits_for_the_whole_group() {
        let plan = plan(
            "  - {task: reader, component: c, after: [inner]}\n  - exit_handler:\n      name: g\n      exit: {task: e, component: c}\n      steps:\n        - {task: inner, component: c}\n",
        );
        let (_, order) = drive(&plan, &[]);
        assert_eq!(order, ["g/inner", "g/e", "reader"], "declared first, but it waits for the group's exit task");
    }

    #[test]
    fn final_status_lists_failures_of_the_body_only() {
        let plan = plan(
            "  - exit_handler:\n      name: g\n      exit: {task: e, component: c}\n      steps:\n        - {task: a, component: c}\n        - {task: b, component: c}\n",
        );
        let mut s = Scheduler::new(&plan);
        let a = s.next_ready().unwrap();
        s.finish(a, Err(Failure::new(FailureKind::Trap, "boom")));
        let e = s.next_ready().unwrap();
        assert_eq!(plan.tasks[e].id, "g/e", "b is skipped by fail fast, so the exit task is next");
        let status = s.final_status(e, "run-1");
        assert_eq!(status.state, RunState::Failed);
        assert_eq!(status.group, "g");
        assert_eq!(status.failures.len(), 1);
        assert_eq!(status.failures[0].task, "g/a");
        assert_eq!(status.failures[0].kind, FailureKind::Trap);
    }
}
