//! The scheduler's own tests: the exit-handler rules on plans, with no wasmtime.

use std::path::Path;

use super::*;
use crate::model::outcome::FailureKind;

fn plan(steps: &str) -> Plan {
    plan_with("", steps)
}

/// A plan with pipeline-level `options` (YAML lines) before its steps.
fn plan_with(options: &str, steps: &str) -> Plan {
    let text = format!("version: 1\nname: p\n{options}components: {{c: {{path: c.wasm}}}}\nsteps:\n{steps}");
    Plan::build(crate::model::load::load_str(&text, Path::new("p.yaml"), Path::new(".")).unwrap())
}

/// The status of the task called `id`.
fn status_of<'a>(s: &'a Scheduler, id: &str) -> &'a TaskStatus {
    let t = s.tree().tasks.iter_enumerated().find(|(_, t)| t.id == id).unwrap().0;
    s.status(t)
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
    let steps = "  - exit_handler:\n      name: g\n      exit: {task: e, component: c}\n      steps:\n        - {task: a, component: c}\n  - {task: after, component: c}\n";
    let (s, order) = drive(&plan(steps), &["g/e"]);
    assert_eq!(order, ["g/a", "g/e", "after"], "`after` does not depend on the group, so it runs");
    assert_eq!(s.run_state(), RunState::Failed);

    let (s, order) = drive(&plan_with("fail_fast: true\n", steps), &["g/e"]);
    assert_eq!(order, ["g/a", "g/e"]);
    assert_eq!(s.run_state(), RunState::Failed);
    assert_eq!(
        status_of(&s, "after"),
        &TaskStatus::Skipped(Box::new(Skip { reason: SkipReason::FailFast, cause: "g".into() }))
    );
}

/// Ensures the structural rule: a failure skips exactly what depends on it, whatever order
/// the independent tasks finish in (KFP's `pipeline_with_multiple_exit_handlers`: three sibling
/// handler groups, the first of which fails).
#[test]
fn a_failure_skips_its_dependents_only_in_every_finishing_order() {
    let steps = "  - exit_handler:\n      name: one\n      exit: {task: e1, component: c}\n      steps:\n        - {task: p1, component: c}\n        - {task: bad, component: c}\n        - {task: needs-bad, component: c, after: [bad]}\n  - exit_handler:\n      name: two\n      exit: {task: e2, component: c}\n      steps:\n        - {task: p2, component: c}\n  - exit_handler:\n      name: three\n      exit: {task: e3, component: c}\n      steps:\n        - {task: p3, component: c}\n  - {task: after-one, component: c, after: [p1]}\n";
    let plan = Arc::new(plan(steps));
    let mut outcomes = Vec::new();
    // At most `jobs` tasks at once, finished in an order that a seed picks (as `--jobs` and
    // timing would).
    for seed in 0..64u64 {
        let jobs = 1 + seed as usize % 4;
        let mut s = Scheduler::new(plan.clone());
        let mut running = Vec::new();
        let mut rng = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        loop {
            while running.len() < jobs
                && let Some(t) = s.next_ready()
            {
                running.push(t);
            }
            if running.is_empty() {
                break;
            }
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let t = running.swap_remove((rng >> 33) as usize % running.len());
            let fails = s.tree().tasks[t].id == "one/bad";
            s.finish(t, if fails { Err(Failure::new(FailureKind::Error, "no")) } else { Ok(()) });
        }
        assert!(s.is_done());
        let states: Vec<(String, TaskStatus)> =
            s.tree().tasks.iter_enumerated().map(|(t, task)| (task.id.clone(), s.status(t).clone())).collect();
        outcomes.push(states);
    }
    assert!(outcomes.windows(2).all(|w| w[0] == w[1]), "the outcome does not depend on the order");
    let states = &outcomes[0];
    let skipped: Vec<&str> =
        states.iter().filter(|(_, st)| matches!(st, TaskStatus::Skipped(_))).map(|(id, _)| id.as_str()).collect();
    assert_eq!(skipped, ["one/needs-bad", "after-one"], "{states:?}");
    let ran = |id: &str| states.iter().any(|(i, st)| i == id && *st == TaskStatus::Succeeded);
    assert!(["one/p1", "one/e1", "two/p2", "two/e2", "three/p3", "three/e3"].iter().all(|id| ran(id)));
}

/// Ensures that `fail_fast: true` on a group stops new starts in that group only: its parent
/// and its siblings go on unless they fail fast too.
#[test]
fn fail_fast_applies_to_the_group_that_sets_it() {
    let steps = "  - exit_handler:\n      name: g\n      fail_fast: true\n      exit: {task: e, component: c}\n      steps:\n        - {task: bad, component: c}\n        - {task: later, component: c}\n  - {task: sibling, component: c}\n";
    let (s, order) = drive(&plan(steps), &["g/bad"]);
    assert_eq!(order, ["g/bad", "g/e", "sibling"]);
    assert_eq!(
        status_of(&s, "g/later"),
        &TaskStatus::Skipped(Box::new(Skip { reason: SkipReason::FailFast, cause: "g/bad".into() }))
    );
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
    let b = s.next_ready().unwrap();
    assert_eq!(s.tree().tasks[b].id, "g/b", "b does not depend on a, so it runs");
    s.finish(b, Ok(()));
    let e = s.next_ready().unwrap();
    assert_eq!(s.tree().tasks[e].id, "g/e");
    let status = s.final_status(e, "run-1");
    assert_eq!(status.state, RunState::Failed);
    assert_eq!(status.group, "g");
    assert_eq!(status.failures.len(), 1);
    assert_eq!(status.failures[0].task, "g/a");
    assert_eq!(status.failures[0].kind, FailureKind::Trap);
}

/// Ensures that a run that ends early (the pool stopped asking: its workers failed) is never
/// `succeeded`: a task that failed deep inside a group still running, or tasks left waiting,
/// make it `failed`.
#[test]
fn a_run_that_ends_early_is_failed() {
    let plan = plan(
        "  - exit_handler:\n      name: g\n      exit: {task: e, component: c}\n      steps:\n        - exit_handler:\n            name: inner\n            exit: {task: ie, component: c}\n            steps:\n              - {task: a, component: c}\n              - {task: b, component: c}\n",
    );
    let mut s = Scheduler::new(Arc::new(plan));
    let a = s.next_ready().unwrap();
    let _b = s.next_ready().unwrap();
    s.finish(a, Err(Failure::new(FailureKind::Error, "no")));
    assert!(!s.is_done());
    assert_eq!(s.run_state(), RunState::Failed, "a failed task deep in a running group");

    let mut s = Scheduler::new(Arc::new(plan_with("", "  - {task: x, component: c}\n  - {task: y, component: c}\n")));
    let x = s.next_ready().unwrap();
    s.finish(x, Ok(()));
    assert_eq!(s.run_state(), RunState::Failed, "`y` never ran: the run did not succeed");
}
