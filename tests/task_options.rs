//! Task options: `ignore_upstream_failure` (KFP's option of the same name).

mod common;

use common::{Case, task};

/// Ensures that a task with `ignore_upstream_failure` runs after its upstream failed (and
/// despite fail fast in its group), that its optional input from the failed producer is absent,
/// and that the run still fails.
#[test]
fn a_task_ignoring_upstream_failure_runs_after_it() {
    let case = Case::new(
        "name: o\nsteps:\n  - {task: producer, component: fault, inputs: {mode: error}}\n  - {task: summary, component: collect, inputs: {items: [], labels: {}, extra: \"{{tasks.producer.output}}\"}, ignore_upstream_failure: true}\n  - {task: plain, component: print_op, inputs: {message: \"{{tasks.producer.output}}\"}}\n",
    );
    let (code, record) = case.run_json(&["--jobs", "1"]);
    assert_eq!(code, 1);
    assert_eq!(record["state"], "failed");
    let summary = task(&record, "summary");
    assert_eq!(summary["state"], "succeeded", "{summary:#}");
    assert_eq!(
        summary["outputs"]["output"]["extra"],
        serde_json::Value::Null,
        "the failed producer's output is absent"
    );
    assert_eq!(task(&record, "plain")["skip"]["reason"], "upstream_failed");
}

/// Ensures that such a task waits for its upstream to end before it starts.
#[test]
fn it_still_waits_for_its_upstream() {
    let case = Case::new(
        "name: o\nsteps:\n  - {task: slow, component: fault, inputs: {mode: nap, n: 300}}\n  - {task: after-slow, component: fault, inputs: {mode: ok}, after: [slow], ignore_upstream_failure: true}\n",
    );
    let (code, record) = case.run_json(&["--jobs", "2"]);
    assert_eq!(code, 0);
    let slow_end = task(&record, "slow")["attempts"][0]["finished_at"].as_str().unwrap().to_string();
    let start = task(&record, "after-slow")["attempts"][0]["started_at"].as_str().unwrap().to_string();
    assert!(start >= slow_end);
}

/// Ensures that validation refuses a required input bound to an upstream output on such a task.
#[test]
fn a_required_input_from_upstream_is_refused() {
    let case = Case::new(
        "name: o\nsteps:\n  - {task: producer, component: add, inputs: {a: 1}}\n  - {task: consumer, component: add, inputs: {a: \"{{tasks.producer.output}}\"}, ignore_upstream_failure: true}\n",
    );
    let (code, out) = case.validate_json();
    assert_eq!(code, 2);
    let e = &out["errors"][0];
    assert_eq!(e["path"], "steps[1].inputs.a");
    assert!(e["message"].as_str().unwrap().contains("make the input optional"), "{e}");
}
