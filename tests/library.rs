//! The library API: `Runner::prepare_file` and `Runner::run` give the same results as the CLI,
//! from a JSON pipeline file, with progress events and the record returned.

mod common;

use std::path::Path;

use wasmpipe::cache::CompileCache;
use wasmpipe::record::{FailureKind, RunState, TaskState};
use wasmpipe::run::{Event, RunOptions, Runner};
use wasmpipe_test_artifacts as art;

fn json_pipeline(dir: &Path, steps: serde_json::Value) -> std::path::PathBuf {
    let pipeline = serde_json::json!({
        "version": 1,
        "name": "library",
        "params": {"n": {"type": "int", "default": 20}},
        "components": {
            "add": {"path": art::ADD},
            "fail_op": {"path": art::EXAMPLE_FAIL_OP},
            "exit_report": {"path": art::EXAMPLE_EXIT_REPORT},
            "broken": {"path": "missing.wasm"},
        },
        "steps": steps,
        "outputs": {"sum": "{{tasks.second.output}}"},
    });
    let file = dir.join("pipeline.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&pipeline).unwrap()).unwrap();
    file
}

/// A runner whose compiled-component cache is the tests' own.
fn runner() -> Runner {
    Runner::with_cache(Some(CompileCache::new(common::test_cache_dir()))).unwrap()
}

/// Ensures that a JSON pipeline runs through the library: outputs chain with their types,
/// progress events arrive in order, and the record is returned and written.
#[tokio::test]
async fn a_json_pipeline_runs_through_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let file = json_pipeline(
        dir.path(),
        serde_json::json!([
            {"task": "first", "component": "add", "inputs": {"a": "{{params.n}}", "b": 1}},
            {"task": "second", "component": "add", "inputs": {"a": "{{tasks.first.output}}"}},
        ]),
    );
    let runner = runner();
    let options = RunOptions {
        params: vec![("n".into(), "40".into())],
        run_dir: dir.path().join("runs"),
        ..RunOptions::default()
    };
    let prepared = runner.prepare_file(&file, &options).await.unwrap();
    let mut events = Vec::new();
    let record = runner
        .run(&prepared, &options, &mut |e| match e {
            Event::TaskStarted(id) => events.push(format!("start {id}")),
            Event::TaskFinished(t) => events.push(format!("end {}", t.id)),
            Event::Interrupted(message) => events.push(message.to_string()),
        })
        .await;
    assert_eq!(record.state, RunState::Succeeded);
    assert_eq!(events, ["start first", "end first", "start second", "end second"]);
    assert_eq!(record.outputs["sum"], serde_json::json!(42), "40 + 1, then + the default 1");
    assert!(dir.path().join("runs").join(&record.run_id).join("record.json").exists());

    let in_memory = RunOptions { write_record: false, ..options.clone() };
    let record = runner.run(&prepared, &in_memory, &mut |_| {}).await;
    assert_eq!(record.outputs["sum"], serde_json::json!(42));
    assert!(!dir.path().join("runs").join(&record.run_id).exists(), "write_record: false writes nothing");
}

/// Ensures that a body component that cannot load is reported by `prepare_file` without
/// stopping the run, and that its task fails with kind `load` while the handler runs.
#[tokio::test]
async fn a_missing_body_component_fails_its_task_with_load() {
    let dir = tempfile::tempdir().unwrap();
    let file = json_pipeline(
        dir.path(),
        serde_json::json!([{"exit_handler": {
            "name": "g",
            "exit": {"task": "report", "component": "exit_report", "inputs": {"message": "done"}},
            "steps": [{"task": "second", "component": "broken"}],
        }}]),
    );
    let runner = runner();
    let options = RunOptions { run_dir: dir.path().join("runs"), ..RunOptions::default() };
    let prepared = runner.prepare_file(&file, &options).await.unwrap();
    assert_eq!(prepared.load_failures.len(), 1);
    assert!(prepared.load_failures[0].message.contains("cannot read component"), "{}", prepared.load_failures[0]);
    assert_eq!(prepared.load_failures[0].path, "components.broken");
    let record = runner.run(&prepared, &options, &mut |_| {}).await;
    assert_eq!(record.state, RunState::Failed);
    let second = record.task("g/second").unwrap();
    assert_eq!(second.failure.as_ref().unwrap().kind, FailureKind::Load);
    let report = record.task("g/report").unwrap();
    assert_eq!(report.state, TaskState::Succeeded);
    assert_eq!(report.final_status.as_ref().unwrap().failures[0].task, "g/second");
    assert!(record.outputs.is_empty(), "the producer of `sum` failed, so the output is absent");
}

/// Ensures that the library's cancel handle behaves as a signal does: the running body task is
/// cancelled, the exit handler runs with state `cancelled`, and the record names the source.
#[tokio::test]
async fn the_cancel_handle_cancels_like_a_signal() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pipeline.yaml");
    std::fs::write(
        &file,
        format!(
            "version: 1\nname: lib-cancel\ncomponents:\n  fault: {{path: {:?}}}\n  exit_report: {{path: {:?}}}\nsteps:\n  - exit_handler:\n      name: g\n      exit: {{task: e, component: exit_report, inputs: {{message: bye}}}}\n      steps:\n        - {{task: body, component: fault, inputs: {{mode: spin}}}}\n",
            art::FAULT,
            art::EXAMPLE_EXIT_REPORT
        ),
    )
    .unwrap();
    let runner = runner();
    let options = RunOptions { run_dir: dir.path().join("runs"), ..RunOptions::default() };
    let prepared = runner.prepare_file(&file, &options).await.unwrap();
    let cancel = options.cancel.clone();
    let record = runner
        .run(&prepared, &options, &mut |event| {
            if let Event::TaskStarted("g/body") = event {
                cancel.cancel("library");
            }
        })
        .await;
    assert_eq!(record.state, RunState::Cancelled);
    assert_eq!(record.cancel.as_ref().unwrap().signal, "library");
    assert_eq!(record.task("g/body").unwrap().state, TaskState::Cancelled);
    let e = record.task("g/e").unwrap();
    assert_eq!(e.state, TaskState::Succeeded);
    assert_eq!(e.final_status.as_ref().unwrap().state, RunState::Cancelled);
}
