//! Stopping a run from outside: the [`CancelHandle`] (what the CLI's signal handlers call, and what
//! library users hold), and [`Interrupts`], which turns the handle, the run deadline and the
//! grace period into events for the runner (`docs/semantics.md`, rule 10).

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// How far a stop request has gone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CancelLevel {
    /// Nothing asked.
    #[default]
    Running,
    /// First request: stop body tasks, run the exit handlers within the grace period.
    Cancel {
        /// What asked: `SIGINT`, `SIGTERM`, `SIGHUP`, `SIGQUIT`, `library`.
        source: String,
    },
    /// Second request: end everything now, exit tasks included.
    Abort {
        /// What asked first.
        source: String,
    },
}

/// Cancels a run; clones share the request. Calling [`CancelHandle::cancel`] twice aborts.
///
/// A run's handle is [`RunOptions::cancel`](super::RunOptions::cancel); keep a clone to stop the
/// run from another task, as Ctrl-C does for the CLI: body tasks stop, exit handlers still run.
///
/// ```
/// use wasmpipe::run::{CancelLevel, RunOptions};
///
/// let options = RunOptions::default();
/// let handle = options.cancel.clone();
/// handle.cancel("shutdown");
/// assert_eq!(options.cancel.level(), CancelLevel::Cancel { source: "shutdown".into() });
/// handle.cancel("shutdown");
/// assert!(matches!(options.cancel.level(), CancelLevel::Abort { .. }));
/// ```
#[derive(Clone, Debug)]
pub struct CancelHandle {
    sender: std::sync::Arc<watch::Sender<CancelLevel>>,
}

impl Default for CancelHandle {
    fn default() -> Self {
        CancelHandle { sender: std::sync::Arc::new(watch::channel(CancelLevel::Running).0) }
    }
}

impl CancelHandle {
    /// A handle that has not been used.
    pub fn new() -> CancelHandle {
        CancelHandle::default()
    }

    /// Asks the run to stop: the first call cancels (body tasks stop, exit handlers run within
    /// the grace period), the second aborts (exit tasks stop too). `source` is recorded.
    pub fn cancel(&self, source: &str) {
        self.sender.send_modify(|level| {
            *level = match std::mem::take(level) {
                CancelLevel::Running => CancelLevel::Cancel { source: source.to_string() },
                CancelLevel::Cancel { source } | CancelLevel::Abort { source } => CancelLevel::Abort { source },
            }
        });
    }

    /// The current level.
    pub fn level(&self) -> CancelLevel {
        self.sender.borrow().clone()
    }

    fn subscribe(&self) -> watch::Receiver<CancelLevel> {
        self.sender.subscribe()
    }
}

/// An event that changes how the run goes on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Interrupt {
    /// A cancellation: stop body tasks; handlers run within the grace period.
    Cancel(String),
    /// The run deadline passed: running body tasks fail with `timeout`; handlers run within
    /// the grace period.
    Deadline,
    /// A second request: stop everything.
    Abort,
    /// The grace period ran out: stop everything.
    GraceExpired,
}

/// The interrupts of one run, in the order they happen; each is reported once.
pub(crate) struct Interrupts {
    receiver: watch::Receiver<CancelLevel>,
    closed: bool,
    deadline: Option<Instant>,
    grace: Duration,
    grace_end: Option<Instant>,
    seen_cancel: bool,
    seen_abort: bool,
}

impl Interrupts {
    /// Watches `handle`, and a run deadline of `deadline` from now; the grace period starts at
    /// the first cancellation or at the deadline.
    pub(crate) fn new(handle: &CancelHandle, deadline: Option<Duration>, grace: Duration) -> Interrupts {
        let mut receiver = handle.subscribe();
        receiver.mark_changed();
        Interrupts {
            receiver,
            closed: false,
            deadline: deadline.map(|d| Instant::now() + d),
            grace,
            grace_end: None,
            seen_cancel: false,
            seen_abort: false,
        }
    }

    /// The grace period left, once it has started.
    #[cfg(test)]
    fn grace_left(&self) -> Option<Duration> {
        self.grace_end.map(|end| end.saturating_duration_since(Instant::now()))
    }

    /// The grace period.
    pub(crate) fn grace(&self) -> Duration {
        self.grace
    }

    fn start_grace(&mut self) {
        self.grace_end.get_or_insert(Instant::now() + self.grace);
    }

    /// The event the cancel handle's current level means, if not yet reported.
    fn level_event(&mut self) -> Option<Interrupt> {
        let level = self.receiver.borrow_and_update().clone();
        let (cancel, abort, source) = match level {
            CancelLevel::Running => return None,
            CancelLevel::Cancel { source } => (true, false, source),
            CancelLevel::Abort { source } => (true, true, source),
        };
        if cancel && !self.seen_cancel {
            self.seen_cancel = true;
            self.start_grace();
            // An abort that comes before the cancel was seen is reported on the next call.
            if abort {
                self.receiver.mark_changed();
            }
            return Some(Interrupt::Cancel(source));
        }
        if abort && !self.seen_abort {
            self.seen_abort = true;
            return Some(Interrupt::Abort);
        }
        None
    }

    /// An interrupt that is already due, without waiting.
    pub(crate) fn poll_now(&mut self) -> Option<Interrupt> {
        if !self.closed
            && self.receiver.has_changed().unwrap_or(false)
            && let Some(event) = self.level_event()
        {
            return Some(event);
        }
        let now = Instant::now();
        if self.deadline.is_some_and(|d| d <= now) {
            self.deadline = None;
            self.start_grace();
            return Some(Interrupt::Deadline);
        }
        if self.grace_end.is_some_and(|g| g <= now) {
            self.grace_end = Some(far_future());
            return Some(Interrupt::GraceExpired);
        }
        None
    }

    /// Waits for the next interrupt (forever, if none will come).
    pub(crate) async fn next(&mut self) -> Interrupt {
        loop {
            if let Some(event) = self.poll_now() {
                return event;
            }
            let deadline = self.deadline.unwrap_or_else(far_future);
            let grace_end = self.grace_end.unwrap_or_else(far_future);
            tokio::select! {
                changed = self.receiver.changed(), if !self.closed => {
                    if changed.is_err() {
                        self.closed = true;
                    } else {
                        self.receiver.mark_changed();
                    }
                }
                _ = tokio::time::sleep_until(deadline) => {}
                _ = tokio::time::sleep_until(grace_end) => {}
            }
        }
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_second_cancel_aborts_and_each_event_is_reported_once() {
        let handle = CancelHandle::new();
        let mut interrupts = Interrupts::new(&handle, None, Duration::from_secs(60));
        assert_eq!(interrupts.poll_now(), None);
        handle.cancel("SIGINT");
        assert_eq!(interrupts.next().await, Interrupt::Cancel("SIGINT".into()));
        assert_eq!(interrupts.poll_now(), None);
        assert!(interrupts.grace_left().unwrap() > Duration::from_secs(59));
        handle.cancel("SIGINT");
        assert_eq!(interrupts.next().await, Interrupt::Abort);
        assert_eq!(handle.level(), CancelLevel::Abort { source: "SIGINT".into() });
    }

    #[tokio::test]
    async fn the_deadline_then_the_grace_period_fire_in_order() {
        let handle = CancelHandle::new();
        let mut interrupts = Interrupts::new(&handle, Some(Duration::from_millis(20)), Duration::from_millis(20));
        assert_eq!(interrupts.next().await, Interrupt::Deadline);
        assert_eq!(interrupts.next().await, Interrupt::GraceExpired);
    }
}
