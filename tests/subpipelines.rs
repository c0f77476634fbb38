//! Sub-pipelines: a pipeline file used as a component, with typed inputs (its parameters) and
//! outputs (its `outputs`), and exit handlers of its own (`docs/semantics.md`, rules 1 and 7).

mod common;

use common::{Case, assert_messages, ids, printed, task, validation_messages};
use serde_json::json;

/// The sub-pipeline of these tests: adds its parameters `a` and `b` twice over, inside an exit
/// handler of its own; `mode` makes its middle task fail.
const SUB: &str = "name: adder\nparams:\n  a: {type: int}\n  b: {type: int, default: 1}\n  mode: {type: string, default: ok}\nsteps:\n  - exit_handler:\n      name: inner\n      exit: {task: report, component: exit_report, inputs: {message: \"adder done\"}}\n      steps:\n        - {task: first, component: add, inputs: {a: \"{{params.a}}\", b: \"{{params.b}}\"}}\n        - {task: check, component: fault, inputs: {mode: \"{{params.mode}}\"}}\n        - {task: second, component: add, inputs: {a: \"{{tasks.first.output}}\", b: \"{{params.b}}\"}, after: [check]}\noutputs:\n  total: \"{{tasks.second.output}}\"\n";

fn case(body: &str) -> Case {
    let case = Case::with_components(body, &[("adder", "{pipeline: sub.yaml}")]);
    case.add_pipeline("sub.yaml", SUB, &[]);
    case
}

/// Ensures that a sub-pipeline's tasks run under the task's name, its parameters come from the
/// task's inputs (defaults where unbound), and its outputs feed the tasks that read them, typed.
#[test]
fn a_sub_pipeline_runs_with_its_inputs_and_passes_its_outputs_on() {
    let case = case(
        "name: p\nsteps:\n  - {task: seed, component: add, inputs: {a: 40}}\n  - {task: sub, component: adder, inputs: {a: \"{{tasks.seed.output}}\"}}\n  - {task: after, component: add, inputs: {a: \"{{tasks.sub.outputs.total}}\", b: 100}}\noutputs:\n  total: \"{{tasks.sub.outputs.total}}\"\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(
        ids(&record),
        ["seed", "sub/inner/first", "sub/inner/check", "sub/inner/second", "sub/inner/report", "after"]
    );
    assert_eq!(task(&record, "sub/inner/first")["outputs"]["output"], 42);
    assert_eq!(record["outputs"]["total"], 43);
    assert_eq!(task(&record, "after")["outputs"]["output"], 143);
}

