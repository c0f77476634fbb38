//! Every failure kind of `docs/semantics.md` rule 11, made to happen for real in a guest, fails its
//! task with that kind, and the enclosing exit handler runs exactly once and receives it (rule 2).

mod common;

use common::fault_under_handler;

fn fault(mode: &str, extra: &str) -> serde_json::Value {
    let (failure, _) =
        fault_under_handler(&format!("{{task: body, component: fault, inputs: {{mode: {mode}}}{extra}}}"), &[]);
    failure
}

fn assert_trap(failure: &serde_json::Value, code: &str) {
    assert_eq!(failure["kind"], "trap", "{failure:#}");
    assert_eq!(failure["trap_code"], code, "{failure:#}");
}

/// Ensures that an error result fails the task with kind `error` and the guest's message.
#[test]
fn error_result() {
    let failure = fault("error", "");
    assert_eq!(failure["kind"], "error");
    assert_eq!(failure["message"], "asked to fail with 0");
    assert!(failure.get("trap_code").is_none());
}

/// Ensures that `unreachable` traps with `unreachable_code_reached`.
#[test]
fn trap_unreachable() {
    assert_trap(&fault("unreachable", ""), "unreachable_code_reached");
}

/// Ensures that a load past the end of memory traps with `memory_out_of_bounds`.
#[test]
fn trap_out_of_bounds() {
    assert_trap(&fault("out_of_bounds", ""), "memory_out_of_bounds");
}

/// Ensures that an integer division by zero traps with `integer_division_by_zero`.
#[test]
fn trap_division_by_zero() {
    let (failure, _) = fault_under_handler("{task: body, component: fault, inputs: {mode: divide_by_zero, n: 0}}", &[]);
    assert_trap(&failure, "integer_division_by_zero");
}

/// Ensures that unbounded recursion traps with `stack_overflow` and the host survives.
#[test]
fn trap_stack_overflow() {
    assert_trap(&fault("stack_overflow", ""), "stack_overflow");
}

/// Ensures that a compute loop is stopped at the task's timeout (epoch interruption).
#[test]
fn timeout_in_a_compute_loop() {
    let failure = fault("spin", ", timeout: 300ms");
    assert_eq!(failure["kind"], "timeout");
    assert!(failure["message"].as_str().unwrap().contains("300ms"), "{failure}");
}

/// Ensures that a guest blocked inside a host call (a WASI sleep) is stopped at its timeout too
/// (wasmtime #9188: epochs alone cannot).
#[test]
fn timeout_while_blocked_in_a_host_call() {
    let failure = fault("sleep", ", timeout: 300ms");
    assert_eq!(failure["kind"], "timeout");
}

/// Ensures that hitting the memory limit is reported as `memory_limit`, not as the generic
/// trap the guest's failed allocation ends in.
#[test]
fn memory_limit() {
    let failure = fault("alloc", ", memory: 32MiB");
    assert_eq!(failure["kind"], "memory_limit", "{failure:#}");
    assert!(failure["message"].as_str().unwrap().contains("32 MiB"), "{failure}");
    assert!(failure.get("trap_code").is_none());
}

/// Ensures that running out of fuel is reported as `fuel_exhausted`.
#[test]
fn fuel_exhausted() {
    let failure = fault("spin", ", fuel: 100000");
    assert_eq!(failure["kind"], "fuel_exhausted", "{failure:#}");
    assert!(failure["message"].as_str().unwrap().contains("100000"));
}

/// Ensures that `--fuel` sets the fuel of tasks that set none.
#[test]
fn fuel_from_the_command_line() {
    let (failure, _) =
        fault_under_handler("{task: body, component: fault, inputs: {mode: spin}}", &["--fuel", "50000"]);
    assert_eq!(failure["kind"], "fuel_exhausted", "{failure:#}");
}

/// Ensures that `--timeout` sets the timeout of tasks that set none, and a task's own wins.
#[test]
fn timeout_from_the_command_line_and_the_task_wins() {
    let (failure, _) =
        fault_under_handler("{task: body, component: fault, inputs: {mode: spin}}", &["--timeout", "200ms"]);
    assert_eq!(failure["kind"], "timeout");
    assert!(failure["message"].as_str().unwrap().contains("200ms"), "{failure}");
    let (failure, _) = fault_under_handler(
        "{task: body, component: fault, inputs: {mode: spin}, timeout: 250ms}",
        &["--timeout", "10m"],
    );
    assert!(failure["message"].as_str().unwrap().contains("250ms"), "{failure}");
}

/// Ensures that a value of the wrong type at run time (validation cannot see through `any`)
/// fails the consuming task with kind `input`, and the handler runs.
#[test]
fn input_failure_at_run_time() {
    let case = common::Case::new(
        "name: input\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: e, component: exit_report, inputs: {message: cleanup}}\n      steps:\n        - {task: producer, component: echo, inputs: {value: seven}}\n        - {task: body, component: add, inputs: {a: \"{{tasks.producer.output}}\"}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1);
    let body = common::task(&record, "g/body");
    assert_eq!(body["failure"]["kind"], "input");
    assert_eq!(body["failure"]["message"], "input `a`: expected an int, got string `\"seven\"`");
    assert!(body["attempts"][0]["failure"].is_object(), "the failed attempt is recorded");
    let e = common::task(&record, "g/e");
    assert_eq!(e["final_status"]["failures"][0]["kind"], "input");
}

/// Ensures that an exit task that times out is reported as such and fails its group and the
/// run, and that its timeout is its own: the body's time does not shorten it (rule 4).
#[test]
fn an_exit_task_that_times_out() {
    let case = common::Case::new(
        "name: exit-timeout\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: e, component: fault, inputs: {mode: spin}, timeout: 300ms}\n      steps:\n        - {task: slow, component: fault, inputs: {mode: sleep}, timeout: 400ms}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(common::task(&record, "g/slow")["failure"]["kind"], "timeout");
    let e = common::task(&record, "g/e");
    assert_eq!(e["state"], "failed");
    assert_eq!(e["failure"]["kind"], "timeout");
    assert!(e["failure"]["message"].as_str().unwrap().contains("300ms"));
}
