//! The worker pool that runs a pipeline's tasks. Up to `jobs` workers each schedule for
//! themselves: a worker takes the run's lock, records the task it has just run, picks the next
//! ready task and binds its inputs, then runs the attempt with the lock released. No attempt
//! changes thread, and the scheduling work is spread over every worker instead of queueing
//! behind one runner loop.
//!
//! The first worker is the caller's own task ([`drive`]): a run whose tasks come one after
//! another (a chain) never wakes another thread. It runs tasks until it finds none ready while
//! others still run; then it retires and only coordinates. Other workers start lazily, on
//! threads kept between runs (`threads.rs`), each with a single-threaded tokio runtime: only
//! when a worker that has just picked a task finds one more ready and no idle worker to take
//! it. The caller's task starts no worker at once: it picks the extra task all the same (it
//! has started, as far as fail-fast and the observer go) and runs it itself next, unless that
//! task is still waiting [`HELPER_AFTER`] later; then it starts a worker for it. A run of a few
//! short tasks so never pays for a thread, which costs more than its tasks here. Idle workers
//! wait on a condition variable.
//!
//! The coordinator (the caller's task, between and during its own attempts) handles
//! interrupts: a cancellation, the deadline, an abort. It applies them under the lock and ends
//! the live attempts they concern, on whichever worker runs them (each live task holds the
//! sender of a channel its worker races the attempt against). It also hands progress to the
//! observer every [`EVENT_TICK`], in the order it happened, so that workers never wait for the
//! observer.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, oneshot};

use super::bind::{Outputs, RunOracle};
use super::cancel::{Interrupt, Interrupts};
use super::stop::Stop;
use super::{Event, Job, RunCtx, Started, TaskResult, prepare_task, task_record};
use crate::plan::PlanTask;
use crate::plan::scheduler::Scheduler;
use crate::plan::{Idx, IdxVec, TaskIdx, TaskInstIdx};
use crate::record::{Attempt, Failure, FailureKind, TaskRecord, now, rfc3339_micros};

/// The record of every task instance that has ended, as far as they are known.
pub(super) type Records = IdxVec<TaskInstIdx, Option<Box<TaskRecord>>>;

/// How often the coordinator hands progress events to the observer while tasks run.
pub(crate) const EVENT_TICK: Duration = Duration::from_millis(5);

/// How long ready work waits for the caller's task to finish before the caller starts a worker
/// for it. Starting or waking a thread costs 20 to 400 us here (a parked thread, a new one);
/// tasks that keep the caller busy longer than this are worth a second worker.
pub(crate) const HELPER_AFTER: Duration = Duration::from_millis(1);

/// How long a worker with nothing to do watches for work before it sleeps.
const SPIN: Duration = Duration::from_micros(100);

/// What a run leaves when its workers have gone.
pub(super) struct Ended {
    pub(super) scheduler: Scheduler,
    /// Per task instance: the outputs of those that succeeded.
    pub(super) outputs: Outputs,
    /// Per task instance: the records of those that started (boxed: moved, never copied).
    pub(super) records: Records,
    pub(super) stop: Stop,
}

