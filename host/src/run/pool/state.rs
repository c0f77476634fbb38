//! The run's mutable state under the pool's lock: the scheduler, the outputs tasks read, the
//! tasks handed out and handed off, progress for the observer; how a task is started (inputs
//! bound, a job made), handed to another worker, concluded and published.

use std::collections::{BTreeMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Condvar, PoisonError};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::model::outcome::{Failure, SkipReason};
use crate::plan::scheduler::{Interruption, Scheduler};
use crate::plan::{Idx, IdxVec, PlanTask, TaskIdx, TaskInstIdx};
use crate::record::{Attempt, TaskRecord, now, rfc3339_micros};
use crate::run::bind::{Outputs, RunOracle};
use crate::run::cancel::{Interrupt, Interrupts};
use crate::run::internal;
use crate::run::quotas::{self, Reservation};
use crate::run::stop::Stop;
use crate::run::task_store::TaskBrief;
use crate::run::{Job, RunCtx, Started, TaskResult, prepare_task, task_record};

/// What a worker that has just picked a task does for the ready work beyond it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Share {
    /// Nothing: no more work, it went to an idle worker, or no more workers may start.
    No,
    /// Start a worker for the task it has handed off.
    Start,
    /// It has handed off a task, but may not start a worker for it now (the caller's task):
    /// the first worker free takes it.
    Later,
}

/// The run's mutable state: the scheduler, the outputs tasks read, and the tasks handed out.
pub(super) struct State {
    pub(super) scheduler: Scheduler,
    pub(super) outputs: Outputs,
    /// Per task template: whether anything reads its outputs (only those are kept in `outputs`).
    pub(super) read: IdxVec<TaskIdx, bool>,
    /// Tasks handed to a worker (running, or waiting in `handoff`), by instance.
    pub(super) live: BTreeMap<TaskInstIdx, Live>,
    /// Tasks picked for a worker that has not taken them yet.
    pub(super) handoff: VecDeque<Work>,
    /// Progress not yet handed to the observer, in order.
    pub(super) notes: Vec<Note>,
    pub(super) stop: Stop,
    /// Worker threads started and not yet left.
    pub(super) workers: usize,
    /// Workers waiting for work.
    pub(super) idle: usize,
    /// Set when nothing runs and nothing can start: workers leave.
    pub(super) over: bool,
    /// Panics of the scheduler so far (each one a bug; see [`State::next_ready`]).
    pub(super) scheduler_panics: u32,
}

/// A task handed to a worker: how it started, and the sender whose drop ends its attempt.
pub(super) struct Live {
    pub(super) started: Started,
    /// What it holds of the run's budgets until it ends.
    pub(super) reserved: Reservation,
    pub(super) _abort: oneshot::Sender<()>,
}

/// A task for a worker to run.
pub(super) struct Work {
    pub(super) t: TaskInstIdx,
    /// The task's template in the plan.
    pub(super) template: TaskIdx,
    /// How the task started (the live entry holds the same), for its record.
    pub(super) started: Started,
    pub(super) job: Box<Job>,
    /// The output-cache key to store the outputs under, and the names of the artifact outputs.
    pub(super) cache_key: Option<(String, Vec<String>)>,
    /// Resolves when the task was ended from outside (an interrupt): drop the attempt.
    pub(super) abort: oneshot::Receiver<()>,
}

/// What a worker ran.
pub(super) struct Finished {
    pub(super) t: TaskInstIdx,
    pub(super) outcome: Outcome,
}

/// How a worker's turn with a task ended.
pub(super) enum Outcome {
    /// The task's result and its record (built with the lock released).
    Ran(TaskResult, Box<TaskRecord>),
    /// An interrupt ended the task first, and concluded it.
    Interrupted,
    /// The worker panicked (a bug in wasmpipe): the task fails with kind `internal`.
    Panicked(Failure),
}

/// Progress for the observer.
pub(super) enum Note {
    LoopEntered(String, usize),
    GroupEntered(String),
    Started(String),
    /// A task ended.
    Finished {
        t: TaskInstIdx,
        record: Box<TaskRecord>,
    },
    /// A resumed run concluded task `id` from its journal, which has its record on `line`
    /// (start and length): read again when it is delivered, so that a resume concluding
    /// thousands of tasks at once never holds their records.
    Replayed {
        t: TaskInstIdx,
        id: String,
        line: (u64, usize),
        brief: TaskBrief,
    },
}

