//! The library API: `Runner::prepare_file` (or `prepare_pipeline`, for a pipeline built in
//! Rust) and `Runner::run` give the same results as the CLI, with progress events and the
//! record returned.

mod common;

use std::path::Path;

use wasmpipe::record::{FailureKind, RunState, TaskState};
use wasmpipe::run::Cache;
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
    Runner::with_cache(Some(Cache::new(common::test_cache_dir()))).unwrap()
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
            _ => {}
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

/// Ensures that a pipeline built as Rust values runs like a file: an exit handler around a
/// failing body, with a parameter override, and that mistakes in it are reported by name.
#[tokio::test]
async fn a_pipeline_built_in_rust_runs_and_is_validated() {
    use wasmpipe::model::{ComponentRef, ExitHandler, ExitHandlerStep, Param, Pipeline, Step, Task};
    let task = |name: &str, component: &str, inputs: serde_json::Value| -> Task {
        serde_json::from_value(serde_json::json!({"task": name, "component": component, "inputs": inputs})).unwrap()
    };
    let mut pipeline = Pipeline::empty("built");
    pipeline.params.insert(
        "n".into(),
        Param {
            ty: wasmpipe::model::value::ValueType::Int,
            default: Some(serde_json::json!(1)),
            description: String::new(),
            kind: None,
            directory: None,
        },
    );
    for (name, path) in [("add", art::ADD), ("fail_op", art::EXAMPLE_FAIL_OP), ("report", art::EXAMPLE_EXIT_REPORT)] {
        pipeline.components.insert(
            name.into(),
            ComponentRef { path: Some(path.into()), pipeline: None, max_depth: None, command: None, build: None },
        );
    }
    pipeline.steps.push(Step::ExitHandler(ExitHandlerStep {
        exit_handler: ExitHandler {
            name: Some("g".into()),
            exit: task("cleanup", "report", serde_json::json!({"message": "done"})),
            fail_fast: false,
            steps: vec![
                Step::Task(task("sum", "add", serde_json::json!({"a": "{{params.n}}", "b": 2}))),
                Step::Task(task("boom", "fail_op", serde_json::json!({"message": "no"}))),
            ],
        },
    }));
    let dir = tempfile::tempdir().unwrap();
    let runner = runner();
    let options = RunOptions {
        params: vec![("n".into(), "40".into())],
        run_dir: dir.path().to_path_buf(),
        write_record: false,
        ..RunOptions::default()
    };
    let prepared = runner.prepare_pipeline(pipeline.clone(), dir.path(), &options).await.unwrap();
    let record = runner.run(&prepared, &options, &mut |_| {}).await;
    assert_eq!(record.state, RunState::Failed);
    assert_eq!(record.task("g/sum").unwrap().outputs["output"], 42);
    let cleanup = record.task("g/cleanup").unwrap();
    assert_eq!(cleanup.state, TaskState::Succeeded);
    assert_eq!(cleanup.final_status.as_ref().unwrap().failures[0].task, "g/boom");

    pipeline.steps.push(Step::Task(task("late", "nowhere", serde_json::json!({}))));
    let errors = runner.prepare_pipeline(pipeline, dir.path(), &options).await.err().unwrap().errors;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].file, "<built>");
    assert!(errors[0].message.contains("task `late` uses component `nowhere`"), "{errors:?}");
}

/// Ensures that with several workers (a 200-iteration loop, four jobs) the observer hears of
/// every task exactly once as started and once as finished, each start before its finish, the
/// finish carrying the record's own outcome; and that the fan-in sees every iteration.
#[tokio::test]
async fn progress_from_several_workers_arrives_once_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let items: Vec<i64> = (0..200).collect();
    let pipeline = serde_json::json!({
        "version": 1,
        "name": "workers",
        "components": {"add": {"path": art::ADD}, "sum": {"path": art::SUM}},
        "steps": [
            {"parallel_for": {"name": "fan", "items": items, "steps": [
                {"task": "inc", "component": "add", "inputs": {"a": "{{item}}"}},
            ]}},
            {"task": "total", "component": "sum", "inputs": {"values": "{{tasks.inc.output}}"}},
        ],
    });
    let file = dir.path().join("pipeline.json");
    std::fs::write(&file, serde_json::to_vec(&pipeline).unwrap()).unwrap();
    let runner = runner();
    let options =
        RunOptions { run_dir: dir.path().join("runs"), jobs: 4, write_record: false, ..RunOptions::default() };
    let prepared = runner.prepare_file(&file, &options).await.unwrap();
    let mut started = std::collections::HashSet::new();
    let mut finished = std::collections::HashMap::new();
    let record = runner
        .run(&prepared, &options, &mut |event| match event {
            Event::TaskStarted(id) => assert!(started.insert(id.to_string()), "{id} started twice"),
            Event::TaskFinished(t) => {
                assert!(started.contains(&t.id), "{} finished before it started", t.id);
                assert!(finished.insert(t.id.clone(), t.state).is_none(), "{} finished twice", t.id);
            }
            Event::Interrupted(message) => panic!("nothing interrupts this run: {message}"),
            _ => {}
        })
        .await;
    assert_eq!(record.state, RunState::Succeeded);
    assert_eq!(record.tasks.len(), 201);
    assert_eq!(finished.len(), 201);
    for task in &record.tasks {
        assert_eq!(finished[&task.id], task.state, "{}", task.id);
    }
    assert_eq!(record.task("total").unwrap().outputs["output"], 20_100, "the sum of 1..=200");
}

