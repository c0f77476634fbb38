//! Retries: a failed task runs again after a backoff, each attempt in the record; the guest
//! sees its attempt number; `load`, `input` and `cancelled` are never retried; the exit handler
//! sees the outcome after retries.

mod common;

use common::{Case, printed, task};

fn attempts(t: &serde_json::Value) -> &Vec<serde_json::Value> {
    t["attempts"].as_array().unwrap()
}

/// Ensures that a task failing on its first two attempts succeeds on the third, that every
/// attempt is recorded with its failure, and that the guest saw its attempt number.
#[test]
fn a_flaky_task_succeeds_on_a_retry() {
    let case = Case::new(
        "name: r\nsteps:\n  - {task: f, component: flaky, inputs: {succeed_on: 3}, retries: 3, backoff: {initial: 10ms}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    let f = task(&record, "f");
    assert_eq!(f["state"], "succeeded");
    assert_eq!(f["outputs"]["output"], "succeeded on attempt 3");
    let a = attempts(f);
    assert_eq!(a.len(), 3);
    assert_eq!(a[0]["failure"]["message"], "attempt 1 failed");
    assert_eq!(a[1]["failure"]["message"], "attempt 2 failed");
    assert!(a[2].get("failure").is_none());
    assert!(a[0]["finished_at"].as_str() <= a[1]["started_at"].as_str());
    assert_eq!(printed(f), ["attempt 1", "attempt 2", "attempt 3"]);
    assert!(f.get("failure").is_none());
}

/// Ensures that a zero backoff (`backoff: {initial: 0s}`, KFP's `backoff_duration='0s'`) is
/// accepted and retries at once, while a negative one is refused by `validate`.
#[test]
fn a_zero_backoff_retries_at_once() {
    let case = Case::new(
        "name: r\nsteps:\n  - {task: f, component: flaky, inputs: {succeed_on: 2}, retries: 2, backoff: {initial: 0s}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    let f = task(&record, "f");
    assert_eq!(f["outputs"]["output"], "succeeded on attempt 2");
    assert_eq!(attempts(f).len(), 2);

    let negative = Case::new(
        "name: r\nsteps:\n  - {task: f, component: flaky, inputs: {succeed_on: 2}, retries: 2, backoff: {initial: -1}}\n",
    );
    let (code, out) = negative.validate_json();
    assert_eq!(code, 2, "{out}");
    assert!(out.to_string().contains("is not a duration of 0 or more"), "{out}");
}

/// Ensures that when the retries run out the task fails with its last failure, and the exit
/// handler, which runs once, sees that outcome; a pipeline-level `retries` applies to tasks
/// that set none, exit tasks included.
#[test]
fn retries_run_out_and_the_handler_sees_the_last_failure() {
    let case = Case::new(
        "name: r\nretries: 2\nbackoff: {initial: 5ms, factor: 2, max: 20ms}\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: e, component: exit_report, inputs: {message: cleanup}}\n      steps:\n        - {task: f, component: flaky, inputs: {succeed_on: 10}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1);
    let f = task(&record, "g/f");
    assert_eq!(attempts(f).len(), 3, "1 + 2 retries");
    assert_eq!(f["failure"]["message"], "attempt 3 failed");
    let e = task(&record, "g/e");
    assert_eq!(attempts(e).len(), 1);
    assert_eq!(e["final_status"]["failures"][0]["message"], "attempt 3 failed");
    let notes = common::log_lines(f, "wasmpipe");
    assert_eq!(
        notes,
        ["attempt 1 failed (error); retry 1 of 2 in 5ms", "attempt 2 failed (error); retry 2 of 2 in 10ms"]
    );
}

/// Ensures that a load failure is not retried.
#[test]
fn load_failures_are_not_retried() {
    let case = Case::with_components(
        "name: r\nsteps:\n  - {task: broken, component: missing, retries: 3, backoff: {initial: 5ms}}\n",
        &[("missing", "nowhere.wasm")],
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1);
    let broken = task(&record, "broken");
    assert_eq!(broken["failure"]["kind"], "load");
    assert_eq!(attempts(broken).len(), 1);
}

/// Ensures that an input failure is not retried.
#[test]
fn input_failures_are_not_retried() {
    let case = Case::new(
        "name: r\nsteps:\n  - {task: p, component: echo, inputs: {value: text}}\n  - {task: bad-input, component: add, inputs: {a: \"{{tasks.p.output}}\"}, retries: 3, backoff: {initial: 5ms}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1);
    let bad = task(&record, "bad-input");
    assert_eq!(bad["failure"]["kind"], "input");
    assert_eq!(attempts(bad).len(), 1);
}

/// Ensures that a timeout is per attempt: each retry gets the full timeout again.
#[test]
fn timeouts_are_per_attempt() {
    let case = Case::new(
        "name: r\nsteps:\n  - {task: slow, component: fault, inputs: {mode: spin}, timeout: 200ms, retries: 1, backoff: {initial: 5ms}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1);
    let slow = task(&record, "slow");
    let a = attempts(slow);
    assert_eq!(a.len(), 2);
    for attempt in a {
        assert_eq!(attempt["failure"]["kind"], "timeout");
        assert!(attempt["failure"]["message"].as_str().unwrap().contains("200ms"));
    }
}

/// Ensures that an exit task may retry too (`docs/semantics.md`, rule 1): one exit-task instance,
/// several attempts, each with the same input, and the group succeeds when a retry does.
#[test]
fn an_exit_task_retries() {
    let case = Case::new(
        "name: r\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: e, component: flaky, inputs: {succeed_on: 2}, retries: 2, backoff: {initial: 5ms}}\n      steps:\n        - {task: body, component: add, inputs: {a: 1}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    let e = task(&record, "g/e");
    assert_eq!(e["state"], "succeeded");
    assert_eq!(attempts(e).len(), 2);
    assert_eq!(attempts(e)[0]["failure"]["message"], "attempt 1 failed");
    assert_eq!(record["tasks"].as_array().unwrap().iter().filter(|t| t["id"] == "g/e").count(), 1);
}
