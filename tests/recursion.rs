//! A pipeline that calls itself (a component with `max_depth`): KFP's recursive graph
//! components, a loop until a condition holds. Each level is a sub-pipeline with its own exit
//! handler; the level past `max_depth` fails its tasks when it is reached
//! (`docs/semantics.md`, "Calls of a pipeline by itself").

mod common;

use common::{Case, assert_messages, ids, printed, task, validation_messages};
use serde_json::json;

/// A counter that calls itself while its step's output is below `limit`: each level adds 1 to
/// `x`, inside an exit handler of its own.
const COUNTER: &str = "name: counter\nparams:\n  x: {type: int, default: 0}\n  limit: {type: int, default: 3}\nsteps:\n  - exit_handler:\n      name: level\n      exit: {task: report, component: exit_report, inputs: {message: \"level of {{params.x}} done\"}}\n      steps:\n        - {task: step, component: add, inputs: {a: \"{{params.x}}\", b: 1}}\n  - if:\n      name: more\n      condition: \"{{tasks.step.output}} < {{params.limit}}\"\n      steps:\n        - {task: again, component: again, inputs: {x: \"{{tasks.step.output}}\", limit: \"{{params.limit}}\"}}\noutputs:\n  x: {one_of: [\"{{tasks.again.outputs.x}}\", \"{{tasks.step.output}}\"]}\n";

fn counter(max_depth: u32) -> Case {
    let again = format!("{{pipeline: pipeline.yaml, max_depth: {max_depth}}}");
    Case::with_components(COUNTER, &[("again", &again)])
}

/// Ensures that a pipeline calls itself while its condition holds, each level with its own exit
/// handler, and that the pipeline's output is the deepest level's (each level's `one_of` falls
/// back on its own step when it did not call itself).
#[test]
fn a_pipeline_calls_itself_until_its_condition_fails_with_a_handler_per_level() {
    let (code, record) = counter(5).run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(
        ids(&record),
        [
            "level/step",
            "level/report",
            "more/again/level/step",
            "more/again/level/report",
            "more/again/more/again/level/step",
            "more/again/more/again/level/report",
            "more/again/more/again/more/again/level/step",
            "more/again/more/again/more/again/level/report",
        ]
    );
    for (prefix, x) in [("", 0), ("more/again/", 1), ("more/again/more/again/", 2)] {
        assert_eq!(task(&record, &format!("{prefix}level/step"))["outputs"]["output"], x + 1);
        assert_eq!(printed(task(&record, &format!("{prefix}level/report")))[0], format!("level of {x} done"));
    }
    // The third level's step made 3: its branch is not taken, so the level below is listed,
    // skipped, and nothing deeper is made.
    let deepest = "more/again/more/again/more/again/level/step";
    assert_eq!(task(&record, deepest)["skip"]["reason"], "condition_false");
    assert_eq!(record["outputs"]["x"], 3);
}

/// Ensures that a call past `max_depth` fails the tasks of that level with kind `input` (no
/// attempt, and its exit handler is not entered), the readers of its output are skipped, and a
/// handler around the whole recursion, in the pipeline that uses it, sees that failure.
#[test]
fn a_call_past_max_depth_fails_its_level_and_the_handler_around_sees_it() {
    let case = Case::with_components(
        "name: top\nsteps:\n  - exit_handler:\n      name: guard\n      exit: {task: cleanup, component: exit_report, inputs: {message: cleanup}}\n      steps:\n        - {task: count, component: counter, inputs: {limit: 10}}\n        - {task: after, component: add, inputs: {a: \"{{tasks.count.outputs.x}}\"}}\n",
        &[("counter", "{pipeline: counter.yaml}")],
    );
    case.add_pipeline("counter.yaml", COUNTER, &[("again", "{pipeline: counter.yaml, max_depth: 2}")]);
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1, "{record:#}");
    let level = |n: usize| format!("guard/count/{}", "more/again/".repeat(n));
    assert_eq!(task(&record, &format!("{}level/step", level(2)))["outputs"]["output"], 3);
    let beyond = task(&record, &format!("{}level/step", level(3)));
    assert_eq!(beyond["state"], "failed");
    assert_eq!(beyond["failure"]["kind"], "input");
    let message = beyond["failure"]["message"].as_str().unwrap();
    assert!(message.contains("would run itself 3 levels deep, past component `again`'s `max_depth: 2`"), "{message}");
    assert_eq!(beyond["attempts"], json!([]));
    let report = task(&record, &format!("{}level/report", level(3)));
    assert_eq!(report["skip"]["reason"], "not_entered");
    // Nothing is made below the level that failed.
    assert!(record["tasks"].as_array().unwrap().iter().all(|t| !t["id"].as_str().unwrap().starts_with(&level(4))));
    assert_eq!(task(&record, "guard/after")["skip"], json!({"reason": "upstream_failed", "cause": "guard/count"}));
    let cleanup = task(&record, "guard/cleanup");
    assert_eq!(cleanup["final_status"]["state"], "failed");
    let failed: Vec<&str> =
        cleanup["final_status"]["failures"].as_array().unwrap().iter().map(|f| f["task"].as_str().unwrap()).collect();
    assert_eq!(failed, [format!("{}level/step", level(3))]);
}