/// Ensures that a runner without the pooling allocator runs tasks all the same (on demand),
/// and that `check_file` reports what `prepare_file` refuses, the body components that do not
/// load, and nothing for a pipeline that runs, whether its signatures come from the cache (a
/// second check) or not.
#[tokio::test]
async fn check_file_and_a_runner_without_pooling() {
    let dir = tempfile::tempdir().unwrap();
    let good = json_pipeline(
        dir.path(),
        serde_json::json!([
            {"task": "first", "component": "add", "inputs": {"a": 1}},
            {"task": "second", "component": "add", "inputs": {"a": "{{tasks.first.output}}"}},
        ]),
    );
    let cache = tempfile::tempdir().unwrap();
    let runner = || Runner::with_cache(Some(Cache::new(cache.path()))).unwrap().without_pooling();
    let options = RunOptions { run_dir: dir.path().join("runs"), ..RunOptions::default() };
    for round in ["cold cache", "warm cache"] {
        assert_eq!(runner().check_file(&good, &options).await.errors, [], "{round}");
    }
    let runner = runner();
    let prepared = runner.prepare_file(&good, &options).await.unwrap();
    let record = runner.run(&prepared, &options, &mut |_| {}).await;
    assert_eq!(record.state, RunState::Succeeded);
    assert_eq!(record.outputs["sum"], serde_json::json!(3));

    let unknown_input = json_pipeline(
        dir.path(),
        serde_json::json!([
            {"task": "first", "component": "add", "inputs": {"a": 1}},
            {"task": "second", "component": "add", "inputs": {"nope": 1}},
        ]),
    );
    let errors: Vec<String> =
        runner.check_file(&unknown_input, &options).await.errors.into_iter().map(|d| d.message).collect();
    assert_eq!(
        errors,
        [
            "component `add` has no input `nope`; its inputs are: `a`, `b`",
            "task `second` does not bind the required input `a` (int) of component `add`"
        ]
    );

    let broken_body = json_pipeline(
        dir.path(),
        serde_json::json!([
            {"task": "first", "component": "broken"},
            {"task": "second", "component": "add", "inputs": {"a": 1}},
        ]),
    );
    let errors = runner.check_file(&broken_body, &options).await.errors;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].message.contains("missing.wasm"), "{}", errors[0].message);
}

/// Ensures that `Event::LoopEntered` counts each loop's task instances once: an outer loop's
/// own tasks when it is entered, each inner loop's when that one is entered, so that the counts
/// add up to the tasks that run.
#[tokio::test]
async fn loop_entered_counts_each_task_once() {
    let dir = tempfile::tempdir().unwrap();
    let inner = serde_json::json!({"parallel_for": {"name": "inner", "items": [1, 2], "steps": [
        {"task": "b", "component": "add", "inputs": {"a": "{{item}}"}},
    ]}});
    let file = json_pipeline(
        dir.path(),
        serde_json::json!([{"parallel_for": {"name": "outer", "items": [1, 2, 3], "steps": [
            {"task": "a", "component": "add", "inputs": {"a": 1}},
            inner,
        ]}}, {"task": "second", "component": "add", "inputs": {"a": 0}}]),
    );
    let runner = runner();
    let options = RunOptions { run_dir: dir.path().join("runs"), write_record: false, ..RunOptions::default() };
    let prepared = runner.prepare_file(&file, &options).await.unwrap();
    let mut entered = Vec::new();
    let record = runner
        .run(&prepared, &options, &mut |e| {
            if let Event::LoopEntered { id, tasks } = e {
                entered.push((id.to_string(), tasks));
            }
        })
        .await;
    assert_eq!(record.state, RunState::Succeeded);
    entered.sort();
    let expected: Vec<(String, usize)> =
        [("outer", 3), ("outer/0/inner", 2), ("outer/1/inner", 2), ("outer/2/inner", 2)]
            .into_iter()
            .map(|(id, n)| (id.to_string(), n))
            .collect();
    assert_eq!(entered, expected);
    assert_eq!(entered.iter().map(|(_, n)| n).sum::<usize>(), record.tasks.len() - 1, "all but `second`");
}