impl State {
    /// A task another worker picked for this one, unless an interrupt has ended it since.
    pub(super) fn take_handoff(&mut self) -> Option<Work> {
        while let Some(work) = self.handoff.pop_front() {
            if self.live.contains_key(&work.t) {
                return Some(work);
            }
        }
        None
    }

    /// Starts the scheduler's next ready task, within `jobs`: binds its inputs and returns the
    /// work to run. A task that cannot run (its component does not load, an input is missing)
    /// or whose outputs come from the cache is concluded here, and the next one is tried.
    pub(super) fn start_next(&mut self, ctx: &RunCtx) -> Option<Work> {
        loop {
            if self.live.len() >= ctx.options.jobs.max(1) {
                return None;
            }
            let t = self.next_ready(ctx)?;
            let tree = self.scheduler.tree();
            self.outputs.resize(tree.tasks.len(), None);
            // A resumed run: a task whose end reached the journal ends as it did, never runs again.
            if let Some((resume, ended)) =
                ctx.options.resume.as_ref().and_then(|r| Some((r, r.ended.get(&tree.tasks[t].id)?)))
            {
                let internal = |message: String| Failure::new(crate::model::outcome::FailureKind::Internal, message);
                let mut record = match resume.record(&tree.tasks[t].id) {
                    Ok(record) => record,
                    Err(why) => {
                        let started = Started {
                            progress: None,
                            started_at: std::time::SystemTime::now(),
                            final_status: None,
                            logs: Vec::new(),
                        };
                        self.conclude(started, Err(internal(why)), t);
                        continue;
                    }
                };
                // The outputs move to the readers: the record itself is read again from the
                // journal when it is delivered (`Note::Replayed`).
                let result = match (&record.state, &record.failure) {
                    (crate::record::TaskState::Succeeded, _) => {
                        ctx.spent.keep_artifacts_of(&record.outputs);
                        Ok(std::mem::take(&mut record.outputs))
                    }
                    (_, Some(failure)) => Err(failure.clone()),
                    (state, None) => Err(internal(format!(
                        "the journal records task `{}` as {state:?} without its failure",
                        record.id
                    ))),
                };
                self.publish(t, result, Box::new(record), Some(ended.line));
                continue;
            }
            self.notes.push(Note::Started(tree.tasks[t].id.clone()));
            let final_status = self.scheduler.spec(t).is_exit.then(|| self.scheduler.final_status(t, &ctx.run_id));
            let started_at = std::time::SystemTime::now();
            let prepared =
                catch_unwind(AssertUnwindSafe(|| prepare_task(ctx, tree, t, &self.outputs, final_status.as_ref())));
            let (start, logs) = prepared
                .unwrap_or_else(|panic| (Err(internal::failure("getting the task ready", &*panic)), Vec::new()));
            let mut started = Started { progress: None, started_at, final_status, logs };
            match start {
                Ok((mut job, cache_key)) => {
                    started.progress = Some(job.progress.clone());
                    // A resumed run: the attempt the stop cut short comes first in the record;
                    // it counts neither against retries nor in the attempt number the guest sees.
                    if let Some((from, to)) =
                        ctx.options.resume.as_ref().and_then(|r| r.interrupted.get(&tree.tasks[t].id))
                    {
                        let failure = Failure::new(
                            crate::model::outcome::FailureKind::Interrupted,
                            "the run stopped while this attempt ran; the task ran again when the run was resumed",
                        );
                        let attempt = crate::record::Attempt {
                            started_at: from.clone(),
                            finished_at: to.clone(),
                            failure: Some(failure),
                        };
                        job.progress.lock().unwrap_or_else(PoisonError::into_inner).attempts.push(attempt);
                    }
                    let cache_key =
                        cache_key.map(|key| (key, job.artifact_outputs.iter().map(|o| o.name.clone()).collect()));
                    let (abort_sender, abort) = oneshot::channel();
                    let template = tree.tasks[t].template;
                    let reserved = self.reserve(ctx, template, &mut job);
                    self.live.insert(t, Live { started: started.clone(), reserved, _abort: abort_sender });
                    return Some(Work { t, template, started, job, cache_key, abort });
                }
                Err(failure) => self.conclude(started, Err(failure), t),
            }
        }
    }

