//! The scheduler: which task may start next, and what the others become. A pure state machine over
//! a [`Plan`], with no wasmtime in it, so the exit-handler rules (`docs/semantics.md`, rules 1, 7,
//! 8 and 9) are testable on their own.
//!
//! Rules it enforces: a group is entered when its upstream siblings succeeded; its exit task
//! starts once every body task is terminal, however they ended; a step whose upstream failed
//! or was skipped is skipped (`upstream_failed`), and every step independent of a failure
//! runs, unless the group that holds them opted into fail fast (then nothing new starts in it
//! after a failure among its children); a group never entered has all its tasks,
//! exit task included, skipped with the group's reason. After an interruption (a
//! cancellation or the run deadline, rule 10) no body task starts, but the exit tasks of
//! groups already entered still do, until an abort (second signal, grace expired).

use std::sync::Arc;

use serde_json::Value;

use super::tree::Tree;
use super::{GroupInstIdx, IdxVec, Plan, PlanGroup, PlanTask, TaskInstIdx};
use crate::model::outcome::{Failure, FailureKind, RunState, Skip, SkipReason};

mod status;
mod visit;
use visit::Visit;

/// Where a task stands.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TaskStatus {
    /// Not started yet.
    Waiting,
    /// Started, not finished.
    Running,
    /// Finished with outputs.
    Succeeded,
    /// Finished with a failure (boxed, as the other large variants: a loop of a million tasks
    /// holds a million statuses).
    Failed(Box<Failure>),
    /// Will never run.
    Skipped(Box<Skip>),
    /// Interrupted by a cancellation (its failure has kind `cancelled`).
    Cancelled(Box<Failure>),
}

/// What interrupted the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Interruption {
    /// A cancellation (signal or library): interrupted groups end `cancelled`.
    Cancel,
    /// The run deadline: interrupted groups end `failed`.
    Deadline,
    /// wasmpipe failed internally in the scheduler (a bug): interrupted groups end `failed`.
    Internal,
}

/// What the scheduler asks the runner when it reaches a group: values only a run knows.
pub(crate) trait Oracle {
    /// Whether the condition of conditional group instance `h` holds now, or why it cannot be
    /// evaluated (a value of the wrong type, through an `any` output).
    fn condition(&mut self, plan: &Plan, tree: &Tree, h: GroupInstIdx) -> Result<bool, String>;
    /// The items of loop instance `h`, or why there are none (the failure of its tasks).
    fn items(&mut self, plan: &Plan, tree: &Tree, h: GroupInstIdx) -> Result<Vec<Value>, Failure>;
    /// Whether ready task `t` may start now under the run's budgets; when it may not, it waits,
    /// and so do the tasks after it (they start in the order they would without budgets).
    fn admits(&mut self, _plan: &Plan, _tree: &Tree, _t: TaskInstIdx) -> bool {
        true
    }
}

/// The oracle of [`Scheduler::next_ready`]: every condition holds; loops over literal lists.
#[cfg(test)]
struct Literal;