/// Ensures that a pipeline that ends past `max_depth` has no output (the fallback of each level
/// is for a level that did not call itself, not for one whose call failed), and that the top
/// file is known as itself when it is given by a relative path.
#[test]
fn a_failed_recursion_has_no_output() {
    let case = counter(1);
    let (code, record) = case.run_json(&["-p", "limit=10"]);
    assert_eq!(code, 1, "{record:#}");
    assert_eq!(task(&record, "more/again/more/again/level/step")["failure"]["kind"], "input");
    let why = record["missing_outputs"]["x"].as_str().unwrap();
    assert!(why.contains("`{{tasks.again.outputs.x}}` did not succeed"), "{why}");
    let relative = common::command()
        .current_dir(case.file.parent().unwrap())
        .args(["run", "pipeline.yaml", "--output", "json", "-p", "limit=10", "--run-dir", "runs"])
        .output()
        .unwrap();
    let again: serde_json::Value = serde_json::from_slice(&relative.stdout).unwrap();
    assert_eq!(ids(&again), ids(&record));
}

/// Ensures that a pipeline may call itself as deep as the largest `max_depth` allows.
#[test]
fn the_deepest_recursion_allowed_runs() {
    let (code, record) = counter(100).run_json(&["-p", "limit=100"]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(record["outputs"]["x"], 100);
    let steps =
        record["tasks"].as_array().unwrap().iter().filter(|t| t["id"].as_str().unwrap().ends_with("level/step"));
    assert_eq!(steps.filter(|t| t["state"] == "succeeded").count(), 100);
}

/// Ensures that a pipeline that uses itself without `max_depth`, and a `max_depth` out of range
/// or on a `.wasm` component, are refused before anything runs, each at its place.
#[test]
fn calls_of_a_pipeline_by_itself_are_checked_before_the_run() {
    let unbounded = Case::with_components(COUNTER, &[("again", "{pipeline: pipeline.yaml}")]);
    assert_messages(
        &validation_messages(&unbounded),
        &["a pipeline uses itself only through a component with `max_depth: N`"],
    );
    for (depth, needle) in [(0, "`max_depth: 0`"), (101, "`max_depth: 101`")] {
        let messages = validation_messages(&counter(depth));
        assert_messages(
            &messages,
            &[&format!("component `again` has {needle}: a pipeline may call itself 1 to 100 levels deep")],
        );
        assert_eq!(messages.len(), 1, "{messages:#?}");
    }
    let on_wasm = Case::with_components(
        "name: p\nsteps:\n  - {task: a, component: add2, inputs: {a: 1}}\n",
        &[("add2", "{path: add.wasm, max_depth: 3}")],
    );
    assert_messages(&validation_messages(&on_wasm), &["component `add2` has `max_depth` but no `pipeline`"]);
}

/// Ensures that `wasmpipe graph` draws a pipeline that calls itself once, with the call as an
/// empty cluster that says so, not unrolled to `max_depth`.
#[test]
fn the_graph_draws_the_call_not_its_levels() {
    let case = counter(50);
    let (code, dot, stderr) = common::wasmpipe(&["graph", case.file.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(dot.contains("label=\"again calls counter again, up to 50 levels deep\""), "{dot}");
    assert_eq!(dot.matches("label=\"step\\nadd\"").count(), 1, "{dot}");
}
