//! Hostile guests (`tests/guests/src/bin/hostile.rs`, written against the raw WIT bindings): a
//! component can fail only its own task (`docs/semantics.md`, "Sandbox defaults"). Each attack
//! happens for real; the task fails with a kind, the enclosing exit handler runs exactly once and
//! receives the failure, and the run's record is written.

mod common;

use common::fault_under_handler;

/// Ensures that a returned value whose nodes are shared by several parents (40 list nodes, each
/// holding the next one twice: 2^40 values if the host followed the references) fails its task
/// with kind `error` naming the broken rule, instead of exhausting the host's memory; and that
/// the handler runs.
#[test]
fn a_value_with_shared_nodes_fails_only_its_task() {
    let (failure, _) =
        fault_under_handler("{task: body, component: hostile, inputs: {mode: shared_nodes, n: 40}}", &[]);
    assert_eq!(failure["kind"], "error", "{failure:#}");
    let message = failure["message"].as_str().unwrap();
    assert!(message.starts_with("output `out`: value node 40 is held by more than one list or dict"), "{message}");
}

/// Ensures that a returned value with a node no list or dict holds fails its task with kind
/// `error`, and that the handler runs.
#[test]
fn a_value_with_an_orphan_node_fails_only_its_task() {
    let (failure, _) = fault_under_handler("{task: body, component: hostile, inputs: {mode: orphan_node, n: 0}}", &[]);
    assert_eq!(failure["kind"], "error", "{failure:#}");
    assert!(failure["message"].as_str().unwrap().contains("value node 1 is in no list or dict"), "{failure:#}");
}

/// Ensures that a guest that logs without end (64 `log` calls of 1 MiB) cannot grow the host:
/// the attempt keeps at most its output capacity (1 MiB by default) of log text, the rest is
/// counted in one line, and the task still succeeds.
#[test]
fn a_log_flood_is_bounded() {
    let case =
        common::Case::new("name: flood\nsteps:\n  - {task: t, component: fault, inputs: {mode: log_flood, n: 64}}\n");
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    let logs = common::task(&record, "t")["logs"].as_array().unwrap().clone();
    let kept: usize = logs.iter().filter(|l| l["source"] == "info").map(|l| l["text"].as_str().unwrap().len()).sum();
    assert_eq!(kept, 1 << 20, "one call of 1 MiB kept");
    let note = logs.iter().find(|l| l["source"] == "wasmpipe").expect("a line says what was dropped");
    assert_eq!(note["text"], "[wasmpipe: 63 more log calls (66060288 bytes) dropped after 1 calls and 1048576 bytes]");
}

/// Ensures that value outputs over the task's value limit (a 2 MiB string under
/// `--value-limit 1MiB`) fail the task with kind `output_limit` naming the limit and how to
/// raise it, the handler runs; and that `value_limit` on the task raises it.
#[test]
fn values_over_the_value_limit_fail_with_output_limit() {
    let (failure, _) = fault_under_handler(
        "{task: body, component: hostile, inputs: {mode: big_string, n: 2097152}}",
        &["--value-limit", "1MiB"],
    );
    assert_eq!(failure["kind"], "output_limit", "{failure:#}");
    let message = failure["message"].as_str().unwrap();
    assert!(message.contains("over its value limit of 1048576 bytes"), "{message}");
    assert!(message.contains("`value_limit`") && message.contains("`--value-limit`"), "{message}");

    let case = common::Case::new(
        "name: p\nsteps:\n  - {task: t, component: hostile, inputs: {mode: big_string, n: 2097152}, value_limit: 4MiB}\n",
    );
    let (code, record) = case.run_json(&["--value-limit", "1MiB"]);
    assert_eq!(code, 0, "the task's own limit wins");
    assert_eq!(common::task(&record, "t")["outputs"]["out"].as_str().unwrap().len(), 2097152);
}

