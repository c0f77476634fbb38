//! The scheduler: which task may start next, and what the others become. A pure state machine over
//! a [`Plan`], with no wasmtime in it, so the exit-handler rules (`docs/semantics.md`, rules 1, 7,
//! 8 and 9) are testable on their own.
//!
//! Rules it enforces: a group is entered when its upstream siblings succeeded; its exit task
//! starts once every body task is terminal, however they ended; after a failure nothing new
//! starts in the innermost group that holds it (fail fast); a step whose upstream failed or
//! was skipped is skipped (`upstream_failed`); a group never entered has all its tasks,
//! exit task included, skipped with the group's reason. After an interruption (a
//! cancellation or the run deadline, rule 10) no body task starts, but the exit tasks of
//! groups already entered still do, until an abort (second signal, grace expired).

use std::sync::Arc;

use serde_json::Value;

use super::tree::InstChild;
use super::tree::Tree;
use super::{Child, GroupInstIdx, IdxVec, Plan, PlanGroup, PlanTask, TaskInstIdx};
use crate::model::outcome::{Failure, FailureKind, FinalStatusRecord, RunState, Skip, SkipReason, TaskFailureRecord};

/// No sibling, in [`Scheduler`]'s `blocked_by`.
const NONE: u32 = u32::MAX;

/// Where a task stands.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TaskStatus {
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
pub(crate) enum Interruption {
    /// A cancellation (signal or library): interrupted groups end `cancelled`.
    Cancel,
    /// The run deadline: interrupted groups end `failed`.
    Deadline,
}

/// What the scheduler asks the runner when it reaches a group: values only a run knows.
pub(crate) trait Oracle {
    /// Whether the condition of conditional group instance `h` holds now.
    fn condition(&mut self, plan: &Plan, tree: &Tree, h: GroupInstIdx) -> bool;
    /// The items of loop instance `h`, or why there are none.
    fn items(&mut self, plan: &Plan, tree: &Tree, h: GroupInstIdx) -> Result<Vec<Value>, String>;
}

/// The oracle of [`Scheduler::next_ready`]: every condition holds; loops over literal lists.
#[cfg(test)]
struct Literal;

#[cfg(test)]
impl Oracle for Literal {
    fn condition(&mut self, _: &Plan, _: &Tree, _: GroupInstIdx) -> bool {
        true
    }
    fn items(&mut self, plan: &Plan, tree: &Tree, h: GroupInstIdx) -> Result<Vec<Value>, String> {
        match plan.groups[tree.groups[h].template].looping.as_ref().map(|l| &l.items) {
            Some(Ok(crate::model::binding::Binding::Literal(Value::Array(items)))) => Ok(items.clone()),
            _ => Err("the items are not a literal list".into()),
        }
    }
}

/// Where a group stands.
#[derive(Clone, Debug, PartialEq)]
enum GroupStatus {
    Waiting,
    Running,
    Finished(RunState),
    Skipped(Skip),
}

/// The scheduler's state for one run: the tree of instances and where each stands.
pub(crate) struct Scheduler {
    /// Shared, so that a scheduler can live as long as a run needs it (on worker threads).
    plan: Arc<Plan>,
    tree: Tree,
    tasks: IdxVec<TaskInstIdx, TaskStatus>,
    groups: IdxVec<GroupInstIdx, GroupStatus>,
    /// Per group: the id of the first failed child, which stops new starts (fail fast).
    stopped: IdxVec<GroupInstIdx, Option<String>>,
    /// Per group: the index of its first child that is not terminal yet; the children before it
    /// need no further visits (keeps a pass over a wide group from being quadratic).
    cursor: IdxVec<GroupInstIdx, usize>,
    /// Per loop: how many of its iterations are running.
    active: IdxVec<GroupInstIdx, usize>,
    /// Per group, per child position: a sibling the child was last found waiting for (`NONE`
    /// if none); while that sibling is not terminal the child is blocked, with no full check.
    /// Keeps a pass over a chain of waiting tasks from costing a check of each one's readiness.
    blocked_by: IdxVec<GroupInstIdx, Vec<u32>>,
    /// Per group with a `max_running` limit: how many tasks inside it are running.
    running: IdxVec<GroupInstIdx, usize>,
    /// Set when a pass over the tree changed a status (a skip, a group entered or finished),
    /// which may make steps visited earlier in the same pass ready.
    changed: bool,
    /// What interrupted the run, and its cause (`SIGINT`, `deadline`, ...).
    interruption: Option<(Interruption, String)>,
    /// Per group: whether the interruption arrived before its body finished.
    interrupted: IdxVec<GroupInstIdx, bool>,
    /// Set by an abort: nothing starts any more, exit tasks included.
    aborted: Option<Skip>,
}

