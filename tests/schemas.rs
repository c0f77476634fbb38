//! The JSON Schemas shipped in `schemas/` are generated from the model types: these tests fail
//! when a shipped file is stale, and check real run records against the run-record schema.

mod common;

use common::{Case, repo_root};

fn shipped(name: &str) -> serde_json::Value {
    let path = repo_root().join("schemas").join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// Ensures that `schemas/pipeline.schema.json` is what the model types generate.
#[test]
fn the_shipped_pipeline_schema_is_current() {
    assert!(
        shipped("pipeline.schema.json") == wasmpipe::model::schema(),
        "schemas/pipeline.schema.json is stale: run `cargo run -p wasmpipe -- schema pipeline > schemas/pipeline.schema.json`"
    );
}

/// Ensures that `schemas/run-record.schema.json` is what the record types generate.
#[test]
fn the_shipped_run_record_schema_is_current() {
    assert!(
        shipped("run-record.schema.json") == wasmpipe::record::schema(),
        "schemas/run-record.schema.json is stale: run `cargo run -p wasmpipe -- schema run-record > schemas/run-record.schema.json`"
    );
}

/// Ensures that real records (a failed run with an exit handler, a run with skipped tasks)
/// validate against the shipped run-record schema, and that the schema is strict enough to
/// reject a record with a wrong state.
#[test]
fn real_run_records_match_the_run_record_schema() {
    let validator = jsonschema::validator_for(&shipped("run-record.schema.json")).unwrap();
    let case = Case::new(
        "name: s\nsteps:\n  - exit_handler:\n      exit: {task: e, component: exit_report, inputs: {message: bye}}\n      steps:\n        - {task: f, component: fail_op, inputs: {message: no}}\n        - {task: after-f, component: print_op, inputs: {message: x}, after: [f]}\n  - {task: t, component: trap_op, inputs: {message: boom}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1);
    let errors: Vec<String> =
        validator.iter_errors(&record).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let mut broken = record.clone();
    broken["state"] = "exploded".into();
    assert!(!validator.is_valid(&broken));
}

/// Ensures that the example pipelines validate against the shipped pipeline schema.
#[test]
fn example_pipelines_match_the_pipeline_schema() {
    let validator = jsonschema::validator_for(&shipped("pipeline.schema.json")).unwrap();
    let mut files = Vec::new();
    for dir in ["examples/exit-handler", "examples/kfp-samples", "examples/control-flow", "examples/polyglot"] {
        for entry in std::fs::read_dir(repo_root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
    }
    assert!(files.len() >= 7, "{files:?}");
    for path in files {
        let name = path.display();
        let loaded = wasmpipe::model::load::load_file(&path).unwrap();
        let value = serde_json::to_value(&loaded.pipeline).unwrap();
        let errors: Vec<String> = validator.iter_errors(&value).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
}

/// Ensures that the pipeline schema carries its `$id` and refuses what `validate` refuses of
/// the format: another format version, a task or group name with other characters than
/// letters, digits, `-` and `_`; and that `validate` refuses the same documents.
#[test]
fn the_pipeline_schema_refuses_what_validate_refuses() {
    let schema = shipped("pipeline.schema.json");
    assert_eq!(schema["$id"], wasmpipe::model::SCHEMA_ID);
    assert_eq!(shipped("run-record.schema.json")["$id"], "urn:wasmpipe:schema:run-record:1");
    let validator = jsonschema::validator_for(&schema).unwrap();
    let good = serde_json::json!({
        "version": 1, "name": "p", "components": {"add": {"path": "add.wasm"}},
        "steps": [{"exit_handler": {"name": "guard", "exit": {"task": "report", "component": "add"},
                   "steps": [{"task": "train-1_b", "component": "add"}]}}],
    });
    assert!(validator.is_valid(&good), "{:?}", validator.iter_errors(&good).map(|e| e.to_string()).collect::<Vec<_>>());
    let mut bad_version = good.clone();
    bad_version["version"] = serde_json::json!(2);
    let mut bad_task = good.clone();
    bad_task["steps"][0]["exit_handler"]["steps"][0]["task"] = serde_json::json!("train a");
    let mut bad_group = good.clone();
    bad_group["steps"][0]["exit_handler"]["name"] = serde_json::json!("guard/x");
    for (what, doc) in [("version 2", bad_version), ("task `train a`", bad_task), ("group `guard/x`", bad_group)] {
        assert!(!validator.is_valid(&doc), "the schema takes {what}");
        let case = common::Case::raw(&serde_json::to_string(&doc).unwrap());
        let (code, out) = case.validate_json();
        assert_eq!(code, 2, "validate takes {what}: {out}");
    }
}