#[cfg(test)]
impl Oracle for Literal {
    fn condition(&mut self, _: &Plan, _: &Tree, _: GroupInstIdx) -> Result<bool, String> {
        Ok(true)
    }
    fn items(&mut self, plan: &Plan, tree: &Tree, h: GroupInstIdx) -> Result<Vec<Value>, Failure> {
        match plan.groups[tree.groups[h].template].looping.as_ref().map(|l| &l.items) {
            Some(Ok(crate::model::binding::Binding::Literal(Value::Array(items)))) => Ok(items.clone()),
            _ => Err(Failure::new(FailureKind::Input, "the items are not a literal list")),
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

/// What a resumed run concludes from its journal: task instance ids, and the groups around them.
struct Replay {
    tasks: std::collections::HashSet<String>,
    groups: std::collections::HashSet<String>,
    /// Those that ended cancelled.
    cancelled: std::collections::HashSet<String>,
    /// Exit tasks: the state their body ended in.
    bodies: std::collections::HashMap<String, RunState>,
}

/// The scheduler's state for one run: the tree of instances and where each stands.
pub(crate) struct Scheduler {
    /// Shared, so that a scheduler can live as long as a run needs it (on worker threads).
    plan: Arc<Plan>,
    tree: Tree,
    tasks: IdxVec<TaskInstIdx, TaskStatus>,
    groups: IdxVec<GroupInstIdx, GroupStatus>,
    /// Per group that fails fast: the id of its first failed child, which stops new starts.
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
    /// Set when a pass found a ready task the run's budgets do not admit yet: the pass ends.
    full: bool,
    /// What interrupted the run, and its cause (`SIGINT`, `deadline`, ...).
    interruption: Option<(Interruption, String)>,
    /// Per group: whether the interruption arrived before its body finished.
    interrupted: IdxVec<GroupInstIdx, bool>,
    /// Set by an abort: nothing starts any more, exit tasks included.
    aborted: Option<Skip>,
    /// Tests only (`crate::faults`, `scheduler-next`): the next pass panics.
    panic_next: bool,
    /// For a resumed run: the ids of the task instances that ended before the stop, and of the
    /// groups around them. They start (to be concluded as they ended) even after an
    /// interruption, which the resumed run carries on.
    replay: Option<Replay>,
    /// Loops entered since [`Scheduler::take_expansions`] last asked, with the number of task
    /// instances each expansion made (for progress bars).
    expansions: Vec<(GroupInstIdx, usize)>,
    /// Groups with an exit task entered since [`Scheduler::take_entered`] last asked (the
    /// journal records them: a resumed run enters them again, and runs their exit tasks).
    entered: Vec<GroupInstIdx>,
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
            full: false,
            cursor: IdxVec::new(),
            active: IdxVec::new(),
            blocked_by: IdxVec::new(),
            running: IdxVec::new(),
            interruption: None,
            interrupted: IdxVec::new(),
            aborted: None,
            panic_next: false,
            replay: None,
            expansions: Vec::new(),
            entered: Vec::new(),
            tree,
        };
        scheduler.grow();
        scheduler.groups[GroupInstIdx::ROOT] = GroupStatus::Running;
        scheduler
    }

    /// Marks the task instances `ids` (and the groups around them) as ended before the run was
    /// stopped: they are not skipped by an interruption (see [`Scheduler::replay`]).
    /// Each task is given with whether it ended cancelled, and for an exit task the state its
    /// body ended in as its final status said.
    /// `unfinished`: tasks that started and had not ended (their groups had been entered).
    pub(crate) fn set_replay(
        &mut self,
        ended: impl IntoIterator<Item = (String, bool, Option<RunState>)>,
        unfinished: &[String],
        entered: &[String],
    ) {
        let mut tasks = std::collections::HashSet::new();
        let mut cancelled = std::collections::HashSet::new();
        let mut bodies = std::collections::HashMap::new();
        for (id, was_cancelled, body) in ended {
            if was_cancelled {
                cancelled.insert(id.clone());
            }
            if let Some(body) = body {
                bodies.insert(id.clone(), body);
            }
            tasks.insert(id);
        }
        // The groups around those tasks, and each group with an exit task that was entered
        // (with the groups around it).
        let mut groups: std::collections::HashSet<String> = entered.iter().cloned().collect();
        for id in tasks.iter().chain(unfinished).chain(entered) {
            let mut rest = id.as_str();
            while let Some((head, _)) = rest.rsplit_once('/') {
                groups.insert(head.to_string());
                rest = head;
            }
        }
        self.replay = Some(Replay { tasks, groups, cancelled, bodies });
    }

    /// For a group of a resumed run entered after the interruption it carries on: whether the
    /// interruption found its body unfinished before the stop. Its exit task's final status
    /// says so when that task ended; else a task in it that had not ended, or that ended
    /// cancelled, does.
    fn interrupted_before(&self, h: GroupInstIdx) -> bool {
        let Some(replay) = &self.replay else { return true };
        if let Some(x) = self.tree.groups[h].exit
            && let Some(body) = replay.bodies.get(&self.tree.tasks[x].id)
        {
            // An interrupted body ends `cancelled`, or `failed` for a deadline (see `body_state`).
            return match body {
                RunState::Cancelled => true,
                RunState::Failed => {
                    matches!(self.interruption, Some((Interruption::Deadline | Interruption::Internal, _)))
                }
                RunState::Succeeded => false,
            };
        }
        // The group's own exit task does not count: it runs after the body.
        let exit = self.tree.groups[h].exit;
        self.tree.tasks_within(h).into_iter().filter(|&t| Some(t) != exit).any(|t| {
            let id = &self.tree.tasks[t].id;
            !replay.tasks.contains(id) || replay.cancelled.contains(id)
        })
    }

    /// Whether `child` ended before the run was stopped, or holds a task that did.
    pub(super) fn replays(&self, child: crate::plan::tree::InstChild) -> bool {
        let Some(replay) = &self.replay else { return false };
        match child {
            crate::plan::Child::Task(t) => replay.tasks.contains(&self.tree.tasks[t].id),
            crate::plan::Child::Group(h) => replay.groups.contains(&self.tree.groups[h].id),
        }
    }

    /// The loops entered since the last call: each loop instance's id and how many task
    /// instances its iterations hold (a nested loop's count only once it is entered itself).
    pub(crate) fn take_entered(&mut self) -> Vec<String> {
        std::mem::take(&mut self.entered).into_iter().map(|h| self.tree.groups[h].id.clone()).collect()
    }

    /// The loops entered since the last call: each loop instance's id and how many task
    /// instances its iterations hold (see [`Scheduler::take_expansions`]).
    pub(crate) fn take_expansions(&mut self) -> Vec<(String, usize)> {
        if self.expansions.is_empty() {
            return Vec::new();
        }
        std::mem::take(&mut self.expansions).into_iter().map(|(h, n)| (self.tree.groups[h].id.clone(), n)).collect()
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

    /// Whether `child` (a task, or a sub-pipeline's group) ran, or was meant to, and did not
    /// succeed: not a branch not taken (its skip is `condition_false`), nor one still waiting.
    pub(crate) fn went_wrong(&self, child: crate::plan::tree::InstChild) -> bool {
        let not_taken = |skip: &Skip| skip.reason == SkipReason::ConditionFalse;
        match child {
            crate::plan::Child::Task(t) => match &self.tasks[t] {
                TaskStatus::Failed(_) | TaskStatus::Cancelled(_) => true,
                TaskStatus::Skipped(skip) => !not_taken(skip),
                _ => false,
            },
            crate::plan::Child::Group(g) => match &self.groups[g] {
                GroupStatus::Finished(state) => *state != RunState::Succeeded,
                GroupStatus::Skipped(skip) => !not_taken(skip),
                _ => false,
            },
        }
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
        if std::mem::take(&mut self.panic_next) {
            panic!("injected panic in the scheduler's pass");
        }
        loop {
            self.changed = false;
            self.full = false;
            if let Some(t) = self.visit(GroupInstIdx::ROOT, oracle) {
                return Some(t);
            }
            if !self.changed || self.full {
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

    /// Starts ready task `t` if the run's budgets admit it; else ends the pass (`full`).
    fn start_admitted(&mut self, t: TaskInstIdx, oracle: &mut dyn Oracle) -> Visit {
        if oracle.admits(&self.plan, &self.tree, t) {
            self.start(t)
        } else {
            self.full = true;
            Visit::Pending
        }
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
        crate::faults::panic_point("scheduler-finish", &self.tree.tasks[t].id);
        self.panic_next |= crate::faults::armed("scheduler-next", &self.tree.tasks[t].id);
        debug_assert_eq!(self.tasks[t], TaskStatus::Running);
        self.count_running(t, false);
        match result {
            Ok(()) => self.tasks[t] = TaskStatus::Succeeded,
            Err(failure) if failure.kind == FailureKind::Cancelled => {
                self.tasks[t] = TaskStatus::Cancelled(Box::new(failure));
            }
            Err(failure) => {
                self.tasks[t] = TaskStatus::Failed(Box::new(failure));
                // A failed exit task fails its group, which stops its parent when it finishes.
                if !self.spec(t).is_exit {
                    self.stop(self.tree.tasks[t].group, self.tree.tasks[t].id.clone());
                }
            }
        }
    }

    /// Stops the start of new children of group `g` after a failure among them (`cause`), if
    /// `g` fails fast (`docs/semantics.md`, rule 9); other groups go on.
    /// Records that task `t` failed with `failure` when [`Scheduler::finish`] itself failed (a
    /// bug in wasmpipe, caught by the runner): whatever `finish` did before it failed, the task
    /// ends failed, no longer counted running.
    pub(crate) fn force_fail(&mut self, t: TaskInstIdx, failure: Failure) {
        if self.tasks[t] == TaskStatus::Running {
            self.count_running(t, false);
        }
        let is_exit = self.spec(t).is_exit;
        self.tasks[t] = TaskStatus::Failed(Box::new(failure));
        if !is_exit {
            self.stop(self.tree.tasks[t].group, self.tree.tasks[t].id.clone());
        }
    }

    fn stop(&mut self, g: GroupInstIdx, cause: String) {
        if self.template(g).fail_fast {
            self.stopped[g].get_or_insert(cause);
        }
    }

    /// Whether the run is over: the pipeline's body has finished.
    #[cfg(test)]
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.groups[GroupInstIdx::ROOT], GroupStatus::Finished(_))
    }

    /// The run's state: cancelled if a cancellation arrived before it finished, else failed if
    /// any task failed, else succeeded. Derived from every task as well as from the pipeline's
    /// group, so that a run that ended early (its workers failed, a bug) with a failed task deep
    /// in an unfinished group, or with tasks that never got to a state, is never `succeeded`.
    pub(crate) fn run_state(&self) -> RunState {
        let group = match &self.groups[GroupInstIdx::ROOT] {
            GroupStatus::Finished(state) => *state,
            _ => self.body_state(GroupInstIdx::ROOT),
        };
        // The instances of the record: placeholders that a loop's expansion replaced are not.
        let failed_or_unfinished = self
            .tree
            .tasks_within(GroupInstIdx::ROOT)
            .into_iter()
            .any(|t| matches!(self.tasks[t], TaskStatus::Failed(_) | TaskStatus::Waiting | TaskStatus::Running));
        match group {
            RunState::Succeeded if failed_or_unfinished => RunState::Failed,
            state => state,
        }
    }
}

#[cfg(test)]
mod tests;