    /// After a worker picked its task: if one more is ready and a worker could take it (an
    /// idle one, or one not started yet), picks it and hands it off; a worker is started for
    /// it only when `may_start`.
    pub(super) fn share(&mut self, ctx: &RunCtx, wake: &Condvar, may_start: bool) -> Share {
        let waiting = self.handoff.len();
        let idle = self.idle > waiting;
        if !idle && self.workers >= ctx.options.jobs {
            return Share::No;
        }
        let Some(work) = self.start_next(ctx) else {
            return Share::No;
        };
        // Picked now either way: it has started, as a free worker would have started it (fail
        // fast leaves it to finish). Without a worker to start, the first worker free takes it.
        self.handoff.push_back(work);
        if !idle && !may_start {
            return Share::Later;
        }
        if idle {
            wake.notify_one();
            return Share::No;
        }
        self.workers += 1;
        Share::Start
    }

    /// What task `template`, about to start as `job`, holds of the run's budgets. When the
    /// artifact budget has less left than its artifact limit (it was admitted because nothing
    /// else ran), its limit is lowered to what is left, and its failure will say why.
    fn reserve(&self, ctx: &RunCtx, template: TaskIdx, job: &mut Job) -> Reservation {
        let task = &ctx.prepared.plan.tasks[template];
        let mut reserved =
            quotas::reservation(task, ctx.prepared.tasks[template.index()].component.as_deref().ok(), &ctx.options);
        if let Some(budget) = ctx.options.quotas.artifacts
            && reserved.artifacts > 0
        {
            let others: u64 = self.live.values().map(|l| l.reserved.artifacts).sum();
            let left = budget.saturating_sub(others.saturating_add(ctx.spent.artifacts_kept()));
            if left < job.limits.artifacts {
                job.artifact_budget_note = Some(format!(
                    "the run's artifact budget of {budget} bytes had {left} bytes left for this task, less than its `artifact_limit` of {} bytes",
                    job.limits.artifacts
                ));
                job.limits.artifacts = left;
                reserved.artifacts = left;
            }
        }
        reserved
    }

    /// The scheduler's next ready task. A panic in the scheduler (a bug) cannot be pinned on a
    /// task: the first one stops new body tasks as an interruption does (groups end `failed`,
    /// exit tasks of entered groups still run), a second one aborts (nothing starts any more),
    /// and after that nothing is asked of the scheduler: the run ends with what it has.
    fn next_ready(&mut self, ctx: &RunCtx) -> Option<TaskInstIdx> {
        if self.scheduler_panics >= 3 {
            return None;
        }
        let reserved = self.live.values().fold(Reservation::default(), |sum, live| sum + live.reserved);
        let mut oracle = RunOracle {
            prepared: &ctx.prepared,
            outputs: &self.outputs,
            options: &ctx.options,
            reserved,
            kept: ctx.spent.artifacts_kept(),
        };
        let next = catch_unwind(AssertUnwindSafe(|| self.scheduler.next_ready_with(&mut oracle)));
        for (id, tasks) in self.scheduler.take_expansions() {
            self.notes.push(Note::LoopEntered(id, tasks));
        }
        for id in self.scheduler.take_entered() {
            self.notes.push(Note::GroupEntered(id));
        }
        match next {
            Ok(next) => next,
            Err(panic) => {
                self.scheduler_panics += 1;
                let cause = format!("internal error: {}", internal::panic_message(&*panic));
                match self.scheduler_panics {
                    1 => self.scheduler.interrupt(Interruption::Internal, &cause),
                    2 => self.scheduler.abort(SkipReason::Aborted, &cause),
                    _ => return None,
                }
                self.next_ready(ctx)
            }
        }
    }

    /// Publishes what a worker ran (its record is built already), unless an interrupt
    /// concluded the task first; a worker that panicked fails its task with kind `internal`.
    pub(super) fn finish(&mut self, finished: Finished) {
        let Finished { t, outcome } = finished;
        match outcome {
            Outcome::Ran(result, record) => {
                if self.live.remove(&t).is_some() {
                    self.publish(t, result, record, None);
                }
            }
            Outcome::Interrupted => {}
            Outcome::Panicked(failure) => {
                if let Some(live) = self.live.remove(&t) {
                    self.conclude(live.started, Err(failure), t);
                }
            }
        }
    }

