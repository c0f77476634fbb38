//! Artifacts flow between tasks (`docs/semantics.md`, rule 6): a file or a directory written by one
//! task is published with its size, digest and metadata and read by the next; host files come in
//! with `-a` or a parameter's default (KFP's importer) and output artifacts go out with
//! `--export`; kinds and shapes are checked before anything runs.

mod common;

use common::{Case, assert_messages, task, validation_messages};
use serde_json::Value;

fn run_root(case: &Case, record: &Value) -> std::path::PathBuf {
    case.runs().join(record["run_id"].as_str().unwrap())
}

/// Ensures that a file artifact written by one task reaches the next at `/in/<input>`, that the
/// record holds its kind, published path, size, blake3 digest and metadata, and that the file
/// is in the run directory with the content written.
#[test]
fn a_file_artifact_passes_from_writer_to_reader_with_its_metadata() {
    let case = Case::new(
        "name: p\nsteps:\n  - {task: gen, component: numbers, inputs: {count: 10}}\n  - {task: add-up, component: total, inputs: {data: \"{{tasks.gen.outputs.data}}\"}}\noutputs:\n  data: \"{{tasks.gen.outputs.data}}\"\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    let data = &task(&record, "gen")["outputs"]["data"];
    assert_eq!(data["kind"], "Dataset");
    assert_eq!(data["directory"], false);
    assert_eq!(data["path"], "artifacts/gen/data");
    let text = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10";
    assert_eq!(data["size"], text.len());
    assert_eq!(data["digest"], format!("blake3:{}", blake3::hash(text.as_bytes()).to_hex()));
    assert_eq!(data["metadata"]["count"], 10);
    let published = run_root(&case, &record).join("artifacts/gen/data");
    assert_eq!(std::fs::read_to_string(&published).unwrap(), text);

    let reader = &task(&record, "add-up")["outputs"];
    assert_eq!(reader["sum"], 55);
    assert_eq!(reader["seen"]["path"], "/in/data");
    assert_eq!(reader["seen"]["name"], "data");
    assert_eq!(reader["seen"]["size"], text.len());
    assert_eq!(reader["seen"]["digest"], data["digest"]);
    assert_eq!(reader["seen"]["metadata"]["count"], 10);
    assert_eq!(record["outputs"]["data"], *data);
    // Nothing of the attempts' sandboxes is left behind.
    assert!(!run_root(&case, &record).join("staging").join("gen").exists());
}

/// Ensures that a directory artifact (nested files) passes whole and that the reader sees it
/// as a readable directory.
#[test]
fn a_directory_artifact_passes_whole() {
    let case = Case::new(
        "name: p\nsteps:\n  - {task: train, component: model_dir, inputs: {weights: w1}}\n  - {task: tune, component: model_dir, inputs: {model: \"{{tasks.train.output}}\"}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    let model = &task(&record, "train")["outputs"]["output"];
    assert_eq!(model["directory"], true);
    assert_eq!(model["kind"], "Model");
    assert_eq!(model["size"], "w1".len() + "layers=2".len());
    let tuned = run_root(&case, &record).join("artifacts/tune/output");
    assert_eq!(std::fs::read_to_string(tuned.join("weights.txt")).unwrap(), "w1+tuned");
    assert_eq!(std::fs::read_to_string(tuned.join("params.txt")).unwrap(), "layers=2");
}

/// Ensures that `-a name=PATH` gives an artifact parameter a host file, which the task reads
/// where it is (read-only) and which the run leaves unchanged; and that without `-a` the
/// parameter's default path (relative to the pipeline file) is used, like KFP's importer.
#[test]
fn host_files_come_in_with_dash_a_or_a_default_path() {
    let case = Case::new(
        "name: p\nparams:\n  data: {type: artifact, kind: Dataset, default: numbers.txt}\nsteps:\n  - {task: add-up, component: total, inputs: {data: \"{{params.data}}\"}}\n",
    );
    std::fs::write(case.dir.path().join("numbers.txt"), "1\n2\n3").unwrap();
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(task(&record, "add-up")["outputs"]["sum"], 6);
    assert_eq!(record["params"]["data"]["kind"], "Dataset");
    assert_eq!(record["params"]["data"]["size"], 5);

    let other = case.dir.path().join("other.txt");
    std::fs::write(&other, "40\n2").unwrap();
    let (code, record) = case.run_json(&["-a", &format!("data={}", other.display())]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(task(&record, "add-up")["outputs"]["sum"], 42);
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "40\n2");
}

/// Ensures that `--export DIR` copies the pipeline's output artifacts (file and directory) to
/// DIR/<output>, and leaves value outputs alone.
#[test]
fn export_copies_the_pipelines_output_artifacts() {
    let case = Case::new(
        "name: p\nsteps:\n  - {task: gen, component: numbers, inputs: {count: 3}}\n  - {task: train, component: model_dir, inputs: {weights: w}}\noutputs:\n  dataset: \"{{tasks.gen.outputs.data}}\"\n  model: \"{{tasks.train.output}}\"\n  lines: \"{{tasks.gen.outputs.lines}}\"\n",
    );
    let export = case.dir.path().join("exported");
    let (code, record) = case.run_json(&["--export", export.to_str().unwrap()]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(std::fs::read_to_string(export.join("dataset")).unwrap(), "1\n2\n3");
    assert_eq!(std::fs::read_to_string(export.join("model/config/params.txt")).unwrap(), "layers=2");
    assert!(!export.join("lines").exists());
}

/// Ensures that a failed attempt publishes nothing: its reader is skipped, no artifact of it is
/// in the run directory, and the record has no outputs for it.
#[test]
fn a_failed_attempt_publishes_no_artifact() {
    let case = Case::new(
        "name: p\nsteps:\n  - {task: gen, component: probe, inputs: {mode: big, bytes: 2000}, artifact_limit: 1KiB}\n  - {task: add-up, component: total, inputs: {data: \"{{tasks.gen.outputs.data}}\"}}\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 1, "{record:#}");
    assert_eq!(task(&record, "gen")["state"], "failed");
    assert!(task(&record, "gen").get("outputs").is_none_or(|o| o.as_object().is_none_or(|o| o.is_empty())));
    assert_eq!(task(&record, "add-up")["skip"]["reason"], "upstream_failed");
    let root = run_root(&case, &record);
    assert!(!root.join("artifacts/gen").exists());
    assert!(!root.join("staging/gen").exists());
}

/// Ensures that artifact wiring is checked before anything runs: a literal or a value output
/// bound to an artifact input, an artifact bound to a value input or formatted into a string,
/// a kind or shape mismatch, a missing `-a` file and `-p` for an artifact.
#[test]
fn artifact_wiring_mistakes_are_refused_before_the_run() {
    let case = Case::new(
        "name: p\nparams:\n  raw: {type: artifact, kind: Model}\nsteps:\n  - {task: gen, component: numbers, inputs: {count: 3}}\n  - {task: lit, component: total, inputs: {data: \"some/file.txt\"}}\n  - {task: val, component: total, inputs: {data: \"{{tasks.gen.outputs.lines}}\"}}\n  - {task: wrong-way, component: add, inputs: {a: \"{{tasks.gen.outputs.data}}\", b: 1}}\n  - {task: fmt, component: echo, inputs: {value: \"file: {{tasks.gen.outputs.data}}\"}}\n  - {task: kind, component: total, inputs: {data: \"{{params.raw}}\"}}\n  - {task: shape, component: model_dir, inputs: {model: \"{{tasks.gen.outputs.data}}\"}}\n",
    );
    let messages = validation_messages(&case);
    assert_messages(
        &messages,
        &[
            "input `data` of task `lit` takes an artifact: bind it to an artifact output",
            "input `data` of task `val` takes an artifact",
            "input `a` of task `wrong-way` is int, but it is bound to an artifact",
            "an artifact cannot be formatted into a string",
            "input `data` of task `kind` takes a Dataset artifact (a file), but it is bound to a Model artifact",
            "input `model` of task `shape` takes a Model artifact (a directory), but it is bound to a Dataset, a file artifact",
            "parameter `raw` (artifact) has no default: give it a value with `-a raw=PATH`",
        ],
    );

    let (code, out, _) = common::wasmpipe(
        &["validate", case.file.to_str().unwrap(), "--output", "json", "-a", "raw=/no/such/file", "-p", "raw=x"],
        &[],
    );
    assert_eq!(code, 2);
    assert!(out.contains("`-a raw=...`: artifact `raw`: cannot read `/no/such/file`"), "{out}");
    assert!(out.contains("`-p raw=x`: parameter `raw` is artifact: an artifact: give it with `-a NAME=PATH`"), "{out}");
}

/// Ensures that a cached task with an output artifact is restored on the second run: the task
/// is marked cached, its artifact is in the new run's directory with the same digest, and an
/// uncached reader reads it.
#[test]
fn a_cached_task_restores_its_artifacts_into_the_new_run() {
    let case = Case::new(
        "name: p\nsteps:\n  - {task: gen, component: numbers, inputs: {count: 7}, cache: true}\n  - {task: add-up, component: total, inputs: {data: \"{{tasks.gen.outputs.data}}\"}, cache: false}\n",
    );
    let (code, first) = case.run_json(&[]);
    assert_eq!(code, 0, "{first:#}");
    assert_eq!(task(&first, "gen")["cached"], false);
    let (code, second) = case.run_json(&[]);
    assert_eq!(code, 0, "{second:#}");
    assert_eq!(task(&second, "gen")["cached"], true);
    assert_eq!(task(&second, "gen")["outputs"]["data"]["digest"], task(&first, "gen")["outputs"]["data"]["digest"]);
    assert_eq!(task(&second, "add-up")["cached"], false);
    assert_eq!(task(&second, "add-up")["outputs"]["sum"], 28);
    let restored = run_root(&case, &second).join("artifacts/gen/data");
    assert_eq!(std::fs::read_to_string(restored).unwrap(), "1\n2\n3\n4\n5\n6\n7");
}

/// Ensures that each loop iteration passes its own artifact to its own reader, each published
/// in a directory of its own (`fan.1.gen`), and that the readers' values fan in.
#[test]
fn artifacts_pass_within_each_loop_iteration() {
    let case = Case::new(
        "name: p\nsteps:\n  - parallel_for:\n      name: fan\n      items: [2, 3, 4]\n      steps:\n        - {task: gen, component: numbers, inputs: {count: \"{{item}}\"}}\n        - {task: add-up, component: total, inputs: {data: \"{{tasks.gen.outputs.data}}\"}}\noutputs:\n  sums: \"{{tasks.add-up.outputs.sum}}\"\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(record["outputs"]["sums"], serde_json::json!([3, 6, 10]));
    assert_eq!(task(&record, "fan/1/gen")["outputs"]["data"]["path"], "artifacts/fan.1.gen/data");
    let published = run_root(&case, &record).join("artifacts/fan.2.gen/data");
    assert_eq!(std::fs::read_to_string(published).unwrap(), "1\n2\n3\n4");
}

/// Ensures that a task outside a loop collects the artifacts of every iteration (KFP's
/// `Input[List[Dataset]]`): its `list` input holds one description per iteration, in item
/// order, each laid out at `/in/<input>/<i>` with its metadata; a pipeline output collects
/// them too, as the record's artifacts.
#[test]
fn artifacts_made_in_a_loop_are_collected_by_a_reader_outside() {
    let case = Case::new(
        "name: p\nsteps:\n  - parallel_for:\n      name: fan\n      items: [2, 3, 4]\n      steps:\n        - {task: gen, component: numbers, inputs: {count: \"{{item}}\"}}\n  - {task: all, component: gather, inputs: {data: \"{{tasks.gen.outputs.data}}\"}}\noutputs:\n  datasets: \"{{tasks.gen.outputs.data}}\"\n",
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    let all = &task(&record, "all")["outputs"];
    assert_eq!(all["sums"], serde_json::json!([3, 6, 10]));
    assert_eq!(all["paths"], serde_json::json!(["/in/data/0", "/in/data/1", "/in/data/2"]));
    assert_eq!(all["counts"], serde_json::json!([2, 3, 4]));
    let datasets = record["outputs"]["datasets"].as_array().unwrap();
    assert_eq!(datasets.len(), 3);
    assert_eq!(datasets[2]["path"], "artifacts/fan.2.gen/data");
}

/// Ensures that collected artifacts go where they can be laid out: a task's `list` input, a
/// pipeline output, a loop's items (one per iteration); not formatted into a string, not to an
/// artifact input, not to a sub-pipeline's parameter.
#[test]
fn collected_artifacts_are_refused_where_they_cannot_be_laid_out() {
    let case = Case::with_components(
        "name: p\nsteps:\n  - parallel_for:\n      name: fan\n      items: [2, 3]\n      steps:\n        - {task: gen, component: numbers, inputs: {count: \"{{item}}\"}}\n  - {task: text, component: print_op, inputs: {message: \"all: {{tasks.gen.outputs.data}}\"}}\n  - {task: one, component: total, inputs: {data: \"{{tasks.gen.outputs.data}}\"}}\n  - {task: inner, component: sub, inputs: {data: \"{{tasks.gen.outputs.data}}\"}}\n",
        &[("sub", "{pipeline: sub.yaml}")],
    );
    case.add_pipeline(
        "sub.yaml",
        "name: sub\nparams:\n  data: {type: list}\nsteps:\n  - {task: say, component: print_op, inputs: {message: hi}}\n",
        &[],
    );
    assert_messages(
        &validation_messages(&case),
        &[
            "an artifact cannot be formatted into a string",
            "input `data` of task `one` is artifact, but it is bound to the artifacts of every iteration of a loop; make it a list of artifacts",
            "`{{tasks.gen.outputs.data}}` is an artifact made inside a loop: its artifacts are collected into a task's `list` input",
        ],
    );
}

/// Ensures that a loop runs over artifacts collected over another loop (KFP's `ParallelFor`
/// over a `List[Dataset]`), made beside it or returned by a sub-pipeline: each iteration's
/// item is one artifact, laid out at its reader's input, in item order.
#[test]
fn a_loop_runs_over_artifacts_collected_over_a_loop() {
    let case = Case::with_components(
        "name: p\nsteps:\n  - parallel_for:\n      name: fan\n      items: [2, 3, 4]\n      steps:\n        - {task: gen, component: numbers, inputs: {count: \"{{item}}\"}}\n  - parallel_for:\n      name: each\n      items: \"{{tasks.gen.outputs.data}}\"\n      as: d\n      steps:\n        - {task: add-up, component: total, inputs: {data: \"{{d}}\"}}\n  - {task: inner, component: sub}\n  - parallel_for:\n      name: again\n      items: \"{{tasks.inner.outputs.all}}\"\n      steps:\n        - {task: add-again, component: total, inputs: {data: \"{{item}}\"}}\noutputs:\n  sums: \"{{tasks.add-up.outputs.sum}}\"\n  again: \"{{tasks.add-again.outputs.sum}}\"\n",
        &[("sub", "{pipeline: sub.yaml}")],
    );
    case.add_pipeline(
        "sub.yaml",
        "name: sub\nsteps:\n  - parallel_for:\n      name: fan\n      items: [5, 1]\n      steps:\n        - {task: gen, component: numbers, inputs: {count: \"{{item}}\"}}\noutputs:\n  all: \"{{tasks.gen.outputs.data}}\"\n",
        &[],
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(record["outputs"]["sums"], serde_json::json!([3, 6, 10]));
    assert_eq!(record["outputs"]["again"], serde_json::json!([15, 1]));
    // Each iteration saw its own artifact at its input, with its producer's metadata.
    let seen = &task(&record, "each/1/add-up")["outputs"]["seen"];
    assert_eq!((&seen["path"], &seen["metadata"]["count"]), (&"/in/data".into(), &3.into()));
    assert_eq!(task(&record, "again/0/add-again")["outputs"]["seen"]["metadata"]["count"], 5);
}

/// Ensures that the items of a loop over collected artifacts are checked like artifacts: of
/// the reader's kind, not read by field, not bound to a value input, and collected over one
/// loop only (over two, each item would be a list).
#[test]
fn a_loop_over_artifacts_is_checked_before_the_run() {
    let case = Case::new(
        "name: p\nsteps:\n  - parallel_for:\n      name: fan\n      items: [2, 3]\n      steps:\n        - {task: gen, component: numbers, inputs: {count: \"{{item}}\"}}\n        - parallel_for:\n            name: deep\n            items: [1]\n            steps:\n              - {task: gen2, component: numbers, inputs: {count: \"{{item}}\"}}\n  - parallel_for:\n      name: each\n      items: \"{{tasks.gen.outputs.data}}\"\n      steps:\n        - {task: as-model, component: model_dir, inputs: {model: \"{{item}}\"}}\n        - {task: as-int, component: scale, inputs: {x: \"{{item}}\"}}\n        - {task: by-field, component: print_op, inputs: {message: \"{{item.name}}\"}}\n  - parallel_for:\n      name: nested\n      items: \"{{tasks.gen2.outputs.data}}\"\n      steps:\n        - {task: each2, component: print_op, inputs: {message: hi}}\n",
    );
    assert_messages(
        &validation_messages(&case),
        &[
            "input `model` of task `as-model` takes a Model artifact (a directory), but it is bound to a Dataset, a file artifact",
            "input `x` of task `as-int` is float, but it is bound to an artifact; only an artifact input can take one",
            "`{{item.name}}`: the items of loop `each` are artifacts, which have no fields",
            "`{{tasks.gen2.outputs.data}}` is an artifact made inside 2 nested loops",
        ],
    );
}

/// Ensures that artifacts cross sub-pipeline boundaries both ways: an artifact bound to a
/// sub-pipeline's artifact parameter is read inside, an artifact made inside is a sub-pipeline
/// output read outside, and `--export` exports it.
#[test]
fn artifacts_cross_sub_pipeline_boundaries() {
    let case = Case::with_components(
        "name: outer\nsteps:\n  - {task: gen, component: numbers, inputs: {count: 5}}\n  - {task: inner, component: sub, inputs: {data: \"{{tasks.gen.outputs.data}}\"}}\n  - {task: after, component: total, inputs: {data: \"{{tasks.inner.outputs.again}}\"}}\noutputs:\n  sum: \"{{tasks.inner.outputs.sum}}\"\n  again: \"{{tasks.inner.outputs.again}}\"\n",
        &[("sub", "{pipeline: sub.yaml}")],
    );
    case.add_pipeline(
        "sub.yaml",
        "name: sub\nparams:\n  data: {type: artifact, kind: Dataset}\nsteps:\n  - {task: add-up, component: total, inputs: {data: \"{{params.data}}\"}}\n  - {task: regen, component: numbers, inputs: {count: 2}}\noutputs:\n  sum: \"{{tasks.add-up.outputs.sum}}\"\n  again: \"{{tasks.regen.outputs.data}}\"\n",
        &[],
    );
    let export = case.dir.path().join("exported");
    let (code, record) = case.run_json(&["--export", export.to_str().unwrap()]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(record["outputs"]["sum"], 15);
    assert_eq!(task(&record, "after")["outputs"]["sum"], 3);
    assert_eq!(record["outputs"]["again"]["path"], "artifacts/inner.regen/data");
    assert_eq!(std::fs::read_to_string(export.join("again")).unwrap(), "1\n2");
}

/// Ensures that a sub-pipeline's artifact parameter may default to a file beside the
/// sub-pipeline (its importer), and that a missing one is reported in the sub-pipeline's file.
#[test]
fn a_sub_pipeline_imports_its_default_artifact() {
    let case = Case::with_components(
        "name: outer\nsteps:\n  - {task: inner, component: sub}\noutputs:\n  sum: \"{{tasks.inner.outputs.sum}}\"\n",
        &[("sub", "{pipeline: nested/sub.yaml}")],
    );
    std::fs::create_dir_all(case.dir.path().join("nested")).unwrap();
    std::fs::write(case.dir.path().join("nested/numbers.txt"), "4\n5").unwrap();
    case.add_pipeline(
        "nested/sub.yaml",
        "name: sub\nparams:\n  data: {type: artifact, kind: Dataset, default: numbers.txt}\nsteps:\n  - {task: add-up, component: total, inputs: {data: \"{{params.data}}\"}}\noutputs:\n  sum: \"{{tasks.add-up.outputs.sum}}\"\n",
        &[],
    );
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(record["outputs"]["sum"], 9);

    std::fs::remove_file(case.dir.path().join("nested/numbers.txt")).unwrap();
    let (code, out) = case.validate_json();
    assert_eq!(code, 2);
    let error = &out["errors"][0];
    assert!(error["file"].as_str().unwrap().ends_with("nested/sub.yaml"), "{out}");
    assert_eq!(error["path"], "params.data.default");
}
