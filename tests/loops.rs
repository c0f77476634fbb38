//! `parallel_for` loops (`docs/semantics.md`, rules 1, 7 and 9): one iteration per item,
//! `parallelism`, fan-in, exit handlers per iteration, `fail_fast`, nesting, and loops never
//! entered.

mod common;

use common::{Case, assert_messages, ids, most_at_once, printed, task, validation_messages};
use serde_json::{Value, json};

/// Ensures that a loop over a literal list runs its steps once per item, in item order in the
/// record, each iteration reading its own item and its own upstream task, and that a task
/// outside the loop receives the list of outputs in item order (fan-in).
#[test]
fn a_loop_runs_once_per_item_and_a_reader_outside_collects_the_outputs_in_order() {
    let case = Case::new(
        "name: p\nsteps:\n  - parallel_for:\n      name: fan\n      items: [3, 1, 2]\n      steps:\n        - {task: inc, component: add, inputs: {a: \"{{item}}\", b: 10}}\n        - {task: twice, component: add, inputs: {a: \"{{tasks.inc.output}}\", b: \"{{tasks.inc.output}}\"}}\n  - {task: total, component: sum, inputs: {values: \"{{tasks.twice.output}}\"}}\noutputs:\n  each: \"{{tasks.inc.output}}\"\n  total: \"{{tasks.total.output}}\"\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(
        ids(&record),
        ["fan/0/inc", "fan/0/twice", "fan/1/inc", "fan/1/twice", "fan/2/inc", "fan/2/twice", "total"]
    );
    assert_eq!(task(&record, "fan/1/twice")["outputs"]["output"], 22);
    assert_eq!(record["outputs"], json!({"each": [13, 11, 12], "total": 72}));
}