    /// Records how task `t` ended, here under the lock (a task that could not run, or one an
    /// interrupt ends).
    pub(super) fn conclude(&mut self, started: Started, result: TaskResult, t: TaskInstIdx) {
        let record = record_of(&self.scheduler.tree().tasks[t].id, self.scheduler.spec(t), started, &result, false);
        self.publish(t, result, record, None);
    }

    /// Publishes how task `t` ended: its record for the observer and the run record, its
    /// outputs for its readers, its end for the scheduler (`journaled`: a resumed run concludes
    /// it from its journal, which has its end on this line).
    /// A panic in the scheduler while it records the end fails the task with kind `internal`.
    pub(super) fn publish(
        &mut self,
        t: TaskInstIdx,
        result: TaskResult,
        mut record: Box<TaskRecord>,
        journaled: Option<(u64, usize)>,
    ) {
        let end = result.as_ref().map(|_| ()).map_err(Failure::clone);
        let finished = catch_unwind(AssertUnwindSafe(|| self.scheduler.finish(t, end)));
        // A record the journal has, unchanged: the note says where it is.
        let journaled = journaled.filter(|_| finished.is_ok());
        match (finished, result) {
            (Ok(()), Ok(values)) if self.read[self.scheduler.tree().tasks[t].template] => {
                self.outputs[t] = Some(Box::new(values))
            }
            (Ok(()), _) => {}
            (Err(panic), _) => {
                let failure = internal::failure("recording the end of the task", &*panic);
                self.scheduler.force_fail(t, failure.clone());
                record.fail(failure);
            }
        }
        match journaled {
            Some(line) => {
                let brief = TaskBrief::of(&record);
                self.notes.push(Note::Replayed { t, id: std::mem::take(&mut record.id), line, brief });
            }
            None => self.notes.push(Note::Finished { t, record }),
        }
    }

    /// Applies an interrupt: to the scheduler, to the record, and to the live tasks it ends
    /// (body tasks at a cancellation or the deadline, every task at an abort), whose attempts
    /// are dropped by their workers. Returns the message for the observer.
    pub(super) fn interrupt(
        &mut self,
        event: &Interrupt,
        interrupts: &Interrupts,
        deadline: Option<Duration>,
    ) -> String {
        let message = self.stop.apply(event, &mut self.scheduler, interrupts, deadline);
        // A task whose attempts are over is being recorded by its worker: it stands as it ended.
        let over = |live: &Live| {
            live.started.progress.as_ref().is_some_and(|p| p.lock().unwrap_or_else(PoisonError::into_inner).done)
        };
        let stopped: Vec<(TaskInstIdx, Failure)> = self
            .live
            .iter()
            .filter(|(_, live)| !over(live))
            .filter_map(|(&t, _)| Stop::failure_for(event, self.scheduler.spec(t).is_exit, deadline).map(|f| (t, f)))
            .collect();
        for (t, failure) in stopped {
            let live = self.live.remove(&t).expect("live");
            self.conclude(live.started, Err(failure), t);
        }
        message
    }
}

/// The record of task `id` from how it started and how it ended: its attempts so far (one still
/// running ends with the task's failure), or, for a task that never got to run, one attempt
/// from when it was handed out. A worker builds it with the run's lock released: marking the
/// task's progress done first means an interrupt from now on leaves the task as it ended (one
/// that came before has taken the attempts and concluded the task; this record is dropped).
pub(super) fn record_of(
    id: &str,
    spec: &PlanTask,
    started: Started,
    result: &TaskResult,
    cached: bool,
) -> Box<TaskRecord> {
    let mut logs = started.logs;
    let failure = result.as_ref().err().cloned();
    let attempts = match &started.progress {
        Some(progress) => {
            let mut progress = progress.lock().unwrap_or_else(PoisonError::into_inner);
            progress.done = true;
            let mut attempts = std::mem::take(&mut progress.attempts);
            logs.append(&mut progress.logs);
            if let Some((started_at, capture)) = progress.current.take() {
                attempts.push(Attempt { started_at, finished_at: now(), failure });
                logs.extend(capture.lines());
            }
            attempts
        }
        None => vec![Attempt { started_at: rfc3339_micros(started.started_at), finished_at: now(), failure }],
    };
    let mut record = task_record(id, spec, attempts, result, logs, started.final_status);
    record.cached = cached;
    Box::new(record)
}
