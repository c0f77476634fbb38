//! `if` / `elif` / `else` groups: the branch whose condition holds runs, the others are skipped
//! with `condition_false` (which fails nothing), exit handlers inside branches follow rule 1,
//! and conditions are checked before anything runs.

mod common;

use common::{Case, task};

const CHAIN: &str = "name: c\nparams:\n  n: {type: int, default: 5}\nsteps:\n  - if:\n      name: big\n      condition: \"{{params.n}} > 3\"\n      steps:\n        - {task: say-big, component: print_op, inputs: {message: big}}\n  - elif:\n      name: small\n      condition: \"{{params.n}} > 0 and {{params.n}} <= 3\"\n      steps:\n        - {task: say-small, component: print_op, inputs: {message: small}}\n  - else:\n      steps:\n        - {task: say-none, component: print_op, inputs: {message: none}}\n  - {task: always, component: print_op, inputs: {message: done}}\n";

/// Returns (state, skip reason, skip cause) of the three branch tasks for `-p n=N`.
fn branches(n: &str) -> Vec<(String, String, String)> {
    let case = Case::new(CHAIN);
    let (code, record) = case.run_json(&["-p", &format!("n={n}")]);
    assert_eq!(code, 0, "skipped branches fail nothing: {record:#}");
    assert_eq!(record["state"], "succeeded");
    assert_eq!(task(&record, "always")["state"], "succeeded");
    ["big/say-big", "small/say-small", "condition-1/say-none"]
        .iter()
        .map(|id| {
            let t = task(&record, id);
            let text = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
            (text(&t["state"]), text(&t["skip"]["reason"]), text(&t["skip"]["cause"]))
        })
        .collect()
}

/// Ensures that exactly one branch of an if/elif/else chain runs, chosen by its condition, and
/// that the others are skipped with `condition_false` naming the branch responsible.
#[test]
fn exactly_one_branch_runs() {
    let ran = |s: &str| (s.to_string(), String::new(), String::new());
    let skipped = |cause: &str| ("skipped".to_string(), "condition_false".to_string(), cause.to_string());
    assert_eq!(branches("5"), [ran("succeeded"), skipped("big"), skipped("big")]);
    assert_eq!(branches("2"), [skipped("big"), ran("succeeded"), skipped("small")]);
    assert_eq!(branches("0"), [skipped("big"), skipped("small"), ran("succeeded")]);
}

/// Ensures that a condition may read an upstream task's output, and waits for it.
#[test]
fn a_condition_reads_an_upstream_output() {
    let case = Case::new(
        "name: c\nsteps:\n  - {task: kind, component: type_of, inputs: {value: 7}}\n  - if:\n      name: is-int\n      condition: \"{{tasks.kind.output}} == 'int'\"\n      steps:\n        - {task: yes, component: print_op, inputs: {message: \"it is an int\"}}\n",
    );
    let (code, record) = case.run_json(&["--jobs", "2"]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(task(&record, "is-int/yes")["state"], "succeeded");
}

/// Ensures that an exit handler inside a branch runs when the branch is taken, and has its exit
/// task skipped with the branch's reason when it is not (rule 1; KFP cannot do either).
#[test]
fn exit_handlers_inside_branches() {
    let body = "name: c\nparams:\n  go: {type: bool, default: true}\nsteps:\n  - if:\n      name: maybe\n      condition: \"{{params.go}}\"\n      steps:\n        - exit_handler:\n            name: g\n            exit: {task: e, component: exit_report, inputs: {message: cleanup}}\n            steps:\n              - {task: work, component: fail_op, inputs: {message: failed in a branch}}\n";
    let case = Case::new(body);
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(task(&record, "maybe/g/e")["state"], "succeeded");
    assert_eq!(task(&record, "maybe/g/e")["final_status"]["failures"][0]["task"], "maybe/g/work");

    let (code, record) = case.run_json(&["-p", "go=false"]);
    assert_eq!(code, 0);
    let e = task(&record, "maybe/g/e");
    assert_eq!(e["state"], "skipped");
    assert_eq!(e["skip"], serde_json::json!({"reason": "condition_false", "cause": "maybe"}));
}

/// Ensures that conditions are checked before anything runs: a type mismatch, a syntax error,
/// an unknown reference, and an `else` without an `if`.
#[test]
fn bad_conditions_are_reported_with_their_place() {
    let case = Case::new(
        "name: c\nparams:\n  n: {type: int, default: 1}\nsteps:\n  - else:\n      steps: []\n  - if:\n      condition: \"{{params.n}} == 'one'\"\n      steps: []\n  - if:\n      condition: \"{{params.n}} >\"\n      steps: []\n  - if:\n      condition: \"{{params.m}} > 1\"\n      steps: []\n",
    );
    let (code, out) = case.validate_json();
    assert_eq!(code, 2);
    let errors = out["errors"].as_array().unwrap();
    let at = |path: &str| {
        errors
            .iter()
            .find(|e| e["path"] == path)
            .unwrap_or_else(|| panic!("no error at {path}: {errors:#?}"))["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(at("steps[0].else").contains("must directly follow an `if` or `elif`"));
    assert!(
        at("steps[1].if.condition").contains("cannot be compared with a string"),
        "{}",
        at("steps[1].if.condition")
    );
    assert!(at("steps[2].if.condition").contains("needs a value on its right"));
    assert!(at("steps[3].if.condition").contains("names no parameter"));
}

/// Ensures that a condition that cannot be evaluated at run time (a string compared with an
/// int, through an `any` output validation cannot type) fails the branch's tasks with kind
/// `input` naming the condition, instead of counting as false and skipping them; the enclosing
/// exit handler runs and receives the failure, and the run fails.
#[test]
fn a_condition_that_cannot_be_evaluated_fails_the_branch_with_kind_input() {
    let case = Case::new(
        "name: c\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: e, component: exit_report, inputs: {message: cleanup}}\n      steps:\n        - {task: t, component: echo, inputs: {value: abc}}\n        - if:\n            name: big\n            condition: \"{{tasks.t.output}} > 3\"\n            steps:\n              - {task: inside, component: print_op, inputs: {message: never}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1, "{record:#}");
    let inside = task(&record, "g/big/inside");
    assert_eq!(inside["state"], "failed", "{inside:#}");
    assert_eq!(inside["failure"]["kind"], "input");
    assert!(inside["failure"]["message"].as_str().unwrap().starts_with("the condition of `g/big`: "), "{inside:#}");
    assert!(inside["attempts"].as_array().unwrap().is_empty(), "it never started: {inside:#}");
    let e = task(&record, "g/e");
    assert_eq!(e["state"], "succeeded", "{e:#}");
    assert_eq!(e["final_status"]["state"], "failed");
    assert_eq!(e["final_status"]["failures"][0]["task"], "g/big/inside");
}
