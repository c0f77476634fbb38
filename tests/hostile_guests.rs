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
