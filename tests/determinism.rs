//! The outcome of a run (which tasks run, their states, skip reasons, outputs, what exit tasks
//! receive) does not depend on `--jobs` or timing (`docs/semantics.md`, rule 9): KFP's own
//! pipeline with several exit handlers, under different `--jobs`.

mod common;

use common::{Case, task};
use serde_json::{Value, json};

/// What a run did, without what timing decides (timestamps, run ids, attempt durations): per
/// task, in record order, its id, state, skip, failure, outputs, final status and printed lines.
fn outcome(record: &Value) -> Value {
    let tasks = record["tasks"].as_array().expect("tasks");
    let tasks: Vec<Value> = tasks
        .iter()
        .map(|t| {
            let mut status = t["final_status"].clone();
            if let Some(s) = status.as_object_mut() {
                s.remove("run_id");
            }
            let printed: Vec<&Value> = t["logs"].as_array().into_iter().flatten().map(|l| &l["message"]).collect();
            json!({
                "id": t["id"], "state": t["state"], "skip": t["skip"], "failure": t["failure"],
                "outputs": t["outputs"], "final_status": status, "printed": printed,
            })
        })
        .collect();
    json!({"state": record["state"], "tasks": tasks})
}

/// KFP's `failing/pipeline_with_multiple_exit_handlers` (kubeflow/pipelines, sdk test data):
/// three sibling exit-handler groups; the body of the first fails. With the structural rule the
/// other two groups are independent of it, so they and all three handlers run, whatever
/// `--jobs` is (KFP runs all three too).
const MULTIPLE_EXIT_HANDLERS: &str = "name: pipeline-with-multiple-exit-handlers
params:
  message: {type: string, default: Hello World!}
steps:
  - exit_handler:
      exit: {task: print-op, component: print_op, inputs: {message: First exit handler has worked!}}
      steps:
        - {task: print-op-2, component: print_op, inputs: {message: '{{params.message}}'}}
        - {task: fail-op, component: fail_op, inputs: {message: Task failed.}}
  - exit_handler:
      exit: {task: print-op-3, component: print_op, inputs: {message: Second exit handler has worked!}}
      steps:
        - {task: print-op-4, component: print_op, inputs: {message: '{{params.message}}'}}
  - exit_handler:
      exit: {task: print-op-5, component: print_op, inputs: {message: Third exit handler has worked!}}
      steps:
        - {task: print-op-6, component: print_op, inputs: {message: '{{params.message}}'}}
";

/// Ensures that KFP's pipeline with three exit handlers, the first of whose bodies fails, runs
/// every independent task and all three handlers under `--jobs` 1, 2, 4 and 8, with identical
/// outcomes (it skipped the third group in some runs with `--jobs 2` under fail fast).
#[test]
fn kfp_multiple_exit_handlers_run_alike_under_any_jobs() {
    let case = Case::new(MULTIPLE_EXIT_HANDLERS);
    let mut outcomes = Vec::new();
    for jobs in ["1", "2", "4", "8", "2", "2"] {
        let (code, record) = case.run_json(&["--jobs", jobs]);
        assert_eq!(code, 1, "--jobs {jobs}: {record:#}");
        for id in ["exit-handler-1/print-op", "exit-handler-2/print-op-3", "exit-handler-3/print-op-5"] {
            assert_eq!(task(&record, id)["state"], "succeeded", "--jobs {jobs}: handler {id}");
        }
        for id in ["exit-handler-1/print-op-2", "exit-handler-2/print-op-4", "exit-handler-3/print-op-6"] {
            assert_eq!(task(&record, id)["state"], "succeeded", "--jobs {jobs}: {id} is independent of the failure");
        }
        assert_eq!(task(&record, "exit-handler-1/fail-op")["failure"]["kind"], "error");
        assert_eq!(task(&record, "exit-handler-2/print-op-3")["final_status"]["state"], "succeeded");
        assert_eq!(task(&record, "exit-handler-1/print-op")["final_status"]["state"], "failed");
        outcomes.push((jobs, outcome(&record)));
    }
    for (jobs, o) in &outcomes[1..] {
        assert_eq!(o, &outcomes[0].1, "--jobs {jobs} and --jobs 1 differ");
    }
}
