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