/// What a visit of a child, a body or an exit task found.
enum Visit {
    /// This task was marked running: hand it out.
    Start(TaskInstIdx),
    /// Something in it is not terminal yet.
    Pending,
    /// Everything in it is terminal.
    Settled,
}

enum Readiness {
    Ready,
    Blocked,
    /// Blocked by the sibling at this position, which is not terminal yet.
    BlockedOn(usize),
    Skip(Skip),
}

impl Scheduler {
    /// A scheduler with every task waiting and the pipeline (the root group) entered.
    pub(crate) fn new(plan: Arc<Plan>) -> Scheduler {
        let tree = Tree::new(&plan);
        let mut scheduler = Scheduler {
            plan,
            tasks: IdxVec::new(),
            groups: IdxVec::new(),
            stopped: IdxVec::new(),
            changed: false,
            cursor: IdxVec::new(),
            active: IdxVec::new(),
            blocked_by: IdxVec::new(),
            running: IdxVec::new(),
            interruption: None,
            interrupted: IdxVec::new(),
            aborted: None,
            tree,
        };
        scheduler.grow();
        scheduler.groups[GroupInstIdx::ROOT] = GroupStatus::Running;
        scheduler
    }

    /// Sizes the per-instance state to the tree, after it grew.
    fn grow(&mut self) {
        let (t, g) = (self.tree.tasks.len(), self.tree.groups.len());
        self.tasks.resize(t, TaskStatus::Waiting);
        self.groups.resize(g, GroupStatus::Waiting);
        self.stopped.resize(g, None);
        self.cursor.resize(g, 0);
        self.active.resize(g, 0);
        self.blocked_by.resize(g, Vec::new());
        self.running.resize(g, 0);
        self.interrupted.resize(g, false);
    }

    /// The tree of instances: ids, templates and groups of the tasks this scheduler hands out.
    pub(crate) fn tree(&self) -> &Tree {
        &self.tree
    }

    /// The template of task instance `t`.
    pub(crate) fn spec(&self, t: TaskInstIdx) -> &PlanTask {
        &self.plan.tasks[self.tree.tasks[t].template]
    }

    fn template(&self, g: GroupInstIdx) -> &PlanGroup {
        &self.plan.groups[self.tree.groups[g].template]
    }

    /// Interrupts the run (`docs/semantics.md`, rule 10): no body task starts any more; groups
    /// whose body has not finished are marked, so they end `cancelled` (or `failed`, for a
    /// deadline); their exit tasks still run. The first interruption wins.
    pub(crate) fn interrupt(&mut self, kind: Interruption, cause: &str) {
        if self.interruption.is_some() {
            return;
        }
        self.interruption = Some((kind, cause.to_string()));
        for g in self.groups.indices() {
            let exit_waiting = self.tree.groups[g].exit.is_none_or(|x| self.tasks[x] == TaskStatus::Waiting);
            if self.groups[g] == GroupStatus::Running && exit_waiting {
                self.interrupted[g] = true;
            }
        }
    }

    /// Aborts the run: nothing starts any more, exit tasks included; they are skipped with
    /// `reason` (`grace_expired` or `aborted`).
    pub(crate) fn abort(&mut self, reason: SkipReason, cause: &str) {
        if self.interruption.is_none() {
            self.interrupt(Interruption::Cancel, cause);
        }
        self.aborted.get_or_insert(Skip { reason, cause: cause.to_string() });
    }

    /// The status of task `t`.
    pub(crate) fn status(&self, t: TaskInstIdx) -> &TaskStatus {
        &self.tasks[t]
    }

    /// The next task that may start, marked running; None when nothing can start now
    /// (everything is finished, or what is left waits for running tasks). Conditions hold and
    /// loops run over literal lists only (the scheduler's own tests; a run asks an oracle).
    #[cfg(test)]
    pub(crate) fn next_ready(&mut self) -> Option<TaskInstIdx> {
        self.next_ready_with(&mut Literal)
    }

