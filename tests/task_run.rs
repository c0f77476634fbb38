//! `wasmpipe task-run`, the entrypoint of the containers `wasmpipe compile --target kfp`
//! writes: KFP's executor input in, outputs where KFP's launcher reads them, the failure kind
//! out, the final status of an exit task from KFP's `PipelineTaskFinalStatus`.

mod common;

use std::path::Path;

use serde_json::{Value, json};

/// Runs `task-run` over `component` with the executor input KFP would give for `inputs` and
/// the output `output`; returns the exit code, stderr, the output file's text and the
/// executor output (when written).
fn task_run(dir: &Path, component: &str, inputs: Value, output: &str) -> (i32, String, Option<String>, Option<Value>) {
    let output_file = dir.join("outputs").join(output).join("data");
    let metadata = dir.join("kfp_outputs/output_metadata.json");
    let input = json!({
        "inputs": {"parameterValues": inputs},
        "outputs": {
            "parameters": {output: {"outputFile": output_file}},
            "outputFile": metadata,
        },
    });
    let (code, _, err) =
        common::wasmpipe(&["task-run", "--executor-input", &input.to_string(), "--component", component], &[]);
    let text = std::fs::read_to_string(&output_file).ok();
    let meta = std::fs::read_to_string(&metadata).ok().map(|t| serde_json::from_str(&t).unwrap());
    (code, err, text, meta)
}

/// Ensures that a task's outputs go where KFP reads them, and that numbers KFP passes as
/// floats reach an int input as ints.
#[test]
fn outputs_go_where_kfps_launcher_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err, text, meta) = task_run(dir.path(), common::component("add"), json!({"a": 2.0, "b": 3}), "output");
    assert_eq!(code, 0, "{err}");
    assert_eq!(text.as_deref(), Some("5"));
    assert_eq!(meta, Some(json!({"parameterValues": {"output": 5}})));
}

/// Ensures that a trapping guest fails the container (exit 1) with its failure kind and trap
/// code on stderr, as one JSON line, and writes no outputs.
#[test]
fn a_trap_fails_the_container_with_its_kind() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err, text, meta) =
        task_run(dir.path(), common::component("fault"), json!({"mode": "unreachable"}), "output");
    assert_eq!(code, 1, "{err}");
    let line = err.lines().find(|l| l.starts_with("{\"failure\"")).unwrap_or_else(|| panic!("{err}"));
    let failure: Value = serde_json::from_str(line).unwrap();
    assert_eq!(failure["failure"]["kind"], "trap");
    assert_eq!(failure["failure"]["trap_code"], "unreachable_code_reached");
    assert_eq!((text, meta), (None, None));
}

/// Ensures that an exit task receives KFP's final status as wasmpipe's: the state, the group,
/// and KFP's one error as a failure.
#[test]
fn an_exit_task_gets_kfps_final_status() {
    let dir = tempfile::tempdir().unwrap();
    let status = json!({
        "state": "FAILED",
        "pipelineJobResourceName": "run-7",
        "pipelineTaskName": "exit-handler-1",
        "error": {"code": 9, "message": "task fail-op failed"},
    });
    let (code, err, text, _) = task_run(
        dir.path(),
        common::component("exit_report"),
        json!({"message": "cleaning up", "status": status}),
        "output",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(text.as_deref(), Some("failed with 1 failure(s)"));
    assert!(err.contains("group `exit-handler-1` of run run-7 ended failed"), "{err}");
    assert!(err.contains("exit-handler-1 failed: error (-): task fail-op failed"), "{err}");
}

/// Ensures that bad invocations are refused with what to do: a component other than the one
/// compiled (digest), input that is not JSON, an input the component does not have.
#[test]
fn bad_invocations_are_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let add = common::component("add");
    let (code, _, err) =
        common::wasmpipe(&["task-run", "--executor-input", "{}", "--component", add, "--digest", "blake3:00"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not the blake3:00 the pipeline was compiled with: rebuild the runner image"), "{err}");
    let (code, _, err) = common::wasmpipe(&["task-run", "--executor-input", "{{$}}", "--component", add], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--executor-input is not JSON"), "{err}");
    let (code, err, _, _) = task_run(dir.path(), add, json!({"a": 1, "c": 2}), "output");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("the component has no input `c`"), "{err}");
}

/// Ensures that a formatted string, as the export writes it (KFP's placeholders of channel
/// inputs), reaches the component filled in, and that the channels themselves are not inputs.
#[test]
fn formatted_strings_are_filled_from_their_channels() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = json!({
        "value": "n={{$.inputs.parameters['pipelinechannel--calc-output']}} by {{$.inputs.parameters['pipelinechannel--who']}}",
        "pipelinechannel--calc-output": 42,
        "pipelinechannel--who": "me",
    });
    let (code, err, text, _) = task_run(dir.path(), common::component("echo"), inputs, "output");
    assert_eq!(code, 0, "{err}");
    assert_eq!(text.as_deref(), Some("n=42 by me"));
}
