//! Failures of wasmpipe itself (kind `internal`, `docs/semantics.md`, rule 11): a panic in the
//! runner, the scheduler or a worker is caught where it happens and fails the task it concerns,
//! so that the run goes on, its exit handlers run and its record is written.

use std::any::Any;

use crate::model::outcome::{Failure, FailureKind};

/// What a caught panic says.
pub(super) fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// The failure of a task whose handling panicked while wasmpipe was `doing` something.
pub(super) fn failure(doing: &str, payload: &(dyn Any + Send)) -> Failure {
    Failure::new(
        FailureKind::Internal,
        format!(
            "wasmpipe failed internally while {doing}: {}; this is a bug in wasmpipe, not in the component (please report it)",
            panic_message(payload)
        ),
    )
}
