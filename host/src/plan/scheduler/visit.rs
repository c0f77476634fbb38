//! The scheduling rules as visits of the tree: a visit of a group starts the first task of its
//! body that may start (its upstream siblings succeeded, its loop has a free slot, its branch
//! was taken), else its exit task once the body is terminal, else records how the group ended.

use super::{GroupStatus, Oracle, Scheduler, TaskStatus};
use crate::model::outcome::{Failure, FailureKind, RunState, Skip, SkipReason};
use crate::plan::tree::InstChild;
use crate::plan::{Child, GroupInstIdx, OneOfWait, TaskInstIdx};

/// No sibling, in [`Scheduler`]'s `blocked_by`.
pub(super) const NONE: u32 = u32::MAX;

/// What a visit of a child, a body or an exit task found.
pub(super) enum Visit {
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
    /// Visits group instance `g`: starts the first task of its body that may start, else its
    /// exit task once the body is done, else records how the group ended once everything in it
    /// is terminal.
    pub(super) fn visit(&mut self, g: GroupInstIdx, oracle: &mut dyn Oracle) -> Option<TaskInstIdx> {
        let visit = match self.visit_body(g, oracle) {
            Visit::Settled => self.visit_exit(g, oracle),
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
                Child::Task(t) => self.visit_task(g, pos, t, oracle),
                Child::Group(h) => self.visit_group(g, pos, h, oracle),
            };
            if self.full {
                // A ready task waits for room in the run's budgets: none after it starts first.
                return Visit::Pending;
            }
            match visit {
                Visit::Start(t) => return Visit::Start(t),
                Visit::Pending => body = Visit::Pending,
                Visit::Settled => {}
            }
        }
        body
    }

    /// Visits body task `t`, the child at `pos` of `g`: starts it, skips it, or finds it waiting.
    fn visit_task(&mut self, g: GroupInstIdx, pos: usize, t: TaskInstIdx, oracle: &mut dyn Oracle) -> Visit {
        match self.tasks[t] {
            TaskStatus::Waiting => match self.readiness(g, pos) {
                Readiness::Ready if self.room(g) => self.start_admitted(t, oracle),
                Readiness::Ready | Readiness::Blocked => Visit::Pending,
                Readiness::BlockedOn(d) => {
                    self.blocked_by[g][pos] = d as u32;
                    Visit::Pending
                }
                Readiness::Skip(skip) => {
                    self.tasks[t] = TaskStatus::Skipped(Box::new(skip));
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
    fn visit_exit(&mut self, g: GroupInstIdx, oracle: &mut dyn Oracle) -> Visit {
        let Some(exit) = self.tree.groups[g].exit else { return Visit::Settled };
        match self.tasks[exit] {
            TaskStatus::Waiting if self.aborted.is_some() => {
                self.tasks[exit] = TaskStatus::Skipped(Box::new(self.aborted.clone().expect("checked")));
                Visit::Settled
            }
            TaskStatus::Waiting if self.room(g) => self.start_admitted(exit, oracle),
            TaskStatus::Waiting | TaskStatus::Running => Visit::Pending,
            _ => Visit::Settled,
        }
    }

    /// Whether the child at `pos` of group `g` is still waiting for the sibling it was last
    /// found blocked by.
    fn still_blocked(&self, g: GroupInstIdx, pos: usize) -> bool {
        let d = self.blocked_by[g][pos];
        d != NONE && !self.terminal(self.tree.groups[g].children[d as usize])
    }

    /// Enters group `h`, a child of `g` whose upstream is done: a branch whose condition does
    /// not hold is skipped, a loop expands into its iterations, a pipeline's call of itself
    /// makes the level below it (or, past its `max_depth`, fails its tasks).
    fn enter(&mut self, g: GroupInstIdx, h: GroupInstIdx, oracle: &mut dyn Oracle) {
        let conditional = self.template(h).branch.as_ref().is_some_and(|b| b.condition.is_some());
        if conditional {
            match oracle.condition(&self.plan, &self.tree, h) {
                Ok(true) => {}
                Ok(false) => {
                    let cause = self.tree.groups[h].id.clone();
                    self.skip_group(h, Skip { reason: SkipReason::ConditionFalse, cause });
                    return;
                }
                Err(message) => self.fail_unentered(h, "the condition of", Failure::new(FailureKind::Input, message)),
            }
        }
        if self.template(h).looping.is_some() {
            match oracle.items(&self.plan, &self.tree, h) {
                Ok(items) => {
                    let before = self.tree.tasks.len();
                    self.tree.expand(&self.plan, h, items);
                    // Inner loops' tasks stand in once, as `*`, until those loops are entered.
                    let made =
                        self.tree.tasks.iter().skip(before).filter(|t| !t.id.split('/').any(|p| p == "*")).count();
                    self.expansions.push((h, made));
                    self.grow();
                }
                Err(failure) => self.fail_unentered(h, "the items of loop", failure),
            }
        }
        if let Some(call) = self.template(h).sub.as_ref().and_then(|s| s.recursion.as_ref()) {
            let beyond = call.beyond.clone();
            self.tree.fill_calls(&self.plan, h);
            self.grow();
            if let Some(message) = beyond {
                self.fail_unentered(h, "the call", Failure::new(FailureKind::Input, message));
            }
        }
        if self.template(g).looping.is_some() {
            self.active[g] += 1;
        }
        if self.tree.groups[h].exit.is_some() {
            self.entered.push(h);
        }
        // Entered after an interruption: only a resumed run replaying what had started.
        if self.interruption.is_some() {
            self.interrupted[h] = self.interrupted_before(h);
        }
        self.groups[h] = GroupStatus::Running;
        self.changed = true;
    }

    /// Whether a child has reached its final state.
    pub(super) fn terminal(&self, child: InstChild) -> bool {
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
        if let Some((_, cause)) = &self.interruption
            && !self.replays(self.tree.groups[g].children[child_index])
        {
            return Readiness::Skip(Skip { reason: SkipReason::Cancelled, cause: cause.clone() });
        }
        if self.template(g).looping.is_some() {
            return self.iteration_readiness(g, child_index);
        }
        if let Some(decided) = self.branch_readiness(g, child_index) {
            return decided;
        }
        self.upstream_readiness(g, child_index)
    }

    /// An iteration of loop `g` starts when the loop has a free slot (`parallelism`) and no
    /// failure stopped the loop (`fail_fast`).
    fn iteration_readiness(&self, g: GroupInstIdx, child_index: usize) -> Readiness {
        // A resumed run: an iteration that had started before the stop is not stopped by a
        // failure its replay concludes first.
        let replayed = self.replays(self.tree.groups[g].children[child_index]);
        if let Some(cause) = self.stopped[g].as_ref().filter(|_| !replayed) {
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
        let one_of = &self.plan.one_of_waits[self.tree.groups[g].template][child_index];
        if let Child::Task(t) = children[child_index]
            && self.spec(t).ignore_upstream_failure
        {
            let pending =
                deps.iter().chain(one_of.iter().flat_map(|s| &s.siblings)).any(|&d| !self.terminal(children[d]));
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
        for set in one_of {
            match self.one_of_readiness(g, set) {
                Readiness::Ready => {}
                Readiness::BlockedOn(position) => blocked = blocked.or(Some(position)),
                other => return other,
            }
        }
        if let Some(cause) = self.stopped[g].as_ref().filter(|_| !self.replays(children[child_index])) {
            return Readiness::Skip(Skip { reason: SkipReason::FailFast, cause: cause.clone() });
        }
        match blocked {
            Some(d) => Readiness::BlockedOn(d),
            None => Readiness::Ready,
        }
    }

    /// Whether `wait`, siblings in `g` that are the branches of one chain a `one_of` reads, lets
    /// its reader start: once all have ended, when one of them ran and succeeded. A failed one
    /// skips the reader (`upstream_failed`), and so does a chain that was never reached; a chain
    /// whose conditions all were false skips it with `condition_false`, unless the `one_of` has
    /// a fallback (an ordinary dependency of the reader).
    fn one_of_readiness(&self, g: GroupInstIdx, wait: &OneOfWait) -> Readiness {
        let (set, children) = (&wait.siblings[..], &self.tree.groups[g].children);
        if let Some(&pending) = set.iter().find(|&&p| !self.terminal(children[p])) {
            return Readiness::BlockedOn(pending);
        }
        let succeeded = |c: InstChild| match c {
            Child::Task(t) => matches!(self.tasks[t], TaskStatus::Succeeded),
            Child::Group(h) => matches!(self.groups[h], GroupStatus::Finished(RunState::Succeeded)),
        };
        if set.iter().any(|&p| succeeded(children[p])) {
            return Readiness::Ready;
        }
        let not_taken = |c: InstChild| match c {
            Child::Group(h) => {
                matches!(&self.groups[h], GroupStatus::Skipped(skip) if skip.reason == SkipReason::ConditionFalse)
            }
            Child::Task(_) => false,
        };
        match set.iter().find(|&&p| !not_taken(children[p])) {
            None if wait.fallback => Readiness::Ready,
            Some(&p) => Readiness::Skip(Skip {
                reason: SkipReason::UpstreamFailed,
                cause: self.child_id(children[p]).to_string(),
            }),
            None => Readiness::Skip(Skip {
                reason: SkipReason::ConditionFalse,
                cause: self.child_id(children[set[0]]).to_string(),
            }),
        }
    }

    pub(super) fn child_id(&self, child: InstChild) -> &str {
        match child {
            Child::Task(t) => &self.tree.tasks[t].id,
            Child::Group(h) => &self.tree.groups[h].id,
        }
    }
}
