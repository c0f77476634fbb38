//! What interrupts do to a run (`docs/semantics.md`, rule 10): a cancellation or the deadline stops
//! body tasks and lets exit handlers run within the grace period; an abort (a second request, or
//! the grace period running out) stops everything. [`Stop`] applies each interrupt to the
//! scheduler, keeps what the record says of it, and says which running attempts it ends and with
//! what failure.

use std::time::Duration;

use super::cancel::{Interrupt, Interrupts};
use crate::plan::scheduler::{Interruption, Scheduler};
use crate::record::{CancelRecord, Failure, FailureKind, SkipReason};

/// What interrupts have done to the run so far, for the record.
#[derive(Default)]
pub(super) struct Stop {
    pub(super) cancel: Option<CancelRecord>,
    pub(super) aborted: bool,
}

impl Stop {
    /// Applies an interrupt to the scheduler and the record; returns the message for the
    /// observer.
    pub(super) fn apply(
        &mut self,
        event: &Interrupt,
        scheduler: &mut Scheduler,
        interrupts: &Interrupts,
        deadline: Option<Duration>,
    ) -> String {
        let grace_ms = interrupts.grace().as_millis() as u64;
        let grace = humantime::format_duration(interrupts.grace());
        match event {
            Interrupt::Cancel(source) => {
                scheduler.interrupt(Interruption::Cancel, source);
                self.cancel.get_or_insert(CancelRecord { signal: source.clone(), grace_ms });
                format!(
                    "{source}: cancelling; body tasks stop, exit handlers run within {grace} (cancel again to abort)"
                )
            }
            Interrupt::Deadline => {
                scheduler.interrupt(Interruption::Deadline, "deadline");
                self.cancel.get_or_insert(CancelRecord { signal: "deadline".into(), grace_ms });
                let d = deadline.map(humantime::format_duration).map(|d| d.to_string()).unwrap_or_default();
                format!("the run's deadline of {d} passed; body tasks stop, exit handlers run within {grace}")
            }
            Interrupt::Abort => {
                let cause = self.cancel.as_ref().map(|c| c.signal.clone()).unwrap_or_else(|| "library".into());
                scheduler.abort(SkipReason::Aborted, &cause);
                self.aborted = true;
                format!("{cause} again: aborting; running exit tasks stop")
            }
            Interrupt::GraceExpired => {
                scheduler.abort(SkipReason::GraceExpired, "grace");
                self.aborted = true;
                format!("the grace period of {grace} ran out; running exit tasks stop")
            }
        }
    }

    /// How an interrupt ends a running attempt, if it does: body tasks stop at a cancellation
    /// (`cancelled`) or the deadline (`timeout`); exit tasks only at an abort.
    pub(super) fn failure_for(event: &Interrupt, is_exit: bool, deadline: Option<Duration>) -> Option<Failure> {
        match (event, is_exit) {
            (Interrupt::Cancel(source), false) => {
                Some(Failure::new(FailureKind::Cancelled, format!("cancelled by {source}")))
            }
            (Interrupt::Deadline, false) => {
                let d = deadline.map(humantime::format_duration).map(|d| d.to_string()).unwrap_or_default();
                Some(Failure::new(FailureKind::Timeout, format!("the run's deadline of {d} passed while the task ran")))
            }
            (Interrupt::Abort, _) => Some(Failure::new(FailureKind::Cancelled, "aborted by a second cancellation")),
            (Interrupt::GraceExpired, _) => {
                Some(Failure::new(FailureKind::Cancelled, "the grace period ran out while the task ran"))
            }
            _ => None,
        }
    }
}