/// Ensures that a loop over a task's list output of dicts binds the items' fields to inputs.
#[test]
fn a_loop_over_an_upstream_list_of_dicts_binds_fields() {
    let case = Case::new(
        "name: p\nparams:\n  rows: {type: list, default: [{x: 1.5, f: 2}, {x: 4, f: 0.5}]}\nsteps:\n  - {task: rows, component: echo, inputs: {value: \"{{params.rows}}\"}}\n  - parallel_for:\n      items: \"{{tasks.rows.output}}\"\n      as: row\n      steps:\n        - {task: scale, component: scale, inputs: {x: \"{{row.x}}\", factor: \"{{row.f}}\"}}\noutputs:\n  values: \"{{tasks.scale.outputs.value}}\"\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(record["outputs"]["values"], json!([3.0, 2.0]));
    assert_eq!(task(&record, "for-loop-1/1/scale")["outputs"]["label"], "4x0.5");
}

/// Ensures that a 100-item loop with `parallelism: 4` under `--jobs 16`, whose guests wait in a
/// host call, never has more than 4 iterations running at once (from the attempts' times), and
/// that the fan-in sum sees all 100 outputs.
#[test]
fn parallelism_caps_running_iterations_and_the_fan_in_sums_them_all() {
    let items: Vec<String> = (1..=100).map(|i| i.to_string()).collect();
    let case = Case::new(&format!(
        "name: p\nsteps:\n  - parallel_for:\n      name: fan\n      items: [{}]\n      parallelism: 4\n      steps:\n        - {{task: nap, component: fault, inputs: {{mode: nap, n: 20}}}}\n        - {{task: id, component: add, inputs: {{a: \"{{{{item}}}}\", b: 0}}, after: [nap]}}\n  - {{task: total, component: sum, inputs: {{values: \"{{{{tasks.id.output}}}}\"}}}}\n",
        items.join(", ")
    ));
    let (code, record) = case.run_json(&["--jobs", "16"]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(task(&record, "total")["outputs"]["output"], 5050);
    // Each iteration runs from its nap's start to its id's end; count how many overlap.
    let time = |id: String, at: &str| task(&record, &id)["attempts"][0][at].as_str().unwrap().to_string();
    let most = most_at_once(
        (0..100).map(|i| (time(format!("fan/{i}/nap"), "started_at"), time(format!("fan/{i}/id"), "finished_at"))),
    );
    assert!(most <= 4, "at most 4 iterations at once, saw {most}");
    assert!(most >= 2, "iterations do run side by side under --jobs 16, saw {most}");
}

/// The body of the per-iteration exit-handler tests: iterations 1 and 3 of 5 fail.
fn per_iteration_handlers(fail_fast: bool) -> (i32, Value) {
    let case = Case::new(&format!(
        "name: p\nsteps:\n  - parallel_for:\n      name: fan\n      items: [ok, error, ok, error, ok]\n      parallelism: 1\n      fail_fast: {fail_fast}\n      steps:\n        - exit_handler:\n            name: g\n            exit: {{task: e, component: exit_report, inputs: {{message: \"cleanup {{{{item}}}}\"}}}}\n            steps:\n              - {{task: work, component: fault, inputs: {{mode: \"{{{{item}}}}\"}}}}\n"
    ));
    case.run_json(&[])
}

/// Ensures that without `fail_fast` every iteration runs, each with its own exit handler that
/// receives its own iteration's outcome, and the run fails.
#[test]
fn each_iteration_has_its_own_exit_handler_and_iterations_are_independent() {
    let (code, record) = per_iteration_handlers(false);
    assert_eq!(code, 1, "{record:#}");
    assert_eq!(record["state"], "failed");
    for i in 0..5 {
        let e = task(&record, &format!("fan/{i}/g/e"));
        assert_eq!(e["state"], "succeeded", "{e:#}");
        let failed = i == 1 || i == 3;
        assert_eq!(printed(e)[0], format!("cleanup {}", if failed { "error" } else { "ok" }));
        let status = &e["final_status"];
        assert_eq!(status["state"], if failed { "failed" } else { "succeeded" });
        let failures = status["failures"].as_array().unwrap();
        if failed {
            assert_eq!(failures.len(), 1);
            assert_eq!(failures[0]["task"], format!("fan/{i}/g/work"));
            assert_eq!(failures[0]["kind"], "error");
        } else {
            assert!(failures.is_empty());
        }
        assert_eq!(task(&record, &format!("fan/{i}/g/work"))["state"], if failed { "failed" } else { "succeeded" });
    }
}

/// Ensures that with `fail_fast: true` no iteration starts after one fails: later iterations
/// are skipped (`fail_fast`, caused by the failed iteration), exit tasks included, since their
/// groups were never entered; the failed iteration's handler still runs.
#[test]
fn fail_fast_skips_the_iterations_after_a_failure_with_their_handlers() {
    let (code, record) = per_iteration_handlers(true);
    assert_eq!(code, 1, "{record:#}");
    assert_eq!(task(&record, "fan/0/g/e")["final_status"]["state"], "succeeded");
    assert_eq!(task(&record, "fan/1/g/work")["state"], "failed");
    assert_eq!(task(&record, "fan/1/g/e")["final_status"]["state"], "failed");
    for i in 2..5 {
        for t in ["g/work", "g/e"] {
            let skipped = task(&record, &format!("fan/{i}/{t}"));
            assert_eq!(skipped["state"], "skipped", "{skipped:#}");
            assert_eq!(skipped["skip"], json!({"reason": "fail_fast", "cause": "fan/1"}));
        }
    }
}

/// Ensures that a loop whose upstream failed is never expanded: its tasks are in the record
/// once, with `*` for the iteration, skipped with `upstream_failed`, exit task included.
#[test]
fn a_loop_never_entered_lists_its_tasks_once_as_skipped() {
    let case = Case::new(
        "name: p\nsteps:\n  - {task: bad, component: fault, inputs: {mode: error}}\n  - {task: items, component: echo, inputs: {value: [1, 2]}, after: [bad]}\n  - parallel_for:\n      name: fan\n      items: \"{{tasks.items.output}}\"\n      steps:\n        - exit_handler:\n            name: g\n            exit: {task: e, component: exit_report, inputs: {message: x}}\n            steps:\n              - {task: work, component: add, inputs: {a: 1}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(ids(&record), ["bad", "items", "fan/*/g/work", "fan/*/g/e"]);
    for id in ["fan/*/g/work", "fan/*/g/e"] {
        assert_eq!(task(&record, id)["skip"], json!({"reason": "upstream_failed", "cause": "items"}));
    }
}

/// Ensures that a loop over an empty list runs nothing, succeeds, and fans in an empty list.
#[test]
fn an_empty_loop_succeeds_and_fans_in_an_empty_list() {
    let case = Case::new(
        "name: p\nparams:\n  xs: {type: list, default: []}\nsteps:\n  - parallel_for:\n      items: \"{{params.xs}}\"\n      steps:\n        - {task: inc, component: add, inputs: {a: \"{{item}}\"}}\n  - {task: total, component: sum, inputs: {values: \"{{tasks.inc.output}}\"}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(ids(&record), ["total"]);
    assert_eq!(task(&record, "total")["outputs"]["output"], 0);
}

/// Ensures that nested loops reach the outer item by its name, that ids nest
/// (`outer/1/inner/0/t`), and that a fan-in from outside both loops is a list of lists.
#[test]
fn nested_loops_name_their_items_and_fan_in_nests() {
    let case = Case::new(
        "name: p\nsteps:\n  - parallel_for:\n      name: outer\n      items: [10, 20]\n      as: tens\n      steps:\n        - parallel_for:\n            name: inner\n            items: [1, 2, 3]\n            steps:\n              - {task: add, component: add, inputs: {a: \"{{tens}}\", b: \"{{item}}\"}}\noutputs:\n  grid: \"{{tasks.add.output}}\"\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(task(&record, "outer/1/inner/0/add")["outputs"]["output"], 21);
    assert_eq!(record["outputs"]["grid"], json!([[11, 12, 13], [21, 22, 23]]));
}

/// Ensures that an exit handler around a loop runs once, after every iteration, and receives
/// the failures of every iteration.
#[test]
fn a_handler_around_a_loop_sees_every_iterations_failure() {
    let case = Case::new(
        "name: p\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: e, component: exit_report, inputs: {message: done}}\n      steps:\n        - parallel_for:\n            name: fan\n            items: [error, ok, error]\n            steps:\n              - {task: work, component: fault, inputs: {mode: \"{{item}}\"}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1);
    let e = task(&record, "g/e");
    let failed: Vec<&str> =
        e["final_status"]["failures"].as_array().unwrap().iter().map(|f| f["task"].as_str().unwrap()).collect();
    assert_eq!(failed, ["g/fan/0/work", "g/fan/2/work"]);
    assert_eq!(task(&record, "g/fan/1/work")["state"], "succeeded", "iterations are independent");
}

/// Ensures that loop mistakes are validation errors (exit 2) that name the place: items that
/// are not a list, a field some literal item lacks, an item read outside its loop, and a
/// fan-in bound to an input that is not a list.
#[test]
fn loop_mistakes_are_validation_errors() {
    let case = Case::new(
        "name: p\nparams:\n  n: {type: int, default: 3}\nsteps:\n  - parallel_for:\n      name: a\n      items: \"{{params.n}}\"\n      steps:\n        - {task: t1, component: add, inputs: {a: 1}}\n  - parallel_for:\n      name: b\n      items: [{x: 1}, {y: 2}]\n      steps:\n        - {task: t2, component: add, inputs: {a: \"{{item.x}}\"}}\n  - {task: t3, component: add, inputs: {a: \"{{item}}\"}}\n  - {task: t4, component: add, inputs: {a: \"{{tasks.t2.output}}\"}}\n",
    );
    assert_messages(
        &validation_messages(&case),
        &[
            "the items must be a list, but they are int",
            "item 1 of loop `b`",
            "`{{item}}` reads a loop item only inside a `parallel_for`",
            "input `a` of task `t4` is int, but it is bound to a list value",
        ],
    );
}

/// Ensures that a loop whose items turn out not to be a list at run time (through an `any`
/// output) fails its tasks with kind `input`, naming the loop, and the handler around it runs.
#[test]
fn items_that_are_not_a_list_at_run_time_fail_the_loop_with_kind_input() {
    let case = Case::new(
        "name: p\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: e, component: exit_report, inputs: {message: done}}\n      steps:\n        - {task: items, component: echo, inputs: {value: 3}}\n        - parallel_for:\n            name: fan\n            items: \"{{tasks.items.output}}\"\n            steps:\n              - {task: work, component: add, inputs: {a: 1}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1, "{record:#}");
    let work = task(&record, "g/fan/*/work");
    assert_eq!(work["state"], "failed");
    assert_eq!(work["failure"]["kind"], "input");
    assert!(work["failure"]["message"].as_str().unwrap().contains("loop `g/fan`"), "{work:#}");
    assert_eq!(task(&record, "g/e")["final_status"]["failures"][0]["task"], "g/fan/*/work");
}

/// Ensures that a condition inside a loop reads the iteration's item: the branch runs in the
/// iterations whose item passes, and is skipped (`condition_false`, caused by that iteration's
/// branch) in the others.
#[test]
fn a_condition_inside_a_loop_reads_the_item() {
    let case = Case::new(
        "name: p\nsteps:\n  - parallel_for:\n      name: fan\n      items: [1, 5, 2, 7]\n      steps:\n        - if:\n            name: big\n            condition: \"{{item}} > 3\"\n            steps:\n              - {task: twice, component: add, inputs: {a: \"{{item}}\", b: \"{{item}}\"}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(task(&record, "fan/1/big/twice")["outputs"]["output"], 10);
    assert_eq!(task(&record, "fan/3/big/twice")["outputs"]["output"], 14);
    assert_eq!(task(&record, "fan/0/big/twice")["skip"], json!({"reason": "condition_false", "cause": "fan/0/big"}));
}

/// Ensures that a loop whose items read the fan-in of a loop that expanded in the same pass but
/// started nothing (each iteration's branch not taken) fails its tasks with kind `input`, the
/// enclosing exit handler runs, and the record is written; the host crashed here (an index out
/// of bounds) with no handler and no record.
#[test]
fn items_from_a_loop_that_started_nothing_fail_with_kind_input() {
    let case = Case::new(
        "name: empty-fan-in\nsteps:\n  - exit_handler:\n      name: g\n      exit: {task: e, component: exit_report, inputs: {message: cleanup}}\n      steps:\n        - parallel_for:\n            name: l\n            items: [1, 2]\n            steps:\n              - if: {condition: \"{{item}} > 5\", steps: [{task: x, component: add, inputs: {a: \"{{item}}\"}}]}\n        - parallel_for:\n            name: m\n            items: \"{{tasks.x.output}}\"\n            steps: [{task: y, component: add, inputs: {a: 1}}]\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1, "{record:#}");
    let y = task(&record, "g/m/*/y");
    assert_eq!(y["state"], "failed", "{y:#}");
    assert_eq!(y["failure"]["kind"], "input");
    assert!(y["failure"]["message"].as_str().unwrap().contains("did not succeed"), "{y:#}");
    let e = task(&record, "g/e");
    assert_eq!(e["state"], "succeeded", "the handler ran: {e:#}");
    assert_eq!(e["final_status"]["failures"][0]["task"], "g/m/*/y");
    assert!(case.runs().join(record["run_id"].as_str().unwrap()).join("record.json").is_file());
}

/// Ensures that the record lists each task as written once, a loop's task as `fan/*/each`,
/// with what it reads or waits for, while `tasks` has one entry per iteration.
#[test]
fn the_record_keeps_task_templates_and_their_dependencies() {
    let case = Case::new(concat!(
        "name: t\n",
        "steps:\n",
        "  - {task: first, component: add, inputs: {a: 1}}\n",
        "  - exit_handler:\n",
        "      name: guard\n",
        "      exit: {task: report, component: print_op, inputs: {message: bye}}\n",
        "      steps:\n",
        "        - parallel_for:\n",
        "            name: fan\n",
        "            items: [1, 2, 3]\n",
        "            steps:\n",
        "              - {task: each, component: add, inputs: {a: \"{{tasks.first.output}}\", b: \"{{item}}\"}}\n",
        "  - {task: last, component: sum, inputs: {values: \"{{tasks.each.output}}\"}, after: [first]}\n",
        "  - if:\n",
        "      name: big\n",
        "      condition: \"{{tasks.last.output}} > 3\"\n",
        "      steps:\n",
        "        - {task: inside, component: add, inputs: {a: 2}}\n",
    ));
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(
        record["templates"],
        serde_json::json!([
            {"id": "first", "component": "add", "exit_handler": false, "depends_on": []},
            {"id": "guard/fan/*/each", "component": "add", "exit_handler": false, "depends_on": ["first"]},
            {"id": "guard/report", "component": "print_op", "exit_handler": true, "depends_on": []},
            {"id": "last", "component": "sum", "exit_handler": false, "depends_on": ["first", "guard/fan/*/each"]},
            // A task waits for what its groups read too: here the condition's `last`.
            {"id": "big/inside", "component": "add", "exit_handler": false, "depends_on": ["last"]},
        ])
    );
    let each: Vec<_> = common::ids(&record).into_iter().filter(|id| id.ends_with("/each")).collect();
    assert_eq!(each, ["guard/fan/0/each", "guard/fan/1/each", "guard/fan/2/each"]);
}
