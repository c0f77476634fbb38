//! `wasmpipe task-run`, the entrypoint of the containers `wasmpipe compile` writes. KFP's
//! mode: KFP's executor input in, outputs where KFP's launcher reads them, the failure kind
//! out, the final status of an exit task from KFP's `PipelineTaskFinalStatus`. Argo's mode:
//! `--input` text typed by the component, outputs as files, exit code 1 or 2 by whether
//! wasmpipe retries the failure, the final status from Argo's phase of the body.

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

/// Ensures that artifacts pass as KFP passes them: an output artifact is written at its uri
/// (KFP's launcher uploads it from there), its metadata and what it is in the executor output;
/// an input artifact is read where its uri is, with the producer's metadata; `gs://` uris are
/// where KFP's launcher mounts them (`/gcs/...`), refused here as missing.
#[test]
fn artifacts_are_read_and_written_where_kfp_has_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("pipeline-root/gen/data");
    let metadata_file = dir.path().join("gen_output_metadata.json");
    let dataset = json!({"schemaTitle": "system.Dataset", "schemaVersion": "0.0.1"});
    let input = json!({
        "inputs": {"parameterValues": {"count": 3.0}},
        "outputs": {
            "parameters": {"lines": {"outputFile": dir.path().join("lines")}},
            "artifacts": {"data": {"artifacts": [{"name": "data", "type": dataset, "uri": data, "metadata": {}}]}},
            "outputFile": metadata_file,
        },
    });
    let (code, _, err) = common::wasmpipe(
        &["task-run", "--executor-input", &input.to_string(), "--component", common::component("numbers")],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&data).unwrap(), "1\n2\n3");
    let out: Value = serde_json::from_str(&std::fs::read_to_string(&metadata_file).unwrap()).unwrap();
    let made = &out["artifacts"]["data"]["artifacts"][0];
    assert_eq!(made["uri"], json!(data));
    assert_eq!(made["metadata"]["count"], 3);
    assert_eq!(made["metadata"]["wasmpipe.kind"], "Dataset");
    assert_eq!(made["metadata"]["wasmpipe.size"], 5);

    // The reader gets the file and the producer's metadata (what task-run added dropped).
    let reader = |uri: Value| {
        json!({
            "inputs": {"artifacts": {"data": {"artifacts": [{"name": "data", "type": dataset, "uri": uri, "metadata": made["metadata"]}]}}},
            "outputs": {"parameters": {"sum": {"outputFile": dir.path().join("sum")}, "seen": {"outputFile": dir.path().join("seen")}}, "outputFile": dir.path().join("reader.json")},
        })
    };
    let run = |input: Value| {
        common::wasmpipe(
            &["task-run", "--executor-input", &input.to_string(), "--component", common::component("total")],
            &[],
        )
    };
    let (code, _, err) = run(reader(json!(data)));
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(dir.path().join("sum")).unwrap(), "6");
    let seen: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("seen")).unwrap()).unwrap();
    assert_eq!(seen["metadata"], json!({"count": 3}));
    assert_eq!(seen["path"], "/in/data");

    let (code, _, err) = run(reader(json!("gs://no-such-bucket/gen/data")));
    assert_eq!(code, 1);
    assert!(err.contains("/gcs/no-such-bucket/gen/data"), "{err}");
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

/// Ensures that artifacts collected over a loop (KFP gives them all under one input) reach a
/// `list` input, each laid out at `/in/<input>/<i>` in order with its metadata.
#[test]
fn a_list_of_artifacts_reaches_a_list_input() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = json!({"schemaTitle": "system.Dataset", "schemaVersion": "0.0.1"});
    let mut given = Vec::new();
    for (i, text) in ["1\n2", "3\n4\n5"].iter().enumerate() {
        let path = dir.path().join(format!("d{i}"));
        std::fs::write(&path, text).unwrap();
        given.push(
            json!({"name": "data", "type": dataset, "uri": path, "metadata": {"count": i, "wasmpipe.kind": "Dataset"}}),
        );
    }
    let input = json!({
        "inputs": {"artifacts": {"data": {"artifacts": given}}},
        "outputs": {"parameters": {"sums": {"outputFile": dir.path().join("sums")}, "paths": {"outputFile": dir.path().join("paths")}, "counts": {"outputFile": dir.path().join("counts")}}, "outputFile": dir.path().join("out.json")},
    });
    let (code, _, err) = common::wasmpipe(
        &["task-run", "--executor-input", &input.to_string(), "--component", common::component("gather")],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.path().join(name)).unwrap()).unwrap()
    };
    assert_eq!(read("sums"), json!([3, 12]));
    assert_eq!(read("paths"), json!(["/in/data/0", "/in/data/1"]));
    assert_eq!(read("counts"), json!([0, 1]));
}