    /// The next task that may start, marked running; None when nothing can start now
    /// (everything is finished, or what is left waits for running tasks). `oracle` decides
    /// conditions and loop items when a group is reached (its upstream has succeeded).
    pub(crate) fn next_ready_with(&mut self, oracle: &mut dyn Oracle) -> Option<TaskInstIdx> {
        loop {
            self.changed = false;
            if let Some(t) = self.visit(GroupInstIdx::ROOT, oracle) {
                return Some(t);
            }
            if !self.changed {
                return None;
            }
        }
    }

    /// Whether a task in group `g` may start under the `max_running` limits of its groups.
    fn room(&self, g: GroupInstIdx) -> bool {
        let mut cur = Some(g);
        while let Some(k) = cur {
            if self.template(k).max_running.is_some_and(|m| self.running[k] >= m.max(1)) {
                return false;
            }
            cur = self.tree.groups[k].parent;
        }
        true
    }

    /// Marks task `t` running, counted against the limits of its groups.
    fn start(&mut self, t: TaskInstIdx) -> Visit {
        self.tasks[t] = TaskStatus::Running;
        self.count_running(t, true);
        Visit::Start(t)
    }

    fn count_running(&mut self, t: TaskInstIdx, started: bool) {
        let mut cur = Some(self.tree.tasks[t].group);
        while let Some(k) = cur {
            if self.template(k).max_running.is_some() {
                if started { self.running[k] += 1 } else { self.running[k] -= 1 }
            }
            cur = self.tree.groups[k].parent;
        }
    }

    /// Records how task `t` ended.
    pub(crate) fn finish(&mut self, t: TaskInstIdx, result: Result<(), Failure>) {
        debug_assert_eq!(self.tasks[t], TaskStatus::Running);
        self.count_running(t, false);
        match result {
            Ok(()) => self.tasks[t] = TaskStatus::Succeeded,
            Err(failure) if failure.kind == FailureKind::Cancelled => {
                self.tasks[t] = TaskStatus::Cancelled(failure);
            }
            Err(failure) => {
                self.tasks[t] = TaskStatus::Failed(failure);
                // A failed exit task fails its group, which stops its parent when it finishes.
                if !self.spec(t).is_exit {
                    self.stop(self.tree.tasks[t].group, self.tree.tasks[t].id.clone());
                }
            }
        }
    }

    fn stop(&mut self, g: GroupInstIdx, cause: String) {
        self.stopped[g].get_or_insert(cause);
    }

