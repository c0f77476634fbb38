//! Injected faults, for the tests of internal failures (`docs/semantics.md`, rule 11, kind
//! `internal`). Built only with the cargo feature `fault-injection`, which `cargo test` turns on
//! (the host crate's dev-dependency on itself); a release build has no injection point at all.
//!
//! `WASMPIPE_INJECT_PANIC=POINT:TASK[,TASK...]` makes the host panic at `POINT` for the tasks
//! with these ids (`*`: every task): `prepare` (binding its inputs, under the run's lock), `attempt`
//! (its worker, while the attempt runs), `record` (its worker, building its record),
//! `scheduler-finish` (the scheduler, recording its end) or `scheduler-next` (the scheduler's
//! next pass after the task ended, deciding what is ready). `WASMPIPE_INJECT_FAULT=worker-start` makes every
//! worker thread fail to start.

/// Panics if `WASMPIPE_INJECT_PANIC` names `point` and task `task` (a no-op without the
/// `fault-injection` feature).
#[inline]
pub(crate) fn panic_point(point: &str, task: &str) {
    if armed(point, task) {
        panic!("injected panic at {point} for `{task}`");
    }
}

/// Whether `WASMPIPE_INJECT_PANIC` names `point` and task `task` (always false without the
/// `fault-injection` feature).
#[inline]
pub(crate) fn armed(point: &str, task: &str) -> bool {
    #[cfg(feature = "fault-injection")]
    return std::env::var("WASMPIPE_INJECT_PANIC")
        .ok()
        .and_then(|spec| spec.split_once(':').map(|(p, t)| p == point && t.split(',').any(|t| t == "*" || t == task)))
        .unwrap_or(false);
    #[cfg(not(feature = "fault-injection"))]
    {
        let _ = (point, task);
        false
    }
}

/// Whether `WASMPIPE_INJECT_FAULT` names `fault` (always false without the
/// `fault-injection` feature).
#[inline]
pub(crate) fn fault(fault: &str) -> bool {
    #[cfg(feature = "fault-injection")]
    return std::env::var("WASMPIPE_INJECT_FAULT").is_ok_and(|f| f == fault);
    #[cfg(not(feature = "fault-injection"))]
    {
        let _ = fault;
        false
    }
}