/// Runs the pipeline of `ctx` on a pool of workers until it is over, applying `interrupts` and
/// telling `observe` what happens.
pub(super) async fn drive(
    ctx: RunCtx,
    interrupts: &mut Interrupts,
    observe: &mut (dyn FnMut(Event<'_>) + Send),
) -> Ended {
    let (state, records) = initial_state(&ctx, interrupts, observe);
    let shared = Arc::new(Shared {
        ctx,
        state: Mutex::new(state),
        wake: Condvar::new(),
        over: Notify::new(),
        generation: AtomicU64::new(0),
        exited: Arc::new(Notify::new()),
    });
    let mut tick = tokio::time::interval(EVENT_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut coordinator = Coordinator { shared: &shared, records, observe, interrupts, delivered: Instant::now() };
    work_inline(&shared, &mut coordinator, &mut tick).await;
    coordinator.until_over(&mut tick).await;
    let Coordinator { records, observe, .. } = coordinator;
    conclude(shared, records, observe).await
}

/// The run's state before any task starts, with the interrupts that came before the start
/// applied (a cancellation then applies before any task is picked).
fn initial_state(ctx: &RunCtx, interrupts: &mut Interrupts, observe: &mut dyn FnMut(Event<'_>)) -> (State, Records) {
    let scheduler = Scheduler::new(ctx.prepared.plan.clone());
    let mut state = State {
        outputs: IdxVec::from_elem(None, scheduler.tree().tasks.len()),
        scheduler,
        live: BTreeMap::new(),
        handoff: VecDeque::new(),
        notes: Vec::new(),
        stop: Stop::default(),
        workers: 1,
        idle: 0,
        over: false,
    };
    let mut records = IdxVec::new();
    while let Some(event) = interrupts.poll_now() {
        let message = state.interrupt(&event, interrupts, ctx.deadline);
        observe(Event::Interrupted(&message));
        deliver(std::mem::take(&mut state.notes), &mut records, observe);
    }
    (state, records)
}

/// The caller's task as the first worker: a run whose tasks come one after another (a chain)
/// never wakes another thread. It runs tasks until it finds none ready (others are still
/// running: it retires and only coordinates) or the run is over, and coordinates while its
/// attempts run.
async fn work_inline(shared: &Arc<Shared>, coordinator: &mut Coordinator<'_, '_>, tick: &mut tokio::time::Interval) {
    let mut finished = None;
    // When ready work is left waiting for the caller's task, the time to start a worker for it.
    let helper = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(helper);
    let mut helper_armed = false;
    while let Some((work, share)) = shared.next_inline(finished.take()) {
        if share == Share::Later && !helper_armed {
            helper.as_mut().reset(tokio::time::Instant::now() + HELPER_AFTER);
            helper_armed = true;
        } else if helper_armed && helper.deadline() <= tokio::time::Instant::now() {
            // Short attempts end before the timer is ever polled: looked at between them.
            helper_armed = false;
            shared.start_helper();
        }
        let attempt = run_work(&shared.ctx, work);
        tokio::pin!(attempt);
        // A spinning or sleeping guest yields, at least at every epoch tick: interrupts,
        // progress and the helper's time are seen while it runs.
        let result = loop {
            tokio::select! {
                biased;
                result = &mut attempt => break result,
                _ = &mut helper, if helper_armed => {
                    helper_armed = false;
                    shared.start_helper();
                }
                event = coordinator.interrupts.next() => coordinator.interrupt(event),
                _ = tick.tick() => coordinator.deliver(),
            }
        };
        finished = Some(result);
        while let Some(event) = coordinator.interrupts.poll_now() {
            coordinator.interrupt(event);
        }
        if coordinator.delivered.elapsed() >= EVENT_TICK {
            coordinator.deliver();
        }
    }
}

/// Ends a run whose workers are done: waits for the last worker to leave (workers whose
/// attempts an interrupt ended may still be dropping them, and their artifact directories go
/// with them), then hands the last progress to the observer.
async fn conclude(shared: Arc<Shared>, mut records: Records, observe: &mut (dyn FnMut(Event<'_>) + Send)) -> Ended {
    if shared.lock().workers > 0 {
        shared.exited.clone().notified().await;
    }
    // The other workers let go right after they count themselves out: a few instructions.
    let mut shared = shared;
    let shared = loop {
        match Arc::try_unwrap(shared) {
            Ok(shared) => break shared,
            Err(back) => {
                shared = back;
                std::thread::yield_now();
            }
        }
    };
    let mut state = shared.state.into_inner().unwrap_or_else(PoisonError::into_inner);
    deliver(std::mem::take(&mut state.notes), &mut records, observe);
    Ended { scheduler: state.scheduler, outputs: state.outputs, records, stop: state.stop }
}

/// Hands progress to the observer, and keeps the records of finished tasks.
fn deliver(notes: Vec<Note>, records: &mut Records, observe: &mut dyn FnMut(Event<'_>)) {
    for note in notes {
        match note {
            Note::Started(id) => observe(Event::TaskStarted(&id)),
            Note::Finished(t, record) => {
                observe(Event::TaskFinished(&record));
                if records.len() <= t.index() {
                    records.resize(t.index() + 1, None);
                }
                records[t] = Some(record);
            }
        }
    }
}

/// The coordinator's side of a run: it applies interrupts and hands progress to the observer.
struct Coordinator<'a, 'o> {
    shared: &'a Shared,
    records: Records,
    observe: &'o mut (dyn FnMut(Event<'_>) + Send),
    interrupts: &'a mut Interrupts,
    /// When progress was last handed to the observer.
    delivered: Instant,
}

impl Coordinator<'_, '_> {
    /// Coordinates (interrupts, progress) until the run is over.
    async fn until_over(&mut self, tick: &mut tokio::time::Interval) {
        loop {
            tokio::select! {
                biased;
                _ = self.shared.over.notified() => break,
                event = self.interrupts.next() => self.interrupt(event),
                _ = tick.tick() => self.deliver(),
            }
        }
    }

    /// Applies an interrupt under the lock; the observer hears of it after what came before it
    /// and before the tasks it ended.
    fn interrupt(&mut self, event: Interrupt) {
        let (before, message, after) = {
            let mut state = self.shared.lock();
            let before = std::mem::take(&mut state.notes);
            let message = state.interrupt(&event, self.interrupts, self.shared.ctx.deadline);
            // Exit tasks may be ready now; idle workers look again.
            self.shared.changed();
            self.shared.wake.notify_all();
            (before, message, std::mem::take(&mut state.notes))
        };
        deliver(before, &mut self.records, self.observe);
        (self.observe)(Event::Interrupted(&message));
        deliver(after, &mut self.records, self.observe);
    }

    /// Hands the progress gathered so far to the observer.
    fn deliver(&mut self) {
        let notes = std::mem::take(&mut self.shared.lock().notes);
        deliver(notes, &mut self.records, self.observe);
        self.delivered = Instant::now();
    }
}

/// What the workers and the coordinator share.
struct Shared {
    ctx: RunCtx,
    state: Mutex<State>,
    /// Idle workers wait here for work.
    wake: Condvar,
    /// Tells the coordinator that the run is over.
    over: Notify,
    /// Counts changes under the lock that may let a waiting worker go on; spinning workers
    /// watch it.
    generation: AtomicU64,
    /// Tells the coordinator that the last worker has left (apart, so that the last worker
    /// can say so after it has let go of the rest).
    exited: Arc<Notify>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A worker that panicked has had its task concluded (see `Leave`); the state is whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records what the calling worker has just run, then finds its next task: handed off by
    /// another worker, or the scheduler's next ready one. Waits while nothing is ready but
    /// tasks still run; None when the run is over. Also says whether the caller must start
    /// another worker for a task it handed off.
    fn next(&self, finished: Option<Finished>) -> Option<(Work, bool)> {
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
    fn lock_finishing(&self, finished: Option<Finished>) -> MutexGuard<'_, State> {
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
    fn spin_idle<'a>(&'a self, mut state: MutexGuard<'a, State>) -> (MutexGuard<'a, State>, u64) {
        state.idle += 1;
        let seen = self.generation.load(Ordering::Acquire);
        drop(state);
        self.spin(seen);
        (self.lock(), seen)
    }

    /// Marks a change that may let a waiting worker go on (a task finished or was handed off,
    /// an interrupt, the end of the run). Called under the lock.
    fn changed(&self) {
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Waits up to [`SPIN`] for a change after `seen`, without sleeping: waking a sleeping
    /// thread costs tens of microseconds, several tasks' worth.
    fn spin(&self, seen: u64) {
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
    fn next_inline(&self, finished: Option<Finished>) -> Option<(Work, Share)> {
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
    /// [`HELPER_AFTER`] for it.
    fn start_helper(self: &Arc<Self>) {
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
    fn share(&self, state: &mut State, may_start: bool) -> Share {
        let share = state.share(&self.ctx, &self.wake, may_start);
        if !state.handoff.is_empty() {
            self.changed();
        }
        share
    }

    /// What a free worker does next: a task (handed off, or the scheduler's next ready one),
    /// wait (tasks still run, none is ready), or leave (the run is over). `may_start`: whether
    /// the worker may start another worker for a task it hands off.
    fn step(&self, state: &mut State, may_start: bool) -> Step {
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
enum Step {
    /// Run this task, and share the work as [`Share`] says.
    Work(Work, Share),
    Wait,
    Over,
}

/// What a worker that has just picked a task does for the ready work beyond it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Share {
    /// Nothing: no more work, it went to an idle worker, or no more workers may start.
    No,
    /// Start a worker for the task it has handed off.
    Start,
    /// It has handed off a task, but may not start a worker for it now (the caller's task):
    /// the first worker free takes it.
    Later,
}

/// The run's mutable state: the scheduler, the outputs tasks read, and the tasks handed out.
struct State {
    scheduler: Scheduler,
    outputs: Outputs,
    /// Tasks handed to a worker (running, or waiting in `handoff`), by instance.
    live: BTreeMap<TaskInstIdx, Live>,
    /// Tasks picked for a worker that has not taken them yet.
    handoff: VecDeque<Work>,
    /// Progress not yet handed to the observer, in order.
    notes: Vec<Note>,
    stop: Stop,
    /// Worker threads started and not yet left.
    workers: usize,
    /// Workers waiting for work.
    idle: usize,
    /// Set when nothing runs and nothing can start: workers leave.
    over: bool,
}

/// A task handed to a worker: how it started, and the sender whose drop ends its attempt.
struct Live {
    started: Started,
    _abort: oneshot::Sender<()>,
}

/// A task for a worker to run.
struct Work {
    t: TaskInstIdx,
    /// The task's template in the plan.
    template: TaskIdx,
    /// How the task started (the live entry holds the same), for its record.
    started: Started,
    job: Box<Job>,
    /// The output-cache key to store the outputs under, and the names of the artifact outputs.
    cache_key: Option<(String, Vec<String>)>,
    /// Resolves when the task was ended from outside (an interrupt): drop the attempt.
    abort: oneshot::Receiver<()>,
}

/// What a worker ran: the task's result and its record (built with the lock released), or
/// None when an interrupt ended it first.
struct Finished {
    t: TaskInstIdx,
    outcome: Option<(TaskResult, Box<TaskRecord>)>,
}

/// Progress for the observer.
enum Note {
    Started(String),
    Finished(TaskInstIdx, Box<TaskRecord>),
}

impl State {
    /// A task another worker picked for this one, unless an interrupt has ended it since.
    fn take_handoff(&mut self) -> Option<Work> {
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
    fn start_next(&mut self, ctx: &RunCtx) -> Option<Work> {
        loop {
            if self.live.len() >= ctx.options.jobs.max(1) {
                return None;
            }
            let mut oracle = RunOracle { prepared: &ctx.prepared, outputs: &self.outputs };
            let t = self.scheduler.next_ready_with(&mut oracle)?;
            let tree = self.scheduler.tree();
            self.outputs.resize(tree.tasks.len(), None);
            self.notes.push(Note::Started(tree.tasks[t].id.clone()));
            let final_status = self.scheduler.spec(t).is_exit.then(|| self.scheduler.final_status(t, &ctx.run_id));
            let started_at = std::time::SystemTime::now();
            let (start, logs) = prepare_task(ctx, tree, t, &self.outputs, final_status.as_ref());
            let mut started = Started { progress: None, started_at, final_status, logs };
            match start {
                Ok((job, cache_key)) => {
                    started.progress = Some(job.progress.clone());
                    let cache_key =
                        cache_key.map(|key| (key, job.artifact_outputs.iter().map(|o| o.name.clone()).collect()));
                    let (abort_sender, abort) = oneshot::channel();
                    let template = tree.tasks[t].template;
                    self.live.insert(t, Live { started: started.clone(), _abort: abort_sender });
                    return Some(Work { t, template, started, job, cache_key, abort });
                }
                Err(failure) => self.conclude(started, Err(failure), t),
            }
        }
    }

    /// After a worker picked its task: if one more is ready and a worker could take it (an
    /// idle one, or one not started yet), picks it and hands it off; a worker is started for
    /// it only when `may_start`.
    fn share(&mut self, ctx: &RunCtx, wake: &Condvar, may_start: bool) -> Share {
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

    /// Publishes what a worker ran (its record is built already), unless an interrupt
    /// concluded the task first.
    fn finish(&mut self, finished: Finished) {
        let Finished { t, outcome: Some((result, record)) } = finished else {
            return;
        };
        if self.live.remove(&t).is_some() {
            self.publish(t, result, record);
        }
    }

    /// Records how task `t` ended, here under the lock (a task that could not run, or one an
    /// interrupt ends).
    fn conclude(&mut self, started: Started, result: TaskResult, t: TaskInstIdx) {
        let record = record_of(&self.scheduler.tree().tasks[t].id, self.scheduler.spec(t), started, &result, false);
        self.publish(t, result, record);
    }

    /// Publishes how task `t` ended: its record for the observer and the run record, its
    /// outputs for its readers, its end for the scheduler.
    fn publish(&mut self, t: TaskInstIdx, result: TaskResult, record: Box<TaskRecord>) {
        self.notes.push(Note::Finished(t, record));
        match result {
            Ok(values) => {
                self.outputs[t] = Some(values);
                self.scheduler.finish(t, Ok(()));
            }
            Err(failure) => self.scheduler.finish(t, Err(failure)),
        }
    }

    /// Applies an interrupt: to the scheduler, to the record, and to the live tasks it ends
    /// (body tasks at a cancellation or the deadline, every task at an abort), whose attempts
    /// are dropped by their workers. Returns the message for the observer.
    fn interrupt(&mut self, event: &Interrupt, interrupts: &Interrupts, deadline: Option<Duration>) -> String {
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

/// Starts a worker (counted in `workers` by the caller) on a thread kept from an earlier run,
/// or on a new one. Without a thread it is counted out again: the task handed off for it
/// waits for the next worker that is free.
fn spawn_worker(shared: &Arc<Shared>) {
    let worker = shared.clone();
    if super::threads::run(Box::new(move |runtime| work(worker, runtime))).is_err() {
        shared.lock().workers -= 1;
    }
}

/// A worker: takes tasks and runs their attempts on its thread's runtime until the run is over.
fn work(shared: Arc<Shared>, runtime: &tokio::runtime::Runtime) {
    let mut leave = Leave { shared: Some(shared), current: None };
    let mut finished = None;
    while let Some((work, spawn)) = leave.shared().next(finished.take()) {
        if spawn {
            spawn_worker(leave.shared());
        }
        leave.current = Some(work.t);
        finished = Some(runtime.block_on(run_work(&leave.shared().ctx, work)));
        leave.current = None;
    }
}

/// Runs a task's attempts, unless an interrupt ends it first; stores its outputs in the
/// output cache when it succeeded and caching is on for it.
async fn run_work(ctx: &super::RunCtx, work: Work) -> Finished {
    let Work { t, template, started, job, cache_key, abort } = work;
    // A task whose outputs are in the output cache does not run (artifacts are restored).
    if let (Some(disk), Some((key, artifacts))) = (&ctx.disk, &cache_key)
        && let Some(outputs) = disk.outputs(key, &job.run_root, &job.task_id, artifacts)
    {
        let result = Ok(outputs);
        let record = record_of(&job.task_id, &ctx.prepared.plan.tasks[template], started, &result, true);
        return Finished { t, outcome: Some((result, record)) };
    }
    let result = tokio::select! {
        biased;
        _ = abort => None,
        result = job.run() => Some(result),
    };
    let Some(result) = result else {
        return Finished { t, outcome: None };
    };
    if let (Some(disk), Some((key, artifacts)), Ok(outputs)) = (&ctx.disk, &cache_key, &result) {
        disk.store_outputs(key, outputs, &job.run_root, artifacts);
    }
    let record = record_of(&job.task_id, &ctx.prepared.plan.tasks[template], started, &result, false);
    Finished { t, outcome: Some((result, record)) }
}

/// The record of task `id` from how it started and how it ended: its attempts so far (one still
/// running ends with the task's failure), or, for a task that never got to run, one attempt
/// from when it was handed out. A worker builds it with the run's lock released: marking the
/// task's progress done first means an interrupt from now on leaves the task as it ended (one
/// that came before has taken the attempts and concluded the task; this record is dropped).
fn record_of(id: &str, spec: &PlanTask, started: Started, result: &TaskResult, cached: bool) -> Box<TaskRecord> {
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

/// Leaves the pool when a worker ends, however it ends: a worker that panicked fails the task
/// it was running (kind `error`), so that the run still ends and its record is whole.
struct Leave {
    /// The worker's only handle on the run (taken when it leaves).
    shared: Option<Arc<Shared>>,
    current: Option<TaskInstIdx>,
}

impl Leave {
    fn shared(&self) -> &Arc<Shared> {
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
                let failure = Failure::new(FailureKind::Error, "wasmpipe's worker running this task failed (a bug)");
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