/// Ensures that a task handing a loop more items than the loop-item limit fails the loop's
/// tasks with kind `output_limit` naming the producer, the limit and its flag, without
/// creating the iterations; the handler around the loop runs; and that `loop_item_limit` on the
/// producing task raises it.
#[test]
fn too_many_loop_items_fail_with_output_limit() {
    let body = |own: &str| {
        format!(
            "name: p\nsteps:\n  - exit_handler:\n      name: g\n      exit: {{task: e, component: exit_report, inputs: {{message: cleanup}}}}\n      steps:\n        - {{task: make, component: hostile, inputs: {{mode: many_items, n: 20}}{own}}}\n        - parallel_for:\n            name: fan\n            items: \"{{{{tasks.make.outputs.out}}}}\"\n            steps:\n              - {{task: w, component: fault, inputs: {{mode: ok}}}}\n"
        )
    };
    let case = common::Case::new(&body(""));
    let (code, record) = case.run_json(&["--loop-item-limit", "10"]);
    assert_eq!(code, 1, "{record:#}");
    let w = common::task(&record, "g/fan/*/w");
    assert_eq!(w["failure"]["kind"], "output_limit", "{w:#}");
    let message = w["failure"]["message"].as_str().unwrap();
    assert!(message.contains("20 items (from task `make`) are more than the loop-item limit of 10"), "{message}");
    assert!(message.contains("`loop_item_limit`") && message.contains("`--loop-item-limit`"), "{message}");
    let e = common::task(&record, "g/e");
    assert_eq!(e["state"], "succeeded", "the handler ran");
    assert_eq!(e["final_status"]["failures"][0]["kind"], "output_limit");

    let case = common::Case::new(&body(", loop_item_limit: 30"));
    let (code, record) = case.run_json(&["--loop-item-limit", "10"]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(common::task(&record, "g/fan/19/w")["state"], "succeeded");
}

/// Ensures that a fan-in bigger than the reading task's value limit (five 300-byte outputs read
/// as one list under `--value-limit 1000B`, each output within it) fails the reader with kind
/// `output_limit`, before the list is built, and the handler runs.
#[test]
fn a_fan_in_over_the_value_limit_fails_its_reader_with_output_limit() {
    let case = common::Case::new(
        "name: p\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: e, component: exit_report, inputs: {message: cleanup}}\n      steps:\n        - parallel_for:\n            name: fan\n            items: [1, 2, 3, 4, 5]\n            steps:\n              - {task: w, component: hostile, inputs: {mode: big_string, n: 300}}\n        - {task: all, component: collect, inputs: {items: \"{{tasks.w.outputs.out}}\", labels: {}}}\n",
    );
    let (code, record) = case.run_json(&["--value-limit", "1000B"]);
    assert_eq!(code, 1, "{record:#}");
    assert_eq!(common::task(&record, "g/fan/4/w")["state"], "succeeded", "each output is within the limit");
    let all = common::task(&record, "g/all");
    assert_eq!(all["failure"]["kind"], "output_limit", "{all:#}");
    let message = all["failure"]["message"].as_str().unwrap();
    assert!(
        message.contains("input `items` reads `{{tasks.w.outputs.out}}` over a loop's iterations: 1516 bytes"),
        "{message}"
    );
    assert_eq!(common::task(&record, "g/e")["state"], "succeeded", "the handler ran");
}

/// Ensures that a component whose `describe` is too big (2 MiB of text, 2,000 outputs) fails
/// to load, so its task fails with kind `load` saying why, and the handler runs.
#[test]
fn a_describe_too_big_fails_the_load() {
    let (failure, _) = fault_under_handler("{task: body, component: hostile_describe}", &[]);
    assert_eq!(failure["kind"], "load", "{failure:#}");
    let message = failure["message"].as_str().unwrap();
    assert!(message.contains("describes itself too big: 2000 inputs and outputs, over the limit of 1000"), "{message}");
}

/// Ensures that a value too big to copy out of the guest at all (a 140 MiB string, over the
/// 128 MiB that one call may hand the host) fails the task with kind `output_limit` before the
/// host copies it, and the handler runs.
#[test]
fn a_value_too_big_to_copy_fails_with_output_limit() {
    let (failure, _) = fault_under_handler(
        "{task: body, component: hostile, inputs: {mode: big_string, n: 146800640}}",
        &["--value-limit", "1MiB"],
    );
    assert_eq!(failure["kind"], "output_limit", "{failure:#}");
    let message = failure["message"].as_str().unwrap();
    assert!(message.contains("more than 128 MiB in one call"), "{message}");
}

/// Ensures that the metadata of an output artifact counts toward the task's value limit: 2,000
/// bytes of it under `--value-limit 1KiB` fail the task with kind `output_limit` and the handler
/// runs; 10 bytes pass and reach the record.
#[test]
fn artifact_metadata_over_the_value_limit_fails_with_output_limit() {
    let (failure, _) =
        fault_under_handler("{task: body, component: hostile_meta, inputs: {n: 2000}}", &["--value-limit", "1KiB"]);
    assert_eq!(failure["kind"], "output_limit", "{failure:#}");
    assert!(failure["message"].as_str().unwrap().contains("once output `data` is counted"), "{failure:#}");

    let case = common::Case::new("name: p\nsteps:\n  - {task: t, component: hostile_meta, inputs: {n: 10}}\n");
    let (code, record) = case.run_json(&["--value-limit", "1KiB"]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(common::task(&record, "t")["outputs"]["data"]["metadata"]["note"], "mmmmmmmmmm");
}
