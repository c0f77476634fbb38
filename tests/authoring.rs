//! Authoring pipelines in Rust (`wasmpipe::authoring`): the builder produces what the parser
//! produces, its YAML and JSON read back to the same model, KFP's exit-handler sample written
//! with it runs like the YAML one, and authoring mistakes are reported by task name.

mod common;

use std::path::Path;

use wasmpipe::authoring::{LoopSpec, PipelineBuilder, TaskHandle};
use wasmpipe::model::Pipeline;
use wasmpipe::model::load;
use wasmpipe::record::{RunRecord, RunState, TaskState};
use wasmpipe::run::Cache;
use wasmpipe::run::{RunOptions, Runner};
use wasmpipe_test_artifacts as art;

fn runner() -> Runner {
    Runner::with_cache(Some(Cache::new(common::test_cache_dir()))).unwrap()
}

/// KFP's exit-handler sample (`pipeline_exit_handler`), line for line.
fn kfp_exit_handler_sample() -> PipelineBuilder {
    let mut p = PipelineBuilder::new("pipeline-with-exit-handler");
    let message = p.param("message", "Hello World!".to_string());
    let print_op = p.component("print_op", "components/print_op.wasm");
    let fail_op = p.component("fail_op", "components/fail_op.wasm");

    let exit_task = p.task(&print_op).input("message", "Exit handler has worked!").handle();
    p.exit_handler(exit_task, None, |p| {
        p.task(&print_op).input("message", &message);
        p.task(&fail_op).input("message", "Task failed.");
    });
    p
}

/// Ensures that the builder's KFP sample equals the parsed `examples/exit-handler/pipeline.yaml`.
#[test]
fn the_builders_kfp_sample_equals_the_parsed_yaml() {
    let built = kfp_exit_handler_sample().build().unwrap();
    let parsed = load::load_file(&common::repo_root().join("examples/exit-handler/pipeline.yaml")).unwrap().pipeline;
    assert_eq!(built, parsed);
}

/// A pipeline with every kind of step and option the builder offers.
fn rich_pipeline() -> Pipeline {
    let mut p = PipelineBuilder::new("rich");
    p.description("every kind of step");
    let n = p.param("n", 3i64);
    let ratio = p.param("ratio", 1.0f64);
    let label = p.param("label", "yes".to_string());
    for (i, awkward) in
        ["0o17", "0x1F", "1", "-2.5e3", "~", "null", ".inf", "true", "a: b", "#x", "  pad ", "two\nlines", ""]
            .into_iter()
            .enumerate()
    {
        p.param(&format!("awkward{i}"), awkward.to_string());
    }
    let _flag = p.param("flag", false);
    let add = p.component("add", "components/add.wasm");
    let echo = p.component("echo", "components/echo.wasm");
    let report = p.component("exit_report", "components/exit_report.wasm");

    let first = p
        .named_task("first", &add)
        .input_of::<i64>("a", &n)
        .input_of::<i64>("b", 2)
        .retries(2)
        .backoff(wasmpipe::model::Backoff::default())
        .fuel(1_000_000)
        .artifact_limit(1 << 20)
        .host_env("HOME")
        .dir("/data", "data")
        .env("MODE", "fast")
        .handle();
    let outer_exit = p.named_task("outer-exit", &report).input("message", "outer done").handle();
    p.exit_handler(outer_exit, Some("outer"), |p| {
        let inner_exit = p.named_task("inner-exit", &report).input("message", "inner done").handle();
        p.exit_handler(inner_exit, Some("inner"), |p| {
            p.named_task("scaled", &echo)
                .input("value", &ratio)
                .timeout(std::time::Duration::from_millis(1500))
                .memory(64 << 20);
        });
        let sum = first.output::<i64>();
        p.if_(format!("{sum} > 4"), Some("big"), |p| {
            p.named_task("say-big", &echo).input("value", format!("big: {sum}, {label}").as_str());
        });
        p.elif(format!("{sum} == 4"), None, |p| {
            p.named_task("say-four", &echo).input("value", "1").cache(false);
        });
        p.else_(None, |p| {
            p.named_task("say-small", &echo).input("value", serde_json::json!({"n": 1.5, "ok": true}));
        });
        let spec = LoopSpec {
            name: Some("fan".into()),
            items: serde_json::json!([{"x": 1}, {"x": 2}]),
            var: Some("row".into()),
            parallelism: Some(2),
            fail_fast: true,
        };
        p.parallel_for(spec, |p, row| {
            p.named_task("per-row", &add)
                .input("a", row.field("x"))
                .input("b", 1)
                .after(&first)
                .ignore_upstream_failure();
        });
    });
    p.output("sum", &first.output::<i64>());
    p.build().unwrap()
}