/// Ensures that failed tasks leave their failures under the pipeline root, and that an exit
/// task lists those of its body's DAG (kind, trap code, task id), every one, as `wasmpipe run`
/// gives them; a retried task sees its attempt number (counted there: KFP gives none), and
/// takes its failure back when it then succeeds; a task outside the body is not listed.
#[test]
fn an_exit_task_lists_every_failure_its_body_left() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let run = |component: &str, id: &str, instance: &str, groups: &str, inputs: Value, extra: &[&str]| {
        let input = json!({
            "inputs": {"parameterValues": inputs},
            "outputs": {"parameters": {"output": {"outputFile": dir.path().join(format!("{instance}.out"))}}, "outputFile": dir.path().join(format!("{instance}.json"))},
        });
        let input = input.to_string();
        let mut args = vec![
            "task-run",
            "--executor-input",
            &input,
            "--component",
            component,
            "--run-id",
            "job-1",
            "--task-id",
            id,
            "--pipeline-root",
            root.to_str().unwrap(),
        ];
        if !groups.is_empty() {
            args.extend(["--groups", groups]);
        }
        args.extend(extra);
        let (code, _, err) = common::wasmpipe(&args, &[]);
        (code, err)
    };
    let fault = common::component("fault");
    assert_eq!(run(fault, "body/crash", "u1", "comp-body", json!({"mode": "unreachable"}), &[]).0, 1);
    assert_eq!(run(fault, "body/stack", "u2", "comp-body", json!({"mode": "stack_overflow"}), &[]).0, 1);
    assert_eq!(run(fault, "elsewhere", "u3", "comp-other", json!({"mode": "unreachable"}), &[]).0, 1);
    // A task that failed, then succeeded on its retry (the same instance: its second attempt,
    // counted under the root, as the component sees): not a failure.
    let flaky = common::component("flaky");
    assert_eq!(run(flaky, "body/flaky", "u4", "comp-body", json!({"succeed_on": 2}), &[]).0, 1);
    assert_eq!(run(flaky, "body/flaky", "u4", "comp-body", json!({"succeed_on": 2}), &[]).0, 0);
    let status = json!({"state": "FAILED", "pipelineJobResourceName": "job-1", "pipelineTaskName": "body", "error": {"message": "one of KFP's"}});
    let (code, err) = run(
        common::component("exit_report"),
        "report",
        "u5",
        "",
        json!({"message": "bye", "status": status}),
        &["--exit-of", "comp-body"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(dir.path().join("u5.out")).unwrap(), "failed with 2 failure(s)");
    assert!(err.contains("body/crash failed: trap (unreachable_code_reached)"), "{err}");
    assert!(err.contains("body/stack failed: trap (stack_overflow)"), "{err}");
    assert!(!err.contains("elsewhere") && !err.contains("one of KFP's"), "{err}");
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

/// Runs `task-run` in Argo's mode over `component` with `args` (`--input`, `--final-status`,
/// ...); returns the exit code, stderr and the outputs directory.
fn task_run_argo(dir: &Path, component: &str, args: &[&str]) -> (i32, String, std::path::PathBuf) {
    let outputs = dir.join("outputs");
    let (code, _, err) =
        common::wasmpipe(&["task-run", "--component", component, "--outputs-dir", outputs.to_str().unwrap()], args);
    (code, err, outputs)
}

/// The failure task-run printed on stderr.
fn failure(err: &str) -> Value {
    let line = err.lines().find(|l| l.starts_with("{\"failure\"")).unwrap_or_else(|| panic!("{err}"));
    serde_json::from_str::<Value>(line).unwrap()["failure"].clone()
}

/// Ensures that in Argo's mode inputs are text read by the component's declared types (an int
/// for a float input, a float's JSON spelling, JSON for `any`), and that each output is a file
/// of the outputs directory: a string as it is, any other value as JSON.
#[test]
fn argo_inputs_are_typed_text_and_outputs_are_files() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err, outputs) =
        task_run_argo(dir.path(), common::component("scale"), &["--input", "x=3", "--input", "factor=2.5"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(outputs.join("value")).unwrap(), "7.5");
    assert_eq!(std::fs::read_to_string(outputs.join("label")).unwrap(), "3x2.5");
    let (code, err, outputs) =
        task_run_argo(dir.path(), common::component("add"), &["--input", "a=2", "--input", "b=40"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(outputs.join("output")).unwrap(), "42");
    // An `any` input is JSON (a string quoted); a string output is its text.
    let (code, err, outputs) = task_run_argo(dir.path(), common::component("echo"), &["--input", "value=\"a b\""]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(outputs.join("output")).unwrap(), "a b");
}

/// Ensures that a failure wasmpipe retries exits 1 and one it does not (`input`, `load`)
/// exits 2, each with its kind on stderr and no outputs written, so that Argo's
/// `retryStrategy` (exit code 1 only) retries what `wasmpipe run` retries.
#[test]
fn argo_exit_codes_tell_retried_failures_from_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err, outputs) = task_run_argo(dir.path(), common::component("fault"), &["--input", "mode=unreachable"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(failure(&err)["kind"], "trap");
    assert!(!outputs.exists());
    let (code, err, _) = task_run_argo(dir.path(), common::component("add"), &["--input", "a=2.5", "--input", "b=1"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(failure(&err)["kind"], "input");
    assert!(failure(&err)["message"].as_str().unwrap().contains("input `a`: `2.5` is not an int"), "{err}");
    let (code, err, _) = task_run_argo(dir.path(), common::component("add"), &["--input", "c=1"]);
    assert_eq!(code, 2, "{err}");
    assert!(failure(&err)["message"].as_str().unwrap().contains("the component has no input `c`"), "{err}");
    let not_wasm = dir.path().join("not.wasm");
    std::fs::write(&not_wasm, "not a component").unwrap();
    let (code, err, _) = task_run_argo(dir.path(), not_wasm.to_str().unwrap(), &[]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(failure(&err)["kind"], "load");
}

/// Ensures that an exit task gets Argo's phase of its body as wasmpipe's final status
/// (`Succeeded` succeeded with no failure, `Failed` and `Error` failed with one naming the
/// group), and that any other phase is refused without running the task, exit 2.
#[test]
fn argo_phases_become_final_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let exit = common::component("exit_report");
    for (phase, summary, line) in [
        ("Succeeded", "succeeded with 0 failure(s)", "group `cleanup` of run wf-7 ended succeeded"),
        (
            "Failed",
            "failed with 1 failure(s)",
            "cleanup failed: error (-): Argo reports the body of `cleanup` as Failed",
        ),
        ("Error", "failed with 1 failure(s)", "cleanup failed: error (-): Argo reports the body of `cleanup` as Error"),
    ] {
        let args = ["--input", "message=bye", "--final-status", phase, "--group", "cleanup", "--run-id", "wf-7"];
        let (code, err, outputs) = task_run_argo(dir.path(), exit, &args);
        assert_eq!(code, 0, "{err}");
        assert_eq!(std::fs::read_to_string(outputs.join("output")).unwrap(), summary, "{phase}");
        assert!(err.contains(line), "{phase}: {err}");
    }
    let (code, err, _) = task_run_argo(dir.path(), exit, &["--input", "message=bye", "--final-status", "Omitted"]);
    assert_eq!(code, 2, "{err}");
    assert!(failure(&err)["message"].as_str().unwrap().contains("`Omitted` is not a phase Argo gives"), "{err}");
    assert!(!err.contains("bye"), "the task must not run: {err}");
}

/// Ensures that the guest sees the ids it is given and the attempt after Argo's retry number
/// (`--retry {{retries}}`: 0 is the first attempt), and that `--executor-input` and
/// `--outputs-dir` are one mode or the other.
#[test]
fn argo_gives_the_guest_its_ids_and_attempt() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--task-id", "cleanup/flaky", "--run-id", "wf-1", "--retry", "2"];
    let (code, err, outputs) = task_run_argo(dir.path(), common::component("attempt"), &args);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(outputs.join("output")).unwrap(), "cleanup/flaky#3");
    let (code, _, err) = common::wasmpipe(
        &["task-run", "--executor-input", "{}", "--outputs-dir", "x", "--component", common::component("add")],
        &[],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot be used with"), "{err}");
}

/// Ensures that in Argo's mode an output artifact is placed at its `--artifact-output` path
/// (where the template's `outputs.artifacts` has Argo upload it) and an input artifact is read
/// from its `--artifact` path (where Argo put it), with metadata `{}`: Argo keeps none; an
/// input artifact that is not there fails the task.
#[test]
fn argo_artifacts_are_placed_and_read_at_their_paths() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("artifacts/outputs/data");
    let place = format!("data={}", data.display());
    let (code, err, outputs) =
        task_run_argo(dir.path(), common::component("numbers"), &["--input", "count=3", "--artifact-output", &place]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(&data).unwrap(), "1\n2\n3");
    assert!(!outputs.join("data").exists(), "an artifact is not a value output");

    let reader = tempfile::tempdir().unwrap();
    let (code, err, outputs) = task_run_argo(reader.path(), common::component("total"), &["--artifact", &place]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read_to_string(outputs.join("sum")).unwrap(), "6");
    let seen: Value = serde_json::from_str(&std::fs::read_to_string(outputs.join("seen")).unwrap()).unwrap();
    assert_eq!(seen["metadata"], json!({}));

    let missing = format!("data={}", dir.path().join("nowhere").display());
    let (code, err, _) = task_run_argo(reader.path(), common::component("total"), &["--artifact", &missing]);
    assert_ne!(code, 0, "{err}");
}

/// Ensures that a WASI command component runs from its declaration (`--command`, as JSON or in
/// hex as the Argo export writes it): its arguments filled from its inputs, its artifact read
/// and written, its stdout an output; a declaration that does not parse is refused.
#[test]
fn a_command_runs_from_its_declaration() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::write(&data, "1\n2\n3\n4\n5").unwrap();
    let last = dir.path().join("last");
    let spec = json!({
        "args": ["{{inputs.keep}}", "{{inputs.data}}", "{{outputs.last}}"],
        "inputs": {"keep": {"type": "int"}, "data": {"type": "artifact", "kind": "Dataset"}},
        "outputs": {"last": {"type": "artifact", "kind": "Dataset"}, "said": {"type": "string", "from": "stdout"}},
    })
    .to_string();
    let hex: String = spec.bytes().map(|b| format!("{b:02x}")).collect();
    let tail = common::example("tail_cmd");
    let tail = tail.to_str().unwrap();
    for declaration in [spec.clone(), format!("hex:{hex}")] {
        let (code, err, outputs) = task_run_argo(
            dir.path(),
            tail,
            &[
                "--command",
                &declaration,
                "--input",
                "keep=2",
                "--artifact",
                &format!("data={}", data.display()),
                "--artifact-output",
                &format!("last={}", last.display()),
            ],
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(std::fs::read_to_string(&last).unwrap().trim_end(), "4\n5");
        assert_eq!(std::fs::read_to_string(outputs.join("said")).unwrap().trim_end(), "kept 2 of 5 lines");
    }
    let (code, err, _) = task_run_argo(dir.path(), tail, &["--command", "{not json", "--input", "keep=2"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--command is not a command component's declaration"), "{err}");
}

/// Ensures that the instances of a task in different iterations of a loop are told apart under
/// the pipeline root: by the loops' items an exit handler's body is given (the exit task of an
/// iteration lists that iteration's failures only), and on KFP's backend, where every task has
/// the same output file, by the execution (`--instance`): an iteration's attempt is its own.
#[test]
fn iterations_are_told_apart_under_the_pipeline_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let launcher = "/tmp/kfp_outputs/output_metadata.json";
    let run = |component: &str, params: Value, output_file: &str, extra: &[&str]| {
        let input = json!({"inputs": {"parameterValues": params}, "outputs": {"outputFile": output_file}}).to_string();
        let mut args = vec![
            "task-run",
            "--executor-input",
            &input,
            "--component",
            component,
            "--run-id",
            "job-2",
            "--pipeline-root",
            root.to_str().unwrap(),
            "--groups",
            "comp-cleanup",
        ];
        args.extend(extra);
        let (code, _, err) = common::wasmpipe(&args, &[]);
        (code, err)
    };
    let own = dir.path().join("own.json");
    let own = own.to_str().unwrap();
    // Two iterations' body tasks fail; the exit task of the item-3 iteration lists its own.
    let fault = common::component("fault");
    let item = |n: i64| json!({"mode": "unreachable", "pipelinechannel--xs-loop-item": n});
    assert_eq!(run(fault, item(3), own, &["--task-id", "batch/*/cleanup/check", "--instance", "a"]).0, 1);
    assert_eq!(run(fault, item(4), own, &["--task-id", "batch/*/cleanup/check", "--instance", "b"]).0, 1);
    let status = json!({"state": "FAILED", "pipelineTaskName": "cleanup", "error": {"message": "one"}});
    let (code, err) = run(
        common::component("exit_report"),
        json!({"message": "bye", "status": status, "pipelinechannel--xs-loop-item": 3}),
        own,
        &["--task-id", "batch/*/report", "--exit-of", "comp-cleanup", "--instance", "c"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(err.matches("batch/*/cleanup/check failed: trap").count(), 1, "{err}");

    // On KFP's backend (its launcher's output file for every task): two iterations with equal
    // inputs, each its own first attempt.
    let flaky = common::component("flaky");
    for instance in ["it-1", "it-2"] {
        let (code, err) =
            run(flaky, json!({"succeed_on": 2}), launcher, &["--task-id", "fan/*/f", "--instance", instance]);
        assert_eq!(code, 1, "{instance} is a first attempt: {err}");
        assert!(err.contains("attempt 1 failed"), "{err}");
    }
}
