//! The run the workers share ([`Shared`]: the state under one lock, the condition variable
//! idle workers sleep on, the generation spinning workers watch) and the workers themselves:
//! each takes the lock, concludes the task it ran, picks the next, and runs its attempts with
//! the lock released, until the run is over.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use futures_util::FutureExt;

use super::state::{Finished, Outcome, Share, State, Work, record_of};
use crate::model::outcome::{Failure, FailureKind};
use crate::plan::TaskInstIdx;
use crate::run::job::with_granted_contents;
use crate::run::{RunCtx, internal};

/// How long a worker with nothing to do watches for work before it sleeps.
const SPIN: Duration = Duration::from_micros(100);

/// What the workers and the coordinator share.
pub(super) struct Shared {
    pub(super) ctx: RunCtx,
    pub(super) state: Mutex<State>,
    /// Idle workers wait here for work.
    pub(super) wake: Condvar,
    /// Tells the coordinator that the run is over.
    pub(super) over: Notify,
    /// Counts changes under the lock that may let a waiting worker go on; spinning workers
    /// watch it.
    pub(super) generation: AtomicU64,
    /// Tells the coordinator that the last worker has left (apart, so that the last worker
    /// can say so after it has let go of the rest).
    pub(super) exited: Arc<Notify>,
}

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        // A worker that panicked has had its task concluded (see `Leave`); the state is whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records what the calling worker has just run, then finds its next task: handed off by
    /// another worker, or the scheduler's next ready one. Waits while nothing is ready but
    /// tasks still run; None when the run is over. Also says whether the caller must start
    /// another worker for a task it handed off.
    pub(super) fn next(&self, finished: Option<Finished>) -> Option<(Work, bool)> {
        let mut state = self.lock_finishing(finished);
        loop {
            match self.step(&mut state, true) {
                Step::Work(work, share) => return Some((work, share == Share::Start)),
                Step::Over => return None,
                Step::Wait => {
                    let seen;
                    (state, seen) = self.spin_idle(state);
                    // Every change happens under the lock: none since `seen` means none to miss.
                    if self.generation.load(Ordering::Acquire) == seen {
                        state = self.wake.wait(state).unwrap_or_else(PoisonError::into_inner);
                    }
                    state.idle -= 1;
                }
            }
        }
    }

    /// Takes the lock and publishes what the calling worker has just run.
    pub(super) fn lock_finishing(&self, finished: Option<Finished>) -> MutexGuard<'_, State> {
        let mut state = self.lock();
        if let Some(finished) = finished {
            state.finish(finished);
            self.changed();
        }
        state
    }

    /// Counts the caller idle (so that work is handed to it), lets go of the lock for up to
    /// [`SPIN`] while it watches for a change, and takes the lock again. Returns the generation
    /// it watched from; the caller uncounts itself.
    pub(super) fn spin_idle<'a>(&'a self, mut state: MutexGuard<'a, State>) -> (MutexGuard<'a, State>, u64) {
        state.idle += 1;
        let seen = self.generation.load(Ordering::Acquire);
        drop(state);
        self.spin(seen);
        (self.lock(), seen)
    }

    /// Marks a change that may let a waiting worker go on (a task finished or was handed off,
    /// an interrupt, the end of the run). Called under the lock.
    pub(super) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Waits up to [`SPIN`] for a change after `seen`, without sleeping: waking a sleeping
    /// thread costs tens of microseconds, several tasks' worth.
    pub(super) fn spin(&self, seen: u64) {
        let until = Instant::now() + SPIN;
        loop {
            for _ in 0..64 {
                if self.generation.load(Ordering::Acquire) != seen {
                    return;
                }
                std::hint::spin_loop();
            }
            if Instant::now() >= until {
                return;
            }
        }
    }

    /// [`Shared::next`] for the coordinator's own turn as a worker, which never waits: when
    /// nothing is ready it retires from the pool (the workers running the live tasks go on).
    /// It starts no worker itself: [`Share::Later`] says that one is wanted.
    pub(super) fn next_inline(&self, finished: Option<Finished>) -> Option<(Work, Share)> {
        let mut state = self.lock_finishing(finished);
        let mut spun = false;
        loop {
            match self.step(&mut state, false) {
                Step::Work(work, share) => return Some((work, share)),
                Step::Over => {
                    state.workers -= 1;
                    return None;
                }
                Step::Wait if spun => {
                    state.workers -= 1;
                    debug_assert!(state.workers > 0, "live tasks have workers");
                    return None;
                }
                // The task another worker runs may be short and make more ready: wait for it a
                // moment, counted idle so that work is handed to this worker.
                Step::Wait => {
                    (state, _) = self.spin_idle(state);
                    state.idle -= 1;
                    spun = true;
                }
            }
        }
    }

    /// Starts a worker for a task handed off and still waiting (or for the next ready one),
    /// while a worker may still start: the caller's task does this when ready work has waited
    /// [`HELPER_AFTER`](super::HELPER_AFTER) for it.
    pub(super) fn start_helper(self: &Arc<Self>) {
        let start = {
            let mut state = self.lock();
            if state.over {
                false
            } else if state.handoff.len() > state.idle && state.workers < self.ctx.options.jobs {
                state.workers += 1;
                true
            } else {
                self.share(&mut state, true) == Share::Start
            }
        };
        if start {
            spawn_worker(self);
        }
    }

    /// [`State::share`], and a change for spinning workers to see when work waits hand-off.
    pub(super) fn share(&self, state: &mut State, may_start: bool) -> Share {
        let share = state.share(&self.ctx, &self.wake, may_start);
        if !state.handoff.is_empty() {
            self.changed();
        }
        share
    }

    /// What a free worker does next: a task (handed off, or the scheduler's next ready one),
    /// wait (tasks still run, none is ready), or leave (the run is over). `may_start`: whether
    /// the worker may start another worker for a task it hands off.
    pub(super) fn step(&self, state: &mut State, may_start: bool) -> Step {
        if state.over {
            return Step::Over;
        }
        if let Some(work) = state.take_handoff().or_else(|| state.start_next(&self.ctx)) {
            return Step::Work(work, self.share(state, may_start));
        }
        if state.live.is_empty() {
            state.over = true;
            self.changed();
            self.wake.notify_all();
            self.over.notify_one();
            return Step::Over;
        }
        Step::Wait
    }
}