/// Ensures that a failure inside a sub-pipeline runs the sub-pipeline's own exit handler first,
/// with the failure, then the handler around the task, which sees it too; a reader of the
/// sub-pipeline's output is skipped.
#[test]
fn a_failure_inside_runs_the_inner_handler_then_the_outer_one() {
    let case = case(
        "name: p\nsteps:\n  - exit_handler:\n      name: outer\n      exit: {task: cleanup, component: exit_report, inputs: {message: \"outer done\"}}\n      steps:\n        - {task: sub, component: adder, inputs: {a: 1, mode: error}}\n        - {task: reader, component: add, inputs: {a: \"{{tasks.sub.outputs.total}}\"}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1, "{record:#}");
    let inner = task(&record, "outer/sub/inner/report");
    assert_eq!(printed(inner)[0], "adder done");
    assert_eq!(inner["final_status"]["state"], "failed");
    assert_eq!(inner["final_status"]["group"], "inner");
    assert_eq!(inner["final_status"]["failures"][0]["task"], "outer/sub/inner/check");
    assert_eq!(
        task(&record, "outer/sub/inner/second")["skip"],
        json!({"reason": "upstream_failed", "cause": "outer/sub/inner/check"})
    );
    let outer = task(&record, "outer/cleanup");
    let failed: Vec<&str> =
        outer["final_status"]["failures"].as_array().unwrap().iter().map(|f| f["task"].as_str().unwrap()).collect();
    assert_eq!(failed, ["outer/sub/inner/check"]);
    assert!(
        inner["attempts"][0]["finished_at"].as_str() <= outer["attempts"][0]["started_at"].as_str(),
        "the inner handler finishes before the outer one starts"
    );
    assert_eq!(task(&record, "outer/reader")["skip"], json!({"reason": "upstream_failed", "cause": "outer/sub"}));
}

/// Ensures that a sub-pipeline inside a loop runs once per item, and that its output fans in.
#[test]
fn a_sub_pipeline_in_a_loop_runs_per_item_and_fans_in() {
    let case = case(
        "name: p\nsteps:\n  - parallel_for:\n      name: fan\n      items: [1, 2, 3]\n      steps:\n        - {task: sub, component: adder, inputs: {a: \"{{item}}\", b: 10}}\n  - {task: total, component: sum, inputs: {values: \"{{tasks.sub.outputs.total}}\"}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(task(&record, "fan/2/sub/inner/second")["outputs"]["output"], 23);
    assert_eq!(task(&record, "total")["outputs"]["output"], 21 + 22 + 23);
}

/// Ensures that mistakes in using a sub-pipeline are validation errors naming the place: an
/// unknown parameter, a required parameter left unbound, a wrongly typed input, an unknown
/// output, and a pipeline file that does not exist.
#[test]
fn sub_pipeline_mistakes_are_validation_errors() {
    let case = Case::with_components(
        "name: p\nsteps:\n  - {task: s1, component: adder, inputs: {a: 1, c: 2}}\n  - {task: s2, component: adder, inputs: {b: 2}}\n  - {task: s3, component: adder, inputs: {a: \"x\"}}\n  - {task: r, component: add, inputs: {a: \"{{tasks.s1.outputs.nope}}\"}}\n  - {task: m, component: missing}\n",
        &[("adder", "{pipeline: sub.yaml}"), ("missing", "{pipeline: nowhere.yaml}")],
    );
    case.add_pipeline("sub.yaml", SUB, &[]);
    assert_messages(
        &validation_messages(&case),
        &[
            "sub-pipeline `adder` (component `adder`) has no parameter `c`",
            "task `s2` does not bind parameter `a` (int)",
            "input `a` of task `s3` is int",
            "sub-pipeline task `s1` has no output `nope`; its pipeline's outputs are: `total`",
            "nowhere.yaml",
        ],
    );
}

/// Ensures that a pipeline that uses itself without `max_depth` is refused before anything runs
/// (with it, see `tests/recursion.rs`).
#[test]
fn a_pipeline_that_uses_itself_is_refused() {
    let case = Case::with_components(
        "name: p\nsteps:\n  - {task: again, component: me}\n",
        &[("me", "{pipeline: pipeline.yaml}")],
    );
    let (code, out) = case.validate_json();
    assert_eq!(code, 2, "{out:#}");
    assert!(
        out["errors"][0]["message"].as_str().unwrap().contains(
            "which is already being read: a pipeline uses itself only through a component with `max_depth: N`"
        ),
        "{out:#}"
    );
}

/// Ensures that sub-pipelines nest: a sub-pipeline that uses another passes its parameters down
/// and its outputs up, with ids nested by task name, and names in each file stay its own (both
/// files have a task called `first`).
#[test]
fn sub_pipelines_nest() {
    let case = Case::with_components(
        "name: p\nsteps:\n  - {task: outer, component: twice, inputs: {a: 5}}\noutputs:\n  total: \"{{tasks.outer.outputs.total}}\"\n",
        &[("twice", "{pipeline: twice.yaml}")],
    );
    case.add_pipeline(
        "twice.yaml",
        "name: twice\nparams:\n  a: {type: int}\nsteps:\n  - {task: first, component: adder, inputs: {a: \"{{params.a}}\"}}\n  - {task: again, component: adder, inputs: {a: \"{{tasks.first.outputs.total}}\"}}\noutputs:\n  total: \"{{tasks.again.outputs.total}}\"\n",
        &[("adder", "{pipeline: sub.yaml}")],
    );
    case.add_pipeline("sub.yaml", SUB, &[]);
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    // adder adds b (1) twice: 5 -> 7 in `first`, 7 -> 9 in `again`.
    assert_eq!(task(&record, "outer/first/inner/second")["outputs"]["output"], 7);
    assert_eq!(task(&record, "outer/again/inner/first")["outputs"]["output"], 8);
    assert_eq!(record["outputs"]["total"], 9);
}

/// Ensures that task options written on a task that runs a sub-pipeline, which were silently
/// ignored, are refused before anything runs, each where it is written, with where to put it.
#[test]
fn task_options_on_a_sub_pipeline_task_are_refused() {
    let case = case(
        "name: outer\nsteps:\n  - {task: inner, component: adder, inputs: {a: 1}, retries: 2, timeout: 5s, env: {A: b}}\n",
    );
    let (code, out) = case.validate_json();
    assert_eq!(code, 2, "{out:#}");
    let errors = out["errors"].as_array().unwrap();
    let options: Vec<&str> = errors.iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(options, ["steps[0].timeout", "steps[0].retries", "steps[0].env"], "{out:#}");
    let message = errors[1]["message"].as_str().unwrap();
    assert!(message.starts_with("task `inner` runs sub-pipeline `adder`, where `retries` has no meaning"), "{message}");
    assert!(message.ends_with("or at the top of `adder` for all of them"), "{message}");
    let line = case.line_of("task: inner");
    assert!(errors.iter().all(|e| e["line"] == line), "{out:#}");
}

/// Ensures that sub-pipelines nested deeper than 16 files are refused before anything runs,
/// with a message that says so (not that the pipeline uses itself), and that 16 run: with 80
/// nested exit-handler groups in each file, 1,280 levels of groups run without exhausting the
/// host's stack.
#[test]
fn sub_pipelines_nest_at_most_16_deep() {
    fn nested(depth: usize, leaf: &str) -> String {
        let mut text = String::new();
        let mut pad = String::from("  ");
        for i in 0..depth {
            text.push_str(&format!(
                "{pad}- exit_handler:\n{pad}    name: g{i}\n{pad}    exit: {{task: x{i}, component: fault, inputs: {{mode: ok}}}}\n{pad}    steps:\n"
            ));
            pad.push_str("      ");
        }
        text + &format!("{pad}- {leaf}\n")
    }
    for (files, ok) in [(16, true), (17, false)] {
        let leaf = |k: usize| {
            if k + 1 == files {
                "{task: t, component: fault, inputs: {mode: ok}}"
            } else {
                "{task: s, component: next}"
            }
        };
        let case = Case::with_components(
            &format!("name: p0\nsteps:\n{}", nested(80, leaf(0))),
            &[("next", "{pipeline: p1.yaml}")],
        );
        for k in 1..files {
            case.add_pipeline(
                &format!("p{k}.yaml"),
                &format!("name: p{k}\nsteps:\n{}", nested(80, leaf(k))),
                &[("next", &format!("{{pipeline: p{}.yaml}}", k + 1))],
            );
        }
        if ok {
            let (code, record) = case.run_json(&["--jobs", "2"]);
            assert_eq!(code, 0, "{files} files");
            let deepest = record["tasks"].as_array().unwrap().iter().find(|t| t["task"] == "t").unwrap();
            assert_eq!(deepest["state"], "succeeded");
            assert_eq!(deepest["id"].as_str().unwrap().matches('/').count(), 16 * 80 + 15);
        } else {
            let (code, out) = case.validate_json();
            assert_eq!(code, 2, "{out:#}");
            let message = out["errors"][0]["message"].as_str().unwrap();
            assert!(message.contains("sub-pipelines may nest at most 16 deep"), "{message}");
        }
    }
}
