//! Parallel execution: independent tasks run at the same time up to `--jobs`; fail fast stops
//! new starts but lets running siblings finish (`docs/semantics.md`, rule 9).

mod common;

use common::{Case, task};

/// The (start, end) of a task's only attempt, as RFC 3339 strings (comparable as text).
fn interval(record: &serde_json::Value, id: &str) -> (String, String) {
    let attempt = &task(record, id)["attempts"][0];
    (attempt["started_at"].as_str().unwrap().into(), attempt["finished_at"].as_str().unwrap().into())
}

const TWO_NAPS: &str = "name: p\nsteps:\n  - {task: a, component: fault, inputs: {mode: nap, n: 600}}\n  - {task: b, component: fault, inputs: {mode: nap, n: 600}}\n";

/// Ensures that with `--jobs 2` two independent tasks run at the same time.
#[test]
fn independent_tasks_overlap_with_two_jobs() {
    let (code, record) = Case::new(TWO_NAPS).run_json(&["--jobs", "2"]);
    assert_eq!(code, 0, "{record:#}");
    let (a, b) = (interval(&record, "a"), interval(&record, "b"));
    assert!(b.0 < a.1 && a.0 < b.1, "the attempts overlap: {a:?} {b:?}");
}

/// Ensures that a task that keeps its worker busy without ever waiting (a guest spinning, which
/// yields only at epoch ticks) does not hold up a ready sibling: a second worker starts for it
/// while the first still spins (the first worker runs short siblings itself, and starts another
/// only for work left waiting).
#[test]
fn a_spinning_task_does_not_hold_up_its_sibling_with_two_jobs() {
    let case = Case::new(
        "name: p\nsteps:\n  - {task: spinner, component: fault, inputs: {mode: spin}, timeout: 2s}\n  - {task: quick, component: fault, inputs: {mode: ok}}\n",
    );
    let (code, record) = case.run_json(&["--jobs", "2"]);
    assert_eq!(code, 1, "the spinner times out: {record:#}");
    assert_eq!(task(&record, "spinner")["failure"]["kind"], "timeout");
    assert_eq!(task(&record, "quick")["state"], "succeeded");
    let (spinner, quick) = (interval(&record, "spinner"), interval(&record, "quick"));
    assert!(quick.1 < spinner.1, "quick ran while the spinner spun: {spinner:?} {quick:?}");
}

/// Ensures that with `--jobs 1` they run one after the other.
#[test]
fn one_job_runs_tasks_one_at_a_time() {
    let (code, record) = Case::new(TWO_NAPS).run_json(&["--jobs", "1"]);
    assert_eq!(code, 0);
    let (a, b) = (interval(&record, "a"), interval(&record, "b"));
    assert!(a.1 <= b.0, "b starts after a ends: {a:?} {b:?}");
}

/// Ensures that in a group that fails fast, when a task fails while a sibling runs, the
/// sibling finishes, and a task not yet started is skipped with `fail_fast`; the handler runs
/// after both.
#[test]
fn a_failure_lets_running_siblings_finish_and_starts_nothing_new() {
    let case = Case::new(
        "name: p\nsteps:\n  - exit_handler:\n      name: g\n      fail_fast: true\n      exit: {task: e, component: exit_report, inputs: {message: cleanup}}\n      steps:\n        - {task: slow, component: fault, inputs: {mode: nap, n: 600}}\n        - {task: bad, component: fault, inputs: {mode: error}}\n        - {task: later, component: fault, inputs: {mode: ok}}\n",
    );
    let (code, record) = case.run_json(&["--jobs", "2"]);
    assert_eq!(code, 1);
    assert_eq!(task(&record, "g/slow")["state"], "succeeded", "a running sibling is not interrupted");
    assert_eq!(task(&record, "g/bad")["state"], "failed");
    assert_eq!(task(&record, "g/later")["skip"], serde_json::json!({"reason": "fail_fast", "cause": "g/bad"}));
    let e_start = interval(&record, "g/e").0;
    assert!(e_start >= interval(&record, "g/slow").1, "the exit task waits for the whole body");
}