    /// Whether the run is over: the pipeline's body has finished.
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.groups[GroupInstIdx::ROOT], GroupStatus::Finished(_))
    }

    /// The run's state: cancelled if a cancellation arrived before it finished, else failed if
    /// any top-level step failed, else succeeded.
    pub(crate) fn run_state(&self) -> RunState {
        match &self.groups[GroupInstIdx::ROOT] {
            GroupStatus::Finished(state) => *state,
            _ => self.body_state(GroupInstIdx::ROOT),
        }
    }

    /// Visits group instance `g`: starts the first task of its body that may start, else its
    /// exit task once the body is done, else records how the group ended once everything in it
    /// is terminal.
    fn visit(&mut self, g: GroupInstIdx, oracle: &mut dyn Oracle) -> Option<TaskInstIdx> {
        let visit = match self.visit_body(g, oracle) {
            Visit::Settled => self.visit_exit(g),
            other => other,
        };
        match visit {
            Visit::Start(t) => Some(t),
            Visit::Pending => None,
            Visit::Settled => {
                self.finish_group(g);
                None
            }
        }
    }

    /// Visits the body of `g` from its first child that is not terminal yet.
    fn visit_body(&mut self, g: GroupInstIdx, oracle: &mut dyn Oracle) -> Visit {
        let len = self.tree.groups[g].children.len();
        while self.cursor[g] < len && self.terminal(self.tree.groups[g].children[self.cursor[g]]) {
            self.cursor[g] += 1;
        }
        // The memo stands for a full check only while nothing else could decide the child:
        // no interruption, no abort, no failure that stops the group.
        let memo = self.interruption.is_none() && self.aborted.is_none() && self.stopped[g].is_none();
        if self.blocked_by[g].len() < len {
            self.blocked_by[g].resize(len, NONE);
        }
        let mut body = Visit::Settled;
        for pos in self.cursor[g]..len {
            if memo && self.still_blocked(g, pos) {
                body = Visit::Pending;
                continue;
            }
            let visit = match self.tree.groups[g].children[pos] {
                Child::Task(t) => self.visit_task(g, pos, t),
                Child::Group(h) => self.visit_group(g, pos, h, oracle),
            };
            match visit {
                Visit::Start(t) => return Visit::Start(t),
                Visit::Pending => body = Visit::Pending,
                Visit::Settled => {}
            }
        }
        body
    }

    /// Visits body task `t`, the child at `pos` of `g`: starts it, skips it, or finds it waiting.
    fn visit_task(&mut self, g: GroupInstIdx, pos: usize, t: TaskInstIdx) -> Visit {
        match self.tasks[t] {
            TaskStatus::Waiting => match self.readiness(g, pos) {
                Readiness::Ready if self.room(g) => self.start(t),
                Readiness::Ready | Readiness::Blocked => Visit::Pending,
                Readiness::BlockedOn(d) => {
                    self.blocked_by[g][pos] = d as u32;
                    Visit::Pending
                }
                Readiness::Skip(skip) => {
                    self.tasks[t] = TaskStatus::Skipped(skip);
                    self.changed = true;
                    Visit::Settled
                }
            },
            TaskStatus::Running => Visit::Pending,
            _ => Visit::Settled,
        }
    }

    /// Visits group `h`, the child at `pos` of `g`: enters or skips it when its upstream is
    /// decided, then visits inside it.
    fn visit_group(&mut self, g: GroupInstIdx, pos: usize, h: GroupInstIdx, oracle: &mut dyn Oracle) -> Visit {
        if self.groups[h] == GroupStatus::Waiting {
            match self.readiness(g, pos) {
                Readiness::Ready => self.enter(g, h, oracle),
                Readiness::Blocked => {}
                Readiness::BlockedOn(d) => self.blocked_by[g][pos] = d as u32,
                Readiness::Skip(skip) => self.skip_group(h, skip),
            }
        }
        if self.groups[h] == GroupStatus::Running
            && let Some(t) = self.visit(h, oracle)
        {
            return Visit::Start(t);
        }
        if matches!(self.groups[h], GroupStatus::Waiting | GroupStatus::Running) {
            Visit::Pending
        } else {
            Visit::Settled
        }
    }

    /// Visits the exit task of `g`, whose body is done: it starts (or, after an abort, is
    /// skipped) unless it already ran.
    fn visit_exit(&mut self, g: GroupInstIdx) -> Visit {
        let Some(exit) = self.tree.groups[g].exit else { return Visit::Settled };
        match self.tasks[exit] {
            TaskStatus::Waiting if self.aborted.is_some() => {
                self.tasks[exit] = TaskStatus::Skipped(self.aborted.clone().expect("checked"));
                Visit::Settled
            }
            TaskStatus::Waiting if self.room(g) => self.start(exit),
            TaskStatus::Waiting | TaskStatus::Running => Visit::Pending,
            _ => Visit::Settled,
        }
    }

    /// Records how group `g` ended, now that everything in it is terminal; a failed group stops
    /// its parent (fail fast), unless the parent is a loop whose iterations are independent.
    fn finish_group(&mut self, g: GroupInstIdx) {
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
            // Iterations of a loop are independent unless it fails fast (`docs/semantics.md`,
            // rule 9).
            let independent = self.template(parent).looping.as_ref().is_some_and(|l| !l.fail_fast);
            if !independent {
                self.stop(parent, self.tree.groups[g].id.clone());
            }
        }
    }

    /// Whether the child at `pos` of group `g` is still waiting for the sibling it was last
    /// found blocked by.
    fn still_blocked(&self, g: GroupInstIdx, pos: usize) -> bool {
        let d = self.blocked_by[g][pos];
        d != NONE && !self.terminal(self.tree.groups[g].children[d as usize])
    }

    /// Enters group `h`, a child of `g` whose upstream is done: a branch whose condition does
    /// not hold is skipped, a loop expands into its iterations.
    fn enter(&mut self, g: GroupInstIdx, h: GroupInstIdx, oracle: &mut dyn Oracle) {
        let template = self.template(h);
        if let Some(branch) = &template.branch
            && branch.condition.is_some()
            && !oracle.condition(&self.plan, &self.tree, h)
        {
            let cause = self.tree.groups[h].id.clone();
            self.skip_group(h, Skip { reason: SkipReason::ConditionFalse, cause });
            return;
        }
        if template.looping.is_some() {
            match oracle.items(&self.plan, &self.tree, h) {
                Ok(items) => {
                    self.tree.expand(&self.plan, h, items);
                    self.grow();
                }
                Err(message) => self.fail_loop(h, message),
            }
        }
        if self.template(g).looping.is_some() {
            self.active[g] += 1;
        }
        self.groups[h] = GroupStatus::Running;
        self.changed = true;
    }

    /// A loop whose items cannot be had: the tasks of its placeholder iteration fail with kind
    /// `input`, its exit tasks are never entered.
    fn fail_loop(&mut self, h: GroupInstIdx, message: String) {
        let id = self.tree.groups[h].id.clone();
        let failure = Failure::new(FailureKind::Input, format!("the items of loop `{id}`: {message}"));
        for t in self.tree.tasks_within(h) {
            self.tasks[t] = if self.spec(t).is_exit {
                TaskStatus::Skipped(Skip { reason: SkipReason::NotEntered, cause: id.clone() })
            } else {
                TaskStatus::Failed(failure.clone())
            };
        }
        for k in self.tree.groups_within(h).into_iter().skip(1) {
            self.groups[k] = GroupStatus::Finished(RunState::Failed);
        }
    }

    /// Whether a child has reached its final state.
    fn terminal(&self, child: InstChild) -> bool {
        match child {
            Child::Task(t) => !matches!(self.tasks[t], TaskStatus::Waiting | TaskStatus::Running),
            Child::Group(h) => matches!(self.groups[h], GroupStatus::Finished(_) | GroupStatus::Skipped(_)),
        }
    }

    /// Whether the child at `child_index` of `g` may start now, must wait, or is skipped.
    fn readiness(&self, g: GroupInstIdx, child_index: usize) -> Readiness {
        if let Some(skip) = &self.aborted {
            return Readiness::Skip(skip.clone());
        }
        if let Some((_, cause)) = &self.interruption {
            return Readiness::Skip(Skip { reason: SkipReason::Cancelled, cause: cause.clone() });
        }
        if self.template(g).looping.is_some() {
            return self.iteration_readiness(g);
        }
        if let Some(decided) = self.branch_readiness(g, child_index) {
            return decided;
        }
        self.upstream_readiness(g, child_index)
    }

    /// An iteration of loop `g` starts when the loop has a free slot (`parallelism`) and no
    /// failure stopped the loop (`fail_fast`).
    fn iteration_readiness(&self, g: GroupInstIdx) -> Readiness {
        if let Some(cause) = &self.stopped[g] {
            return Readiness::Skip(Skip { reason: SkipReason::FailFast, cause: cause.clone() });
        }
        let parallelism = self.template(g).looping.as_ref().and_then(|l| l.parallelism);
        let full = parallelism.is_some_and(|p| self.active[g] >= p.max(1));
        if full { Readiness::Blocked } else { Readiness::Ready }
    }

    /// For an `elif` or `else`: it waits until the branch before it is decided, and runs only
    /// if that branch was not taken. None for any other child.
    fn branch_readiness(&self, g: GroupInstIdx, child_index: usize) -> Option<Readiness> {
        let children = &self.tree.groups[g].children;
        let Child::Group(h) = children[child_index] else { return None };
        self.template(h).branch.as_ref().and_then(|b| b.prev)?;
        let prev = match children[child_index - 1] {
            Child::Group(prev) => prev,
            Child::Task(_) => unreachable!("an elif follows its if"),
        };
        match &self.groups[prev] {
            GroupStatus::Waiting => Some(Readiness::Blocked),
            GroupStatus::Running | GroupStatus::Finished(_) => {
                let cause = self.tree.groups[prev].id.clone();
                Some(Readiness::Skip(Skip { reason: SkipReason::ConditionFalse, cause }))
            }
            // Its own condition was false: this branch may run.
            GroupStatus::Skipped(skip)
                if skip.reason == SkipReason::ConditionFalse && skip.cause == self.tree.groups[prev].id =>
            {
                None
            }
            // An earlier branch was taken, or the chain was never reached.
            GroupStatus::Skipped(skip) => Some(Readiness::Skip(skip.clone())),
        }
    }

    /// Whether the siblings the child at `child_index` of `g` waits for have succeeded: it is
    /// skipped (`upstream_failed`) when one did not, and stopped (`fail_fast`) after a failure
    /// in the group. A task that ignores upstream failures waits for its upstream to end,
    /// however it ends, and is not stopped by fail fast.
    fn upstream_readiness(&self, g: GroupInstIdx, child_index: usize) -> Readiness {
        let children = &self.tree.groups[g].children;
        let deps = &self.plan.waits[self.tree.groups[g].template][child_index];
        if let Child::Task(t) = children[child_index]
            && self.spec(t).ignore_upstream_failure
        {
            let pending = deps.iter().any(|&d| !self.terminal(children[d]));
            return if pending { Readiness::Blocked } else { Readiness::Ready };
        }
        let mut blocked = None;
        for &position in deps {
            let dep = children[position];
            let upstream_failed =
                || Readiness::Skip(Skip { reason: SkipReason::UpstreamFailed, cause: self.child_id(dep).to_string() });
            match dep {
                Child::Task(d) => match &self.tasks[d] {
                    TaskStatus::Succeeded => {}
                    TaskStatus::Failed(_) | TaskStatus::Skipped(_) | TaskStatus::Cancelled(_) => {
                        return upstream_failed();
                    }
                    TaskStatus::Waiting | TaskStatus::Running => blocked = blocked.or(Some(position)),
                },
                Child::Group(h) => match &self.groups[h] {
                    GroupStatus::Finished(RunState::Succeeded) => {}
                    GroupStatus::Finished(_) | GroupStatus::Skipped(_) => return upstream_failed(),
                    GroupStatus::Waiting | GroupStatus::Running => blocked = blocked.or(Some(position)),
                },
            }
        }
        if let Some(cause) = &self.stopped[g] {
            return Readiness::Skip(Skip { reason: SkipReason::FailFast, cause: cause.clone() });
        }
        match blocked {
            Some(d) => Readiness::BlockedOn(d),
            None => Readiness::Ready,
        }
    }

    fn child_id(&self, child: InstChild) -> &str {
        match child {
            Child::Task(t) => &self.tree.tasks[t].id,
            Child::Group(h) => &self.tree.groups[h].id,
        }
    }

    /// Skips a group never entered: every task in it, exit tasks included, gets its reason.
    fn skip_group(&mut self, h: GroupInstIdx, skip: Skip) {
        self.changed = true;
        for t in self.tree.tasks_within(h) {
            if self.tasks[t] == TaskStatus::Waiting {
                self.tasks[t] = TaskStatus::Skipped(skip.clone());
            }
        }
        for g in self.tree.groups_within(h) {
            self.groups[g] = GroupStatus::Skipped(skip.clone());
        }
    }

    /// The state of a group's body: failed if a child task failed or a child group failed.
    fn body_state(&self, g: GroupInstIdx) -> RunState {
        if self.interrupted[g] {
            return match self.interruption {
                Some((Interruption::Deadline, _)) => RunState::Failed,
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
    fn group_state(&self, g: GroupInstIdx) -> RunState {
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::model::outcome::FailureKind;

    fn plan(steps: &str) -> Plan {
        let text = format!("version: 1\nname: p\ncomponents: {{c: {{path: c.wasm}}}}\nsteps:\n{steps}");
        Plan::build(crate::model::load::load_str(&text, Path::new("p.yaml"), Path::new(".")).unwrap())
    }

    /// Runs the scheduler to the end; `fails` names the tasks that fail. Returns the start order.
    fn drive(plan: &Plan, fails: &[&str]) -> (Scheduler, Vec<String>) {
        let mut s = Scheduler::new(Arc::new(plan.clone()));
        let mut order = Vec::new();
        while let Some(t) = s.next_ready() {
            let id = s.tree().tasks[t].id.clone();
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
        let after = s.tree().tasks.iter_enumerated().find(|(_, t)| t.id == "after").unwrap().0;
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
        let mut s = Scheduler::new(Arc::new(plan));
        let a = s.next_ready().unwrap();
        s.finish(a, Err(Failure::new(FailureKind::Trap, "boom")));
        let e = s.next_ready().unwrap();
        assert_eq!(s.tree().tasks[e].id, "g/e", "b is skipped by fail fast, so the exit task is next");
        let status = s.final_status(e, "run-1");
        assert_eq!(status.state, RunState::Failed);
        assert_eq!(status.group, "g");
        assert_eq!(status.failures.len(), 1);
        assert_eq!(status.failures[0].task, "g/a");
        assert_eq!(status.failures[0].kind, FailureKind::Trap);
    }
}
