//! The control-flow examples in `examples/control-flow/` run and do what their comments say.

mod common;

use common::{example_case, printed, task};
use serde_json::json;

fn example(name: &str, args: &[&str]) -> (i32, serde_json::Value) {
    example_case(&format!("control-flow/{name}")).run_json(args)
}

/// Ensures that `loop.yaml` checks every item with its own handler and totals them.
#[test]
fn the_loop_example_totals_every_item() {
    let (code, record) = example("loop.yaml", &[]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(record["outputs"]["total"], json!(15.0));
    assert_eq!(printed(task(&record, "batch/4/cleanup/report"))[0], "item 5 done");
}

/// Ensures that with `-p limit=3` the two items over the limit fail, each reported by its own
/// handler, the others succeed, and the total is skipped.
#[test]
fn the_loop_example_reports_failed_items_in_their_own_handlers() {
    let (code, record) = example("loop.yaml", &["-p", "limit=3"]);
    assert_eq!(code, 1, "{record:#}");
    for i in 0..5 {
        let status = &task(&record, &format!("batch/{i}/cleanup/report"))["final_status"];
        assert_eq!(status["state"], if i >= 3 { "failed" } else { "succeeded" }, "item {}", i + 1);
    }
    assert_eq!(task(&record, "total")["skip"], json!({"reason": "upstream_failed", "cause": "batch"}));
}

/// Ensures that `sub_pipeline.yaml` squares each item in its own use of the sub-pipeline, each
/// with its handler, and sums the squares.
#[test]
fn the_sub_pipeline_example_sums_the_squares() {
    let (code, record) = example("sub_pipeline.yaml", &[]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(record["outputs"]["total"], json!(15.25));
    assert_eq!(printed(task(&record, "each/0/square/squaring/report"))[0], "squared 1.5");
}

/// Ensures that in `report_anyway.yaml` the summary runs after a failed check, without its
/// value, and the flaky task succeeds on its third attempt.
#[test]
fn the_report_anyway_example_summarises_a_failed_check() {
    let (code, record) = example("report_anyway.yaml", &["-p", "value=20"]);
    assert_eq!(code, 1, "{record:#}");
    assert_eq!(printed(task(&record, "summary")), ["the check produced nothing"]);
    let flaky = task(&record, "flaky");
    assert_eq!(flaky["state"], "succeeded");
    assert_eq!(flaky["attempts"].as_array().unwrap().len(), 3);
}

/// Ensures that `branches.yaml` runs exactly the branch its parameter selects, and that the
/// handler inside the middle branch runs when that branch is taken, failed or not.
#[test]
fn the_branches_example_takes_one_branch() {
    let state = |record: &serde_json::Value, id: &str| task(record, id)["state"].as_str().unwrap().to_string();
    let (code, record) = example("branches.yaml", &["-p", "n=1"]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(printed(task(&record, "small/say-small")), ["1 is small"]);
    assert_eq!(task(&record, "medium/checked/report")["skip"]["reason"], "condition_false");
    assert_eq!(state(&record, "large/say-large"), "skipped");

    let (code, record) = example("branches.yaml", &["-p", "n=8"]);
    assert_eq!(code, 1, "{record:#}");
    assert_eq!(state(&record, "medium/checked/check"), "failed");
    assert_eq!(task(&record, "medium/checked/report")["final_status"]["state"], "failed");
    assert_eq!(state(&record, "small/say-small"), "skipped");

    let (code, record) = example("branches.yaml", &["-p", "n=20"]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(printed(task(&record, "large/say-large")), ["20 is large"]);
    assert_eq!(state(&record, "medium/checked/check"), "skipped");
}