/// What a free worker does next (see [`Shared::step`]). Lives on the stack for a moment:
/// boxing the work would cost an allocation per task.
#[allow(clippy::large_enum_variant)]
pub(super) enum Step {
    /// Run this task, and share the work as [`Share`] says.
    Work(Work, Share),
    Wait,
    Over,
}

/// Starts a worker (counted in `workers` by the caller) on a thread kept from an earlier run,
/// or on a new one. Without a thread it is counted out again: the task handed off for it
/// waits for the next worker that is free.
pub(super) fn spawn_worker(shared: &Arc<Shared>) {
    let worker = shared.clone();
    if crate::run::threads::run(Box::new(move |runtime| work(worker, runtime))).is_err() {
        shared.lock().workers -= 1;
    }
}

/// A worker: takes tasks and runs their attempts on its thread's runtime until the run is over.
pub(super) fn work(shared: Arc<Shared>, runtime: &tokio::runtime::Runtime) {
    let mut leave = Leave { shared: Some(shared), current: None };
    let mut finished = None;
    while let Some((work, spawn)) = leave.shared().next(finished.take()) {
        if spawn {
            spawn_worker(leave.shared());
        }
        leave.current = Some(work.t);
        finished = Some(runtime.block_on(run_work_caught(&leave.shared().ctx, work)));
        leave.current = None;
    }
}

/// [`run_work`], with a panic caught: the task fails with kind `internal` and the worker goes
/// on with the run.
pub(super) async fn run_work_caught(ctx: &super::RunCtx, work: Work) -> Finished {
    let t = work.t;
    match AssertUnwindSafe(run_work(ctx, work)).catch_unwind().await {
        Ok(finished) => finished,
        Err(panic) => Finished { t, outcome: Outcome::Panicked(internal::failure("running the task", &*panic)) },
    }
}

/// Runs a task's attempts, unless an interrupt ends it first; stores its outputs in the
/// output cache when it succeeded and caching is on for it.
async fn run_work(ctx: &super::RunCtx, work: Work) -> Finished {
    let Work { t, template, started, job, cache_key, abort } = work;
    let cache_key = cache_key.and_then(|(key, artifacts)| Some((with_granted_contents(key, &job.grants)?, artifacts)));
    // A task whose outputs are in the output cache does not run (artifacts are restored).
    if let (Some(disk), Some((key, artifacts))) = (&ctx.disk, &cache_key)
        && let Some(outputs) = disk.outputs(key, &job.run_root, &job.task_id, artifacts)
    {
        // Restored artifacts are kept by the run like made ones: they count against its budget.
        ctx.spent.keep_artifacts_of(&outputs);
        let result = Ok(outputs);
        let record = record_of(&job.task_id, &ctx.prepared.plan.tasks[template], started, &result, true);
        return Finished { t, outcome: Outcome::Ran(result, record) };
    }
    let attempts = async {
        let result = job.run().await;
        crate::faults::panic_point("attempt", &job.task_id);
        result
    };
    let result = tokio::select! {
        biased;
        _ = abort => None,
        result = attempts => Some(result),
    };
    let Some(result) = result else {
        return Finished { t, outcome: Outcome::Interrupted };
    };
    if let (Some(disk), Some((key, artifacts)), Ok(outputs)) = (&ctx.disk, &cache_key, &result) {
        disk.store_outputs(key, outputs, &job.run_root, artifacts);
    }
    crate::faults::panic_point("record", &job.task_id);
    let record = record_of(&job.task_id, &ctx.prepared.plan.tasks[template], started, &result, false);
    Finished { t, outcome: Outcome::Ran(result, record) }
}

/// Leaves the pool when a worker ends, however it ends: a worker that panicked outside a task's
/// attempts (in the pool itself) fails the task it was running (kind `internal`), so that the
/// run still ends and its record is whole.
pub(super) struct Leave {
    /// The worker's only handle on the run (taken when it leaves).
    pub(super) shared: Option<Arc<Shared>>,
    pub(super) current: Option<TaskInstIdx>,
}

impl Leave {
    pub(super) fn shared(&self) -> &Arc<Shared> {
        self.shared.as_ref().expect("taken only when the worker leaves")
    }
}

impl Drop for Leave {
    fn drop(&mut self) {
        let shared = self.shared.take().expect("left once");
        let last = {
            let mut state = shared.lock();
            if let Some(t) = self.current
                && let Some(live) = state.live.remove(&t)
            {
                let failure = Failure::new(
                    FailureKind::Internal,
                    "wasmpipe's worker running this task failed; this is a bug in wasmpipe (please report it)",
                );
                state.conclude(live.started, Err(failure), t);
                shared.changed();
                shared.wake.notify_all();
            }
            state.workers -= 1;
            if state.workers == 0 && !state.over {
                // No worker is left to finish the run (each one failed): end it as it stands.
                state.over = true;
                shared.changed();
                shared.over.notify_one();
            }
            state.workers == 0
        };
        let exited = shared.exited.clone();
        drop(shared);
        if last {
            exited.notify_one();
        }
    }
}
