//! KFP's own samples (kubeflow/pipelines `samples/core/`), ported to `examples/kfp-samples/`:
//! each runs and does what the sample intends.

mod common;

use common::{example_case, most_at_once, printed, task};

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

/// Ensures that `nested_condition` runs the inner branch the second flip selects, and neither
/// when the first flip shows tails.
#[test]
fn nested_conditions_select_the_inner_branch() {
    let (code, record) = sample("nested_condition.yaml", &["-p", "first=heads", "-p", "second=heads"]);
    assert_eq!(code, 0);
    assert_eq!(printed(task(&record, "condition-1/condition-2/print-both-heads")), ["heads twice"]);
    assert_eq!(task(&record, "condition-1/condition-3/print-then-tails")["skip"]["reason"], "condition_false");

    let (_, record) = sample("nested_condition.yaml", &["-p", "first=heads", "-p", "second=tails"]);
    assert_eq!(printed(task(&record, "condition-1/condition-3/print-then-tails")), ["heads, then tails"]);

    let (_, record) = sample("nested_condition.yaml", &["-p", "first=tails"]);
    for id in
        ["condition-1/flip2", "condition-1/condition-2/print-both-heads", "condition-1/condition-3/print-then-tails"]
    {
        assert_eq!(task(&record, id)["state"], "skipped", "{id}");
    }
}

/// Ensures that `retry` ends with both tasks succeeded, the first after two failed attempts.
#[test]
fn retry_succeeds_after_failed_attempts() {
    let (code, record) = sample("retry.yaml", &[]);
    assert_eq!(code, 0, "{record:#}");
    let op1 = task(&record, "op1");
    assert_eq!(op1["attempts"].as_array().unwrap().len(), 3);
    assert_eq!(op1["outputs"]["output"], "attempt 3: exit code 0");
    assert_eq!(task(&record, "op2")["attempts"].as_array().unwrap().len(), 1);
}

/// Ensures that `caching` serves its second run from the cache.
#[test]
fn caching_serves_the_second_run_from_the_cache() {
    let case = example_case("kfp-samples/caching.yaml");
    let cache = tempfile::tempdir().unwrap();
    let run = || {
        let out = common::command()
            .args(["run", case.file.to_str().unwrap(), "--output", "json", "--run-dir", case.runs().to_str().unwrap()])
            .env("WASMPIPE_CACHE_DIR", cache.path())
            .output()
            .unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let first = run();
    let second = run();
    assert_eq!(task(&first, "calc")["cached"], false);
    assert_eq!(task(&second, "calc")["cached"], true);
    assert_eq!(task(&second, "print")["cached"], true);
    assert_eq!(second["state"], "succeeded");
}

/// The stdout lines of every task whose id matches `prefix/*/suffix`, in record order.
fn printed_by(record: &serde_json::Value, suffix: &str) -> Vec<String> {
    record["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["id"].as_str().unwrap().ends_with(suffix))
        .flat_map(printed)
        .collect()
}

/// Ensures that `loop_static` concatenates each static item's fields after the first print:
/// "12" and "1020".
#[test]
fn loop_static_concatenates_each_item() {
    let (code, record) = sample("loop_static.yaml", &[]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(task(&record, "for-loop-2/0/print-op-2")["outputs"]["output"], "12");
    assert_eq!(task(&record, "for-loop-2/1/print-op-2")["outputs"]["output"], "1020");
    let printed_at = task(&record, "print-op")["attempts"][0]["finished_at"].as_str().unwrap().to_string();
    for i in 0..2 {
        let concat = task(&record, &format!("for-loop-2/{i}/concat-op"));
        assert!(concat["attempts"][0]["started_at"].as_str().unwrap() >= printed_at.as_str(), "after: [print-op]");
    }
}

/// Ensures that `loop_parameter` loops over the generated list: "110" ... "440", collected in
/// item order.
#[test]
fn loop_parameter_loops_over_a_task_output() {
    let (code, record) = sample("loop_parameter.yaml", &[]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(record["outputs"]["printed"], serde_json::json!(["110", "220", "330", "440"]));
    assert_eq!(printed_by(&record, "/print-op-2"), ["110", "220", "330", "440"]);
}

/// Ensures that `loop_parallelism` prints both fields of both items, as ints.
#[test]
fn loop_parallelism_prints_every_field() {
    let (code, record) = sample("loop_parallelism.yaml", &[]);
    assert_eq!(code, 0, "{record:#}");
    let mut values = printed_by(&record, "/print-op");
    values.extend(printed_by(&record, "/print-op-2"));
    assert_eq!(values, ["1", "10", "2", "20"]);
    assert_eq!(task(&record, "for-loop-1/1/print-op-2")["outputs"]["output"], "20");
}

/// Ensures that `pipeline_parallelism_limits` runs its two independent tasks one after the
/// other even with `--jobs 4`.
#[test]
fn pipeline_parallelism_limits_runs_one_task_at_a_time() {
    let (code, record) = sample("pipeline_parallelism_limits.yaml", &["--jobs", "4"]);
    assert_eq!(code, 0, "{record:#}");
    let attempt = |id: &str| task(&record, id)["attempts"][0].clone();
    let (a, b) = (attempt("print"), attempt("print-2"));
    assert!(
        a["finished_at"].as_str() <= b["started_at"].as_str() || b["finished_at"].as_str() <= a["started_at"].as_str(),
        "no overlap: {a} {b}"
    );
    assert_eq!(printed(task(&record, "print-2")), ["train my model."]);
}

/// Ensures that `parallelism_sub_dag` prints the item and both fields of both items, with at
/// most two of the sub-DAG's six prints running at once even with `--jobs 4` (from the
/// attempts' times).
#[test]
fn parallelism_sub_dag_runs_at_most_two_prints_at_once() {
    let (code, record) = sample("parallelism_sub_dag.yaml", &["--jobs", "4"]);
    assert_eq!(code, 0, "{record:#}");
    let tasks = record["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 6);
    assert_eq!(printed(task(&record, "sub-graph/for-loop-1/1/print-op")), [r#"{"A_a": 10, "B_b": 20}"#]);
    assert_eq!(printed(task(&record, "sub-graph/for-loop-1/1/print-op-3")), ["20"]);
    let time = |t: &serde_json::Value, at: &str| t["attempts"][0][at].as_str().unwrap().to_string();
    let most = most_at_once(tasks.iter().map(|t| (time(t, "started_at"), time(t, "finished_at"))));
    assert_eq!(most, 2, "two at a time, never more");
}

/// Ensures that KFP's `exit_handler` sample runs its exit task after the failed body.
#[test]
fn exit_handler_runs_the_exit_task_after_the_failure() {
    let (code, record) = sample("exit_handler.yaml", &[]);
    assert_eq!(code, 1, "{record:#}");
    assert_eq!(printed(task(&record, "exit-handler-1/print-op-2")), ["Hello World!"]);
    assert_eq!(task(&record, "exit-handler-1/fail-op")["state"], "failed");
    assert_eq!(printed(task(&record, "exit-handler-1/print-op")), ["Exit handler has worked!"]);
}
