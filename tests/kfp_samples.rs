//! KFP's own samples (kubeflow/pipelines `samples/core/`), ported to `examples/kfp-samples/`:
//! each runs and does what the sample intends.

mod common;

use common::{example_case, printed, task};

fn sample(name: &str, args: &[&str]) -> (i32, serde_json::Value) {
    example_case(&format!("kfp-samples/{name}")).run_json(args)
}

/// Ensures that `condition` flips again and prints inside the condition when the coin shows heads.
#[test]
fn condition_heads_runs_the_branch() {
    let (code, record) = sample("condition.yaml", &["-p", "force_flip_result=heads"]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(task(&record, "flip-coin")["outputs"]["output"], "heads");
    assert_eq!(printed(task(&record, "print-msg")), ["heads"]);
    let second = task(&record, "condition-1/flip-coin-2")["outputs"]["output"].as_str().unwrap().to_string();
    assert!(second == "heads" || second == "tails");
    assert_eq!(printed(task(&record, "condition-1/print-msg-2")), [second]);
    assert_eq!(printed(task(&record, "condition-1/print-msg-3")), ["condition test"]);
}

/// Ensures that `condition` skips the branch when the coin shows tails, and the run succeeds.
#[test]
fn condition_tails_skips_the_branch() {
    let (code, record) = sample("condition.yaml", &["-p", "force_flip_result=tails"]);
    assert_eq!(code, 0);
    assert_eq!(record["state"], "succeeded");
    for id in ["condition-1/flip-coin-2", "condition-1/print-msg-2", "condition-1/print-msg-3"] {
        assert_eq!(task(&record, id)["skip"]["reason"], "condition_false", "{id}");
    }
}

/// Ensures that `multiple_outputs` passes each named output on, typed as floats.
#[test]
fn multiple_outputs_pass_each_output_on() {
    let (code, record) = sample("multiple_outputs.yaml", &[]);
    assert_eq!(code, 0);
    assert_eq!(record["outputs"], serde_json::json!({"sum": 5.0, "product": 6.0}));
    assert!(record["outputs"]["sum"].is_f64());
    assert_eq!(printed(task(&record, "print-sum")), ["sum=5.0"]);
    assert_eq!(printed(task(&record, "print-product")), ["product=6.0"]);
}

/// Ensures that `sequential` echoes what the download produced, after it.
#[test]
fn sequential_echoes_the_download() {
    let (code, record) = sample("sequential.yaml", &[]);
    assert_eq!(code, 0);
    let downloaded = task(&record, "download")["outputs"]["output"].as_str().unwrap().to_string();
    assert!(downloaded.ends_with("(shakespeare1.txt)"));
    assert_eq!(printed(task(&record, "echo")), [downloaded]);
    let download_end = task(&record, "download")["attempts"][0]["finished_at"].as_str().unwrap().to_string();
    assert!(task(&record, "echo")["attempts"][0]["started_at"].as_str().unwrap() >= download_end.as_str());
}

/// Ensures that the exit task of `exit_handler_with_task_final_status` receives the failed
/// state and the failed task with its message, and the run fails.
#[test]
fn exit_handler_receives_the_task_final_status() {
    let (code, record) = sample("exit_handler_with_task_final_status.yaml", &[]);
    assert_eq!(code, 1);
    let exit = task(&record, "exit-handler-1/exit-op");
    assert_eq!(exit["state"], "succeeded");
    let status = &exit["final_status"];
    assert_eq!(status["state"], "failed");
    assert_eq!(status["failures"][0]["task"], "exit-handler-1/fail-op");
    assert_eq!(status["failures"][0]["message"], "Task failed.");
    assert_eq!(printed(exit)[0], "Exit handler has worked!");
}
