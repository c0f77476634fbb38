//! Exit-handler guarantees (`docs/semantics.md`, rules 1-3, 5-9 and 12), each made to happen for
//! real with guest components, checked through the run record of the `wasmpipe` binary.

mod common;

use common::{Case, printed, task};

/// A component of no world at all: it exports nothing.
const WAT_EMPTY_COMPONENT: &str = "(component)";
/// A component that imports a function no host provides.
const WAT_UNKNOWN_IMPORT: &str =
    r#"(component (import "acme:clock/now" (instance (export "now" (func (result u64))))))"#;

/// Ensures that a Rust panic in the body (an `unreachable` trap) fails the task with kind
/// `trap`, keeps the panic message, and the exit handler runs.
#[test]
fn handler_runs_after_a_panic() {
    let case = Case::new(
        "name: p\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: e, component: exit_report, inputs: {message: cleanup}}\n      steps:\n        - {task: boom, component: panic_op, inputs: {message: kaboom}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1);
    let boom = task(&record, "g/boom");
    assert_eq!(boom["failure"]["kind"], "trap");
    assert_eq!(boom["failure"]["trap_code"], "unreachable_code_reached");
    assert!(boom["failure"]["message"].as_str().unwrap().contains("kaboom"), "{boom:#}");
    let e = task(&record, "g/e");
    assert_eq!(e["state"], "succeeded");
    assert_eq!(e["final_status"]["failures"][0]["task"], "g/boom");
    assert_eq!(e["final_status"]["failures"][0]["kind"], "trap");
}

/// Writes a file into the case's directory and returns its name.
fn file(case: &Case, name: &str, bytes: &[u8]) -> String {
    std::fs::write(case.dir.path().join(name), bytes).unwrap();
    name.to_string()
}

/// Ensures that body components that fail to load (not wasm, a core module, a component of
/// another world) fail their task with kind `load` and a message that says what to do, and
/// that the handler runs with the failure in its final status.
#[test]
fn handler_runs_after_load_failures() {
    for (file_name, bytes, expected) in [
        ("not.wasm", &b"#!/bin/sh\necho I am not wasm\n"[..], "is not a WebAssembly component"),
        ("core.wasm", &[0, b'a', b's', b'm', 1, 0, 0, 0][..], "is a core WebAssembly module, not a component"),
        ("other.wat", WAT_EMPTY_COMPONENT.as_bytes(), "does not implement the wasmpipe:pipeline/task world"),
        ("needs.wat", WAT_UNKNOWN_IMPORT.as_bytes(), "needs an import that wasmpipe does not provide"),
    ] {
        let case = Case::with_components(
            "name: p\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: e, component: exit_report, inputs: {message: cleanup}}\n      steps:\n        - {task: body, component: bad}\n",
            &[("bad", file_name)],
        );
        file(&case, file_name, bytes);

        let (code, record) = case.run_json(&[]);
        assert_eq!(code, 1, "{record:#}");
        let body = task(&record, "g/body");
        assert_eq!(body["state"], "failed", "{file_name}");
        assert_eq!(body["failure"]["kind"], "load", "{file_name}");
        let message = body["failure"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{file_name}: {message}");
        let e = task(&record, "g/e");
        assert_eq!(e["state"], "succeeded", "{file_name}");
        assert_eq!(e["final_status"]["failures"][0]["task"], "g/body");
        assert_eq!(e["final_status"]["failures"][0]["kind"], "load");
    }
}

/// Ensures that a broken exit component stops the run before anything runs (exit 2), with a
/// message naming the exit task and its place.
#[test]
fn a_broken_exit_component_stops_the_run_before_it_starts() {
    let case = Case::with_components(
        "name: p\nsteps:\n  - exit_handler:\n      exit: {task: e, component: broken}\n      steps:\n        - {task: a, component: print_op, inputs: {message: hi}}\n",
        &[("broken", "broken.wasm")],
    );
    file(&case, "broken.wasm", b"garbage");
    let (code, out) = case.run_json(&[]);
    assert_eq!(code, 2, "{out:#}");
    let error = &out["errors"][0];
    assert_eq!(error["path"], "steps[0].exit_handler.exit.component");
    assert!(error["line"].is_number());
    assert!(error["message"].as_str().unwrap().contains("exit task `e` cannot run"), "{error}");
    assert!(!case.runs().exists(), "nothing ran");
}

/// (These tests run one task at a time, `--jobs 1`, so that the order in which independent
/// tasks start is fixed; `tests/parallel.rs` covers fail fast with tasks running together.)
///
/// Ensures the default rule: a failure skips its dependents (`upstream_failed`, naming the
/// failed task) and nothing else; an independent later task runs; the exit handler runs.
#[test]
fn a_failure_skips_its_dependents_and_nothing_else() {
    let case = Case::new(
        "name: p\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: e, component: exit_report, inputs: {message: cleanup}}\n      steps:\n        - {task: ok, component: print_op, inputs: {message: first}}\n        - {task: bad, component: fail_op, inputs: {message: broken}}\n        - {task: later, component: print_op, inputs: {message: independent}}\n        - {task: needs-bad, component: print_op, inputs: {message: never}, after: [bad]}\n",
    );
    let (code, record) = case.run_json(&["--jobs", "1"]);
    assert_eq!(code, 1);
    assert_eq!(record["state"], "failed");
    assert_eq!(task(&record, "g/later")["state"], "succeeded");
    let needs = task(&record, "g/needs-bad");
    assert_eq!(needs["skip"], serde_json::json!({"reason": "upstream_failed", "cause": "g/bad"}));
    let e = task(&record, "g/e");
    assert_eq!(e["state"], "succeeded");
    assert_eq!(e["final_status"]["state"], "failed");
}

/// Ensures fail fast, opted into on a group: after a failure no new task of the group starts;
/// an independent later task is skipped with `fail_fast`, a dependent one with
/// `upstream_failed`, each naming its cause; the exit handler still runs.
#[test]
fn fail_fast_skips_the_rest_of_the_group_with_reason_and_cause() {
    let case = Case::new(
        "name: p\nsteps:\n  - exit_handler:\n      name: g\n      fail_fast: true\n      exit: {task: e, component: exit_report, inputs: {message: cleanup}}\n      steps:\n        - {task: ok, component: print_op, inputs: {message: first}}\n        - {task: bad, component: fail_op, inputs: {message: broken}}\n        - {task: later, component: print_op, inputs: {message: never}}\n        - {task: needs-bad, component: print_op, inputs: {message: never}, after: [bad]}\n",
    );
    let (code, record) = case.run_json(&["--jobs", "1"]);
    assert_eq!(code, 1);
    assert_eq!(task(&record, "g/ok")["state"], "succeeded");
    let later = task(&record, "g/later");
    assert_eq!(later["state"], "skipped");
    assert_eq!(later["skip"], serde_json::json!({"reason": "fail_fast", "cause": "g/bad"}));
    assert!(later["attempts"].as_array().unwrap().is_empty());
    let needs = task(&record, "g/needs-bad");
    assert_eq!(needs["skip"], serde_json::json!({"reason": "upstream_failed", "cause": "g/bad"}));
    assert_eq!(task(&record, "g/e")["state"], "succeeded");
    let ids: Vec<&str> = record["tasks"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["g/ok", "g/bad", "g/later", "g/needs-bad", "g/e"], "declaration order, exit task after its body");
}

/// Ensures nesting: the inner handler finishes before the outer one starts; a failing inner
/// exit task fails its group; the outer final status lists every failed task, the inner exit
/// task included (marked as such); a group never entered has its exit task skipped.
#[test]
fn nested_handlers_run_inner_first_and_report_inner_exit_failures() {
    let case = Case::new(
        "name: p\nsteps:\n  - {task: first, component: fail_op, inputs: {message: top failed}}\n  - exit_handler:\n      name: never\n      exit: {task: never-exit, component: print_op, inputs: {message: x}}\n      steps:\n        - {task: never-body, component: print_op, inputs: {message: x}, after: [first]}\n",
    );
    let (code, record) = case.run_json(&["--jobs", "1"]);
    assert_eq!(code, 1);
    for id in ["never/never-body", "never/never-exit"] {
        let t = task(&record, id);
        assert_eq!(t["state"], "skipped", "{id}");
        assert_eq!(t["skip"], serde_json::json!({"reason": "upstream_failed", "cause": "first"}), "{id}");
    }

    let case = Case::new(
        "name: p\nsteps:\n  - exit_handler:\n      name: outer\n      exit: {task: outer-exit, component: exit_report, inputs: {message: outer}}\n      steps:\n        - exit_handler:\n            name: inner\n            exit: {task: inner-exit, component: fail_op, inputs: {message: inner cleanup failed}}\n            steps:\n              - {task: work, component: trap_op, inputs: {message: working}}\n        - {task: sibling, component: print_op, inputs: {message: independent}}\n",
    );
    let (code, record) = case.run_json(&["--jobs", "1"]);
    assert_eq!(code, 1);
    let inner_exit = task(&record, "outer/inner/inner-exit");
    assert_eq!(inner_exit["state"], "failed");
    assert_eq!(inner_exit["final_status"]["failures"][0]["task"], "outer/inner/work");
    let outer_exit = task(&record, "outer/outer-exit");
    assert_eq!(outer_exit["state"], "succeeded");
    let inner_done = inner_exit["attempts"][0]["finished_at"].as_str().unwrap();
    let outer_start = outer_exit["attempts"][0]["started_at"].as_str().unwrap();
    assert!(inner_done <= outer_start, "inner handler finished before the outer one started");
    let failures = outer_exit["final_status"]["failures"].as_array().unwrap();
    let summary: Vec<(&str, &str, bool)> = failures
        .iter()
        .map(|f| (f["task"].as_str().unwrap(), f["kind"].as_str().unwrap(), f["exit_handler"].as_bool().unwrap()))
        .collect();
    assert_eq!(summary, [("outer/inner/work", "trap", false), ("outer/inner/inner-exit", "error", true)]);
    assert_eq!(
        task(&record, "outer/sibling")["state"],
        "succeeded",
        "the failed inner group skips only its dependents"
    );
}

/// Ensures that a body that succeeds gives the exit task a `succeeded` status with no failures,
/// that the exit task may read a body output through an optional input, and the run exits 0.
#[test]
fn a_successful_body_passes_its_outputs_to_the_exit_task() {
    let case = Case::new(
        "name: p\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: e, component: collect, inputs: {items: [], labels: {}, extra: \"{{tasks.probe.output}}\"}}\n      steps:\n        - {task: probe, component: type_of, inputs: {value: 7}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(record["state"], "succeeded");
    assert_eq!(task(&record, "g/e")["outputs"]["output"]["extra"], "int");
}

/// Ensures that when the body task an exit task reads from does not succeed, the optional
/// input is simply absent and the exit task still runs (`docs/semantics.md`, rule 6).
#[test]
fn an_exit_task_runs_without_outputs_of_failed_body_tasks() {
    let case = Case::new(
        "name: p\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: e, component: collect, inputs: {items: [], labels: {}, extra: \"{{tasks.probe.output}}\"}}\n      steps:\n        - {task: bad, component: fail_op, inputs: {message: stop}}\n        - {task: probe, component: type_of, inputs: {value: 7}, after: [bad]}\n",
    );
    let (code, record) = case.run_json(&["--jobs", "1"]);
    assert_eq!(code, 1);
    assert_eq!(task(&record, "g/probe")["skip"]["reason"], "upstream_failed");
    let e = task(&record, "g/e");
    assert_eq!(e["state"], "succeeded");
    assert_eq!(e["outputs"]["output"]["extra"], serde_json::Value::Null);
    assert!(printed(e).is_empty());
}

/// Ensures that three nested handlers run innermost first, each after its own body, and that
/// each receives the failures below it.
#[test]
fn three_nested_handlers_run_innermost_first() {
    let case = Case::new(
        "name: p\nsteps:\n  - exit_handler:\n      name: a\n      exit: {task: a-exit, component: exit_report, inputs: {message: a}}\n      steps:\n        - exit_handler:\n            name: b\n            exit: {task: b-exit, component: exit_report, inputs: {message: b}}\n            steps:\n              - exit_handler:\n                  name: c\n                  exit: {task: c-exit, component: exit_report, inputs: {message: c}}\n                  steps:\n                    - {task: work, component: fail_op, inputs: {message: deep failure}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1);
    let ids: Vec<&str> = record["tasks"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["a/b/c/work", "a/b/c/c-exit", "a/b/b-exit", "a/a-exit"]);
    let mut previous_end = String::new();
    for id in ids {
        let t = task(&record, id);
        let start = t["attempts"][0]["started_at"].as_str().unwrap().to_string();
        assert!(start >= previous_end, "{id} started before the task before it ended");
        previous_end = t["attempts"][0]["finished_at"].as_str().unwrap().to_string();
    }
    for (exit, group) in [("a/b/c/c-exit", "c"), ("a/b/b-exit", "b"), ("a/a-exit", "a")] {
        let status = &task(&record, exit)["final_status"];
        assert_eq!(status["group"], group);
        assert_eq!(status["state"], "failed");
        assert_eq!(status["failures"][0]["task"], "a/b/c/work", "{exit} sees the deep failure");
        assert_eq!(status["failures"].as_array().unwrap().len(), 1, "the inner exit tasks succeeded");
    }
}
