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
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::bind::Outputs;
use super::cancel::{Interrupt, Interrupts};
use super::stop::Stop;
use super::task_store::TaskStore;
use super::{Event, RunCtx};
use crate::journal::Journal;
use crate::plan::IdxVec;
use crate::plan::scheduler::Scheduler;

mod shared;
mod state;
use shared::{Shared, run_work_caught};
use state::{Note, Share, State};

/// How often the coordinator hands progress events to the observer while tasks run.
pub(crate) const EVENT_TICK: Duration = Duration::from_millis(5);

/// How long ready work waits for the caller's task to finish before the caller starts a worker
/// for it. Starting or waking a thread costs 20 to 400 us here (a parked thread, a new one);
/// tasks that keep the caller busy longer than this are worth a second worker.
pub(crate) const HELPER_AFTER: Duration = Duration::from_millis(1);

/// What a run leaves when its workers have gone.
pub(super) struct Ended {
    pub(super) scheduler: Scheduler,
    /// Per task instance: the outputs of those that succeeded.
    pub(super) outputs: Outputs,
    /// The records of the tasks that ended.
    pub(super) records: TaskStore,
    pub(super) stop: Stop,
}

/// Runs the pipeline of `ctx` on a pool of workers until it is over, applying `interrupts` and
/// telling `observe` what happens; the records of finished tasks go to `records`, and their
/// `task_ended` lines to `journal` first.
pub(super) async fn drive(
    ctx: RunCtx,
    interrupts: &mut Interrupts,
    observe: &mut (dyn FnMut(Event<'_>) + Send),
    records: TaskStore,
    journal: Option<&Journal>,
) -> Ended {
    let mut sink = Sink { records, journal, observe, resume: ctx.options.resume.clone() };
    let state = initial_state(&ctx, interrupts, &mut sink);
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
    let mut coordinator = Coordinator { shared: &shared, sink, interrupts, delivered: Instant::now() };
    work_inline(&shared, &mut coordinator, &mut tick).await;
    coordinator.until_over(&mut tick).await;
    let Coordinator { sink, .. } = coordinator;
    conclude(shared, sink).await
}

/// Where progress goes: the journal, then the observer; and the records of finished tasks.
struct Sink<'j, 'o> {
    records: TaskStore,
    journal: Option<&'j Journal>,
    /// The stopped run a resumed one goes on with, whose journal has the records it replays.
    resume: Option<std::sync::Arc<super::resume::Resume>>,
    observe: &'o mut (dyn FnMut(Event<'_>) + Send),
}

/// The run's state before any task starts, with the interrupts that came before the start
/// applied (a cancellation then applies before any task is picked).
fn initial_state(ctx: &RunCtx, interrupts: &mut Interrupts, sink: &mut Sink<'_, '_>) -> State {
    let mut scheduler = Scheduler::new(ctx.prepared.plan.clone());
    if let Some(resume) = &ctx.options.resume {
        let ended = resume.ended.iter().map(|(id, t)| {
            let cancelled = t.state == crate::record::TaskState::Cancelled;
            (id.clone(), cancelled, t.body)
        });
        scheduler.set_replay(ended, &resume.unfinished, &resume.entered);
    }
    let mut state = State {
        outputs: IdxVec::from_elem(None, scheduler.tree().tasks.len()),
        read: ctx.prepared.plan.outputs_read(),
        scheduler,
        live: BTreeMap::new(),
        handoff: VecDeque::new(),
        notes: Vec::new(),
        stop: Stop::default(),
        workers: 1,
        idle: 0,
        over: false,
        scheduler_panics: 0,
    };
    while let Some(event) = interrupts.poll_now() {
        let cancelled = state.stop.cancel.is_some();
        let message = state.interrupt(&event, interrupts, ctx.deadline);
        (sink.observe)(Event::Interrupted(&message));
        if let Some(cancel) = state.stop.cancel.as_ref().filter(|_| !cancelled) {
            (sink.observe)(Event::Cancelled { signal: &cancel.signal });
        }
        sink.deliver(std::mem::take(&mut state.notes));
    }
    state
}

/// The caller's task as the first worker: a run whose tasks come one after another (a chain)
/// never wakes another thread. It runs tasks until it finds none ready (others are still
/// running: it retires and only coordinates) or the run is over, and coordinates while its
/// attempts run.
async fn work_inline(
    shared: &Arc<Shared>,
    coordinator: &mut Coordinator<'_, '_, '_>,
    tick: &mut tokio::time::Interval,
) {
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
        let attempt = run_work_caught(&shared.ctx, work);
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
async fn conclude(shared: Arc<Shared>, mut sink: Sink<'_, '_>) -> Ended {
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
    sink.deliver(std::mem::take(&mut state.notes));
    Ended { scheduler: state.scheduler, outputs: state.outputs, records: sink.records, stop: state.stop }
}

impl Sink<'_, '_> {
    /// Hands progress to the observer, and keeps the records of finished tasks: a task's
    /// `task_ended` line goes to the journal before the observer hears of it (unless it is
    /// there already: a task a resumed run concluded from its journal).
    fn deliver(&mut self, notes: Vec<Note>) {
        for note in notes {
            match note {
                Note::LoopEntered(id, tasks) => (self.observe)(Event::LoopEntered { id: &id, tasks }),
                Note::GroupEntered(id) => (self.observe)(Event::GroupEntered { id: &id }),
                Note::Started(id) => (self.observe)(Event::TaskStarted(&id)),
                Note::Finished { t, record } => {
                    let line = self.journal.and_then(|j| j.note(&crate::journal::Note::TaskEnded { task: &record }));
                    (self.observe)(Event::TaskFinished(&record));
                    self.records.keep(t, record, line);
                }
                Note::Replayed { t, id, line, brief } => {
                    match self.resume.as_ref().map(|r| r.record(&id)) {
                        Some(Ok(record)) => {
                            (self.observe)(Event::TaskFinished(&record));
                            self.records.keep(t, Box::new(record), Some(line));
                        }
                        // Read a moment ago: the record is written from the journal, which says
                        // why if it cannot be read any more.
                        _ => self.records.keep_journaled(t, line.0, brief),
                    }
                }
            }
        }
    }
}

/// The coordinator's side of a run: it applies interrupts and hands progress to the observer.
struct Coordinator<'a, 'j, 'o> {
    shared: &'a Shared,
    sink: Sink<'j, 'o>,
    interrupts: &'a mut Interrupts,
    /// When progress was last handed to the observer.
    delivered: Instant,
}

impl Coordinator<'_, '_, '_> {
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
        let (before, message, after, cancel) = {
            let mut state = self.shared.lock();
            let before = std::mem::take(&mut state.notes);
            let cancelled = state.stop.cancel.is_some();
            let message = state.interrupt(&event, self.interrupts, self.shared.ctx.deadline);
            let cancel = state.stop.cancel.as_ref().filter(|_| !cancelled).map(|c| c.signal.clone());
            // Exit tasks may be ready now; idle workers look again.
            self.shared.changed();
            self.shared.wake.notify_all();
            (before, message, std::mem::take(&mut state.notes), cancel)
        };
        self.sink.deliver(before);
        (self.sink.observe)(Event::Interrupted(&message));
        if let Some(signal) = &cancel {
            (self.sink.observe)(Event::Cancelled { signal });
        }
        self.sink.deliver(after);
    }

    /// Hands the progress gathered so far to the observer.
    fn deliver(&mut self) {
        let notes = std::mem::take(&mut self.shared.lock().notes);
        self.sink.deliver(notes);
        self.delivered = Instant::now();
    }
}
