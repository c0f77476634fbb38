//! Per-run budgets (`RunOptions::quotas`, `--memory-budget`, `--artifact-budget`,
//! `--log-budget`): tasks wait for room in the memory and artifact budgets instead of failing,
//! a task that sets a limit above a budget is refused before the run, the artifact budget
//! fails only a task that writes past what is left, the log budget drops and counts lines, and
//! a run without a record on disk leaves nothing there.

mod common;

use common::{Case, most_at_once, task};
use serde_json::Value;

/// The (start, end) of every attempt in `record`.
fn attempt_intervals(record: &Value) -> Vec<(String, String)> {
    record["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["attempts"].as_array().cloned().unwrap_or_default())
        .map(|a| (a["started_at"].as_str().unwrap().to_string(), a["finished_at"].as_str().unwrap().to_string()))
        .collect()
}

/// Ensures that under a memory budget of two tasks' limits, four tasks ready at once with
/// four jobs never run more than two at a time, and all of them succeed.
#[test]
fn tasks_wait_for_room_in_the_memory_budget_and_never_fail_for_it() {
    let case = Case::new(
        "name: budget\nsteps:\n  - parallel_for:\n      name: l\n      items: [1, 2, 3, 4]\n      steps:\n        - {task: nap, component: fault, memory: 64MiB, inputs: {mode: nap, n: 300}}\n",
    );
    let (code, record) = case.run_json(&["--jobs", "4", "--memory-budget", "128MiB"]);
    assert_eq!(code, 0, "{record:#}");
    let naps: Vec<&Value> = record["tasks"].as_array().unwrap().iter().filter(|t| t["task"] == "nap").collect();
    assert_eq!(naps.len(), 4);
    assert!(naps.iter().all(|t| t["state"] == "succeeded"));
    assert!(most_at_once(attempt_intervals(&record)) <= 2, "{record:#}");
}

/// Ensures that a task's default memory limit is lowered to the budget (so a budget smaller
/// than the default still runs), and that a limit a task sets above it is refused before the
/// run, naming the task and the field.
#[test]
fn a_budget_caps_default_limits_and_refuses_larger_ones_set_by_a_task() {
    let case = Case::new("name: small\nsteps:\n  - {task: ok, component: fault, inputs: {mode: ok}}\n");
    let (code, record) = case.run_json(&["--memory-budget", "64MiB"]);
    assert_eq!(code, 0, "{record:#}");
    let case = Case::new(
        "name: big\nsteps:\n  - {task: big, component: fault, memory: 256MiB, inputs: {mode: ok}}\n  - {task: art, component: numbers, artifact_limit: 1MiB, inputs: {count: 3}}\n",
    );
    let (code, _, out) = common::wasmpipe(
        &["run", case.file.to_str().unwrap(), "--run-dir", case.runs().to_str().unwrap()],
        &["--memory-budget", "128MiB", "--artifact-budget", "64KiB"],
    );
    assert_eq!(code, 2, "{out}");
    for needle in [
        "task `big` sets `memory` to 256MiB, more than this run's memory budget of 128MiB",
        "task `art` sets `artifact_limit` to 1MiB, more than this run's artifact budget of 64KiB",
    ] {
        assert!(out.contains(needle), "{needle} in\n{out}");
    }
    assert!(!case.runs().exists(), "nothing ran");
}

/// Ensures that tasks whose artifact limits do not all fit in the artifact budget at once
/// wait for each other and all succeed when what they write fits.
#[test]
fn tasks_wait_for_room_in_the_artifact_budget() {
    let case = Case::new(
        "name: arts\nsteps:\n  - parallel_for:\n      name: l\n      items: [1, 2, 3, 4]\n      steps:\n        - {task: make, component: numbers, artifact_limit: 1KiB, inputs: {count: 10}}\n",
    );
    // Each writes 20 bytes and reserves 1 KiB: two fit at a time.
    let (code, record) = case.run_json(&["--jobs", "4", "--artifact-budget", "2KiB"]);
    assert_eq!(code, 0, "{record:#}");
    assert!(most_at_once(attempt_intervals(&record)) <= 2, "{record:#}");
}

/// Ensures that once the run's artifacts have used up its budget, the next task runs with what
/// is left as its limit and fails with kind `output_limit`, its message naming the budget, and
/// that its exit handler still runs.
#[test]
fn a_spent_artifact_budget_fails_only_the_task_that_writes_past_it() {
    // 300 numbers are 1,091 bytes; the budget holds two such artifacts, not three.
    let case = Case::new(
        "name: spent\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: report, component: exit_report, inputs: {message: done}}\n      steps:\n        - {task: a, component: numbers, inputs: {count: 300}}\n        - {task: b, component: numbers, after: [a], inputs: {count: 300}}\n        - {task: c, component: numbers, after: [b], inputs: {count: 300}}\n",
    );
    let (code, record) = case.run_json(&["--artifact-budget", "3000B"]);
    assert_eq!(code, 1, "{record:#}");
    assert_eq!(task(&record, "g/a")["state"], "succeeded");
    assert_eq!(task(&record, "g/b")["state"], "succeeded");
    let c = task(&record, "g/c");
    assert_eq!(c["failure"]["kind"], "output_limit", "{c:#}");
    let message = c["failure"]["message"].as_str().unwrap();
    let size = |id| task(&record, id)["outputs"]["data"]["size"].as_u64().unwrap();
    let left = 3000 - size("g/a") - size("g/b");
    assert!(
        message.contains(&format!("the run's artifact budget of 3000 bytes had {left} bytes left for this task")),
        "{message}"
    );
    let report = task(&record, "g/report");
    assert_eq!(report["state"], "succeeded");
    assert_eq!(report["final_status"]["failures"][0]["task"], "g/c");
}

/// Ensures that the log budget keeps the first lines in the record, drops the rest and counts
/// them, without failing any task.
#[test]
fn the_log_budget_drops_and_counts_lines_past_it() {
    let case = Case::new(
        "name: logs\nsteps:\n  - {task: one, component: fault, inputs: {mode: nap, n: 1}}\n  - {task: two, component: fault, after: [one], inputs: {mode: nap, n: 2}}\n",
    );
    // "rested 1 ms" is 11 bytes: the first task's line fits, the second's does not.
    let (code, record) = case.run_json(&["--log-budget", "15B"]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(common::printed(task(&record, "one")), ["rested 1 ms"]);
    let two = task(&record, "two");
    assert!(common::printed(two).is_empty(), "{two:#}");
    assert_eq!(two["state"], "succeeded");
    assert_eq!(
        common::log_lines(two, "wasmpipe"),
        ["1 line(s) of this attempt dropped: the run's log budget is spent"],
        "{two:#}"
    );
}