/// Ensures that `to_yaml` and `to_json` write files the parser reads back to the very same
/// model (floats stay floats, `"1"` and `"yes"` stay strings, nested groups keep their order).
#[test]
fn yaml_and_json_round_trip_through_the_parser() {
    let built = rich_pipeline();
    let dir = Path::new("/tmp");
    for (text, what) in [(built.to_yaml(), "yaml"), (built.to_json(), "json")] {
        let parsed = load::load_str(&text, Path::new("built.yaml"), dir)
            .unwrap_or_else(|e| panic!("{what} does not parse: {e}\n{text}"))
            .pipeline;
        assert_eq!(parsed, built, "{what}:\n{text}");
    }
    let yaml = built.to_yaml();
    assert!(yaml.contains("ratio:") && yaml.contains("1.0"), "{yaml}");
}

/// The example components, copied beside a pipeline built with relative paths.
fn components_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("components")).unwrap();
    for (name, path) in art::EXAMPLES {
        std::fs::copy(path, dir.path().join("components").join(format!("{name}.wasm"))).unwrap();
    }
    std::fs::copy(art::ADD, dir.path().join("components/add.wasm")).unwrap();
    dir
}

fn shape(record: &RunRecord) -> Vec<(String, TaskState, bool, Option<RunState>)> {
    record
        .tasks
        .iter()
        .map(|t| (t.id.clone(), t.state, t.exit_handler, t.final_status.as_ref().map(|s| s.state)))
        .collect()
}

