//! The scheduler's own tests: the exit-handler rules on plans, with no wasmtime.

use std::path::Path;

use super::*;
use crate::model::outcome::FailureKind;

fn plan(steps: &str) -> Plan {
    let text = format!("version: 1\nname: p\ncomponents: {{c: {{path: c.wasm}}}}\nsteps:\n{steps}");
    Plan::build(crate::model::load::load_str(&text, Path::new("p.yaml"), Path::new(".")).unwrap())
}

/// Runs the scheduler to the end; `fails` names the tasks that fail. Returns the start order.
fn drive(plan: &Plan, fails: &[&str]) -> (Scheduler, Vec<String>) {
    let mut s = Scheduler::new(Arc::new(plan.clone()));
    let mut order = Vec::new();
    while let Some(t) = s.next_ready() {
        let id = s.tree().tasks[t].id.clone();
        let result = if fails.contains(&id.as_str()) { Err(Failure::new(FailureKind::Error, "no")) } else { Ok(()) };
        order.push(id);
        s.finish(t, result);
    }
    assert!(s.is_done());
    (s, order)
}

#[test]
fn the_exit_task_starts_after_its_body_and_inner_handlers_before_outer_ones() {
    let plan = plan(
        "  - exit_handler:\n      name: o\n      exit: {task: oe, component: c}\n      steps:\n        - exit_handler:\n            name: i\n            exit: {task: ie, component: c}\n            steps:\n              - {task: a, component: c}\n        - {task: b, component: c}\n",
    );
    let (s, order) = drive(&plan, &[]);
    assert_eq!(order, ["o/i/a", "o/i/ie", "o/b", "o/oe"]);
    assert_eq!(s.run_state(), RunState::Succeeded);
}

#[test]
fn a_failed_exit_task_fails_its_group_and_the_run() {
    let plan = plan(
        "  - exit_handler:\n      name: g\n      exit: {task: e, component: c}\n      steps:\n        - {task: a, component: c}\n  - {task: after, component: c}\n",
    );
    let (s, order) = drive(&plan, &["g/e"]);
    assert_eq!(order, ["g/a", "g/e"]);
    assert_eq!(s.run_state(), RunState::Failed);
    let after = s.tree().tasks.iter_enumerated().find(|(_, t)| t.id == "after").unwrap().0;
    assert_eq!(s.status(after), &TaskStatus::Skipped(Skip { reason: SkipReason::FailFast, cause: "g".into() }));
}

#[test]
fn a_task_reading_from_inside_a_group_waits_for_the_whole_group() {
    let plan = plan(
        "  - {task: reader, component: c, after: [inner]}\n  - exit_handler:\n      name: g\n      exit: {task: e, component: c}\n      steps:\n        - {task: inner, component: c}\n",
    );
    let (_, order) = drive(&plan, &[]);
    assert_eq!(order, ["g/inner", "g/e", "reader"], "declared first, but it waits for the group's exit task");
}

#[test]
fn final_status_lists_failures_of_the_body_only() {
    let plan = plan(
        "  - exit_handler:\n      name: g\n      exit: {task: e, component: c}\n      steps:\n        - {task: a, component: c}\n        - {task: b, component: c}\n",
    );
    let mut s = Scheduler::new(Arc::new(plan));
    let a = s.next_ready().unwrap();
    s.finish(a, Err(Failure::new(FailureKind::Trap, "boom")));
    let e = s.next_ready().unwrap();
    assert_eq!(s.tree().tasks[e].id, "g/e", "b is skipped by fail fast, so the exit task is next");
    let status = s.final_status(e, "run-1");
    assert_eq!(status.state, RunState::Failed);
    assert_eq!(status.group, "g");
    assert_eq!(status.failures.len(), 1);
    assert_eq!(status.failures[0].task, "g/a");
    assert_eq!(status.failures[0].kind, FailureKind::Trap);
}