/// Ensures that KFP's sample built in Rust runs through the library with the record shape of
/// the YAML sample run from its file: the same ids, states, exit flags and final status.
#[tokio::test]
async fn the_rust_port_of_kfps_sample_runs_like_the_yaml_one() {
    let dir = components_dir();
    let runner = runner();
    let options = RunOptions { run_dir: dir.path().join("runs"), write_record: false, ..RunOptions::default() };
    let built = kfp_exit_handler_sample().build().unwrap();
    let prepared = runner.prepare_pipeline(built.clone(), dir.path(), &options).await.unwrap();
    let from_rust = runner.run(&prepared, &options, &mut |_| {}).await;

    let yaml = common::example_case("exit-handler/pipeline.yaml");
    let prepared = runner.prepare_file(&yaml.file, &options).await.unwrap();
    let from_yaml = runner.run(&prepared, &options, &mut |_| {}).await;

    // The builder's YAML, run by the CLI, gives the same ids and states too.
    let written = dir.path().join("pipeline.yaml");
    std::fs::write(&written, built.to_yaml()).unwrap();
    let runs = dir.path().join("cli-runs");
    let (code, stdout, stderr) = common::wasmpipe(
        &["run", written.to_str().unwrap(), "--output", "json", "--run-dir", runs.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 1, "{stderr}");
    let record: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let states: Vec<(String, String)> = record["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap().to_string(), t["state"].as_str().unwrap().to_string()))
        .collect();
    let expected: Vec<(String, String)> = from_rust
        .tasks
        .iter()
        .map(|t| (t.id.clone(), serde_json::to_value(t.state).unwrap().as_str().unwrap().to_string()))
        .collect();
    assert_eq!(states, expected);

    assert_eq!(from_rust.state, RunState::Failed);
    assert_eq!(shape(&from_rust), shape(&from_yaml));
    assert_eq!(
        shape(&from_rust),
        [
            ("exit-handler-1/print-op-2".to_string(), TaskState::Succeeded, false, None),
            ("exit-handler-1/fail-op".to_string(), TaskState::Failed, false, None),
            ("exit-handler-1/print-op".to_string(), TaskState::Succeeded, true, Some(RunState::Failed)),
        ]
    );
    let status = from_rust.task("exit-handler-1/print-op").unwrap().final_status.clone().unwrap();
    assert_eq!(status.failures[0].task, "exit-handler-1/fail-op");
}

/// Ensures that a body output bound to an optional input of the exit task (`docs/semantics.md`,
/// rule 6) reaches it, and that binding a required one is refused with a message naming the exit
/// task.
#[tokio::test]
async fn body_outputs_reach_the_exit_task_through_optional_inputs_only() {
    let dir = components_dir();
    let runner = runner();
    let options = RunOptions { run_dir: dir.path().join("runs"), write_record: false, ..RunOptions::default() };

    let mut p = PipelineBuilder::new("bound");
    let add = p.component("add", "components/add.wasm");
    let summary = p.component("summary_op", "components/summary_op.wasm");
    let exit_task = p.named_task("summary", &summary).handle();
    let mut sum: Option<TaskHandle> = None;
    p.exit_handler(exit_task.clone(), Some("g"), |p| {
        sum = Some(p.named_task("sum", &add).input("a", 40).input("b", 2).handle());
    });
    p.exit_input(&exit_task, "value", &sum.unwrap().output::<i64>());
    let prepared = runner.prepare_pipeline(p.build().unwrap(), dir.path(), &options).await.unwrap();
    let record = runner.run(&prepared, &options, &mut |_| {}).await;
    assert_eq!(record.task("g/summary").unwrap().outputs["output"], "the check passed with 42");

    let mut p = PipelineBuilder::new("required");
    let add = p.component("add", "components/add.wasm");
    let report = p.component("exit_report", "components/exit_report.wasm");
    let exit_task = p.named_task("report", &report).handle();
    let mut sum: Option<TaskHandle> = None;
    p.exit_handler(exit_task.clone(), Some("g"), |p| {
        sum = Some(p.named_task("sum", &add).input("a", 1).input("b", 2).handle());
    });
    p.exit_input(&exit_task, "message", &sum.unwrap().output::<i64>());
    let errors = runner.prepare_pipeline(p.build().unwrap(), dir.path(), &options).await.err().unwrap().errors;
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert!(
        messages.iter().any(|m| m.contains("exit task `report` binds its required input `message` to body task `sum`")),
        "{messages:?}"
    );
}

/// Ensures that authoring mistakes are reported with the task's name: an exit task used by two
/// handlers, an exit task used inside its own body, an exit task created inside the body,
/// duplicate task names, an `else` with no `if`, and (when prepared) a task wired to an output
/// of a type it cannot take.
#[tokio::test]
async fn authoring_mistakes_name_the_task() {
    let mut p = PipelineBuilder::new("twice");
    let print_op = p.component("print_op", "components/print_op.wasm");
    let exit_task = p.task(&print_op).input("message", "bye").handle();
    p.exit_handler(exit_task.clone(), Some("a"), |p| {
        p.task(&print_op).input("message", "a");
    });
    p.exit_handler(exit_task, Some("b"), |p| {
        p.task(&print_op).input("message", "b");
    });
    let errors = p.build().unwrap_err().errors;
    assert!(errors.iter().any(|e| e.contains("task `print-op` is the exit task of two exit handlers")), "{errors:?}");

    let mut p = PipelineBuilder::new("inside");
    let echo = p.component("echo", "components/echo.wasm");
    let exit_task = p.named_task("cleanup", &echo).input("value", 1).handle();
    let reads = exit_task.output::<i64>();
    p.exit_handler(exit_task.clone(), None, |p| {
        p.named_task("early", &echo).input("value", &reads);
        p.named_task("waits", &echo).input("value", 2).after(&exit_task);
    });
    let errors = p.build().unwrap_err().errors;
    assert!(errors.iter().any(|e| e.contains("exit task `cleanup` is used inside its own body, by task `early`")));
    assert!(errors.iter().any(|e| e.contains("exit task `cleanup` is used inside its own body, by task `waits`")));

    let mut p = PipelineBuilder::new("misplaced");
    let echo = p.component("echo", "components/echo.wasm");
    let mut inner: Option<TaskHandle> = None;
    p.if_("1 == 1", None, |p| {
        inner = Some(p.named_task("made-in-branch", &echo).input("value", 1).handle());
    });
    p.exit_handler(inner.unwrap(), None, |p| {
        p.named_task("body", &echo).input("value", 2);
    });
    p.named_task("body", &echo).input("value", 3);
    p.else_(None, |_| {});
    let errors = p.build().unwrap_err().errors;
    assert!(
        errors
            .iter()
            .any(|e| e.contains("exit task `made-in-branch` must be created in the group that holds its exit handler"))
    );
    assert!(errors.iter().any(|e| e.contains("task name `body` is used twice")));
    assert!(errors.iter().any(|e| e.contains("`else` must come right after an `if` or an `elif`")));

    // Wired with the untyped `input`, a string output reaching an int input is caught when the
    // pipeline is prepared against the components' signatures.
    let dir = components_dir();
    let runner = runner();
    let options = RunOptions { run_dir: dir.path().join("runs"), write_record: false, ..RunOptions::default() };
    let mut p = PipelineBuilder::new("types");
    let print_text = p.component("print_text", "components/print_text.wasm");
    let add = p.component("add", "components/add.wasm");
    let text = p.named_task("text", &print_text).input("text", "hi").handle();
    p.named_task("sum", &add).input("a", &text.output::<String>()).input("b", 1);
    let errors = runner.prepare_pipeline(p.build().unwrap(), dir.path(), &options).await.err().unwrap().errors;
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert!(
        messages.iter().any(|m| m.contains("input `a` of task `sum` is int, but it is bound to a string value")),
        "{messages:?}"
    );
}
