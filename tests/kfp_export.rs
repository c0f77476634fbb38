//! `wasmpipe compile --target kfp`: the exported IR has the structure KFP's own compiler
//! gives the same pipeline (KFP's compiled test pipelines, read from the KFP corpus beside the
//! repository: `../shared/kfp-corpus`), and constructs not mapped yet are refused with their
//! place, never dropped.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use common::Case;
use saphyr::{LoadableYamlNode, Scalar, Yaml};
use serde_json::{Map, Value, json};

/// KFP's compiled IR of corpus file `relative` (under `valid/`), as JSON.
fn kfp_ir(relative: &str) -> Value {
    let path = common::repo_root().join("../shared/kfp-corpus/valid").join(relative);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("KFP's corpus is read from {} ({e}); it sits beside the repository", path.display())
    });
    let docs = Yaml::load_from_str(&text).unwrap();
    json_of(&docs[0])
}

fn json_of(yaml: &Yaml) -> Value {
    match yaml {
        Yaml::Value(Scalar::Null) => Value::Null,
        Yaml::Value(Scalar::Boolean(b)) => json!(b),
        Yaml::Value(Scalar::Integer(i)) => json!(i),
        Yaml::Value(Scalar::FloatingPoint(f)) => json!(f.into_inner()),
        Yaml::Value(Scalar::String(s)) => json!(s),
        Yaml::Sequence(items) => Value::Array(items.iter().map(json_of).collect()),
        Yaml::Mapping(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.as_str().map(String::from).unwrap_or_default(), json_of(v)))
                .collect::<Map<_, _>>(),
        ),
        other => panic!("unexpected YAML node {other:?}"),
    }
}

/// `wasmpipe compile --target kfp` of `case`: the IR (as JSON), or the exit code and stderr.
fn compile(case: &Case) -> Result<Value, (i32, String)> {
    let out = case.dir.path().join("ir.json");
    let (code, _, err) = common::wasmpipe(
        &["compile", case.file.to_str().unwrap(), "--target", "kfp", "-o", out.to_str().unwrap()],
        &[],
    );
    if code != 0 {
        return Err((code, err));
    }
    Ok(serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap())
}

/// The structure of an IR: for the root DAG and each DAG component (by the group's task
/// name), each task's dependencies, trigger strategy, whether it is a group, and where its
/// inputs come from (kind and producer, input names aside: KFP's components and the ported
/// ones name them differently).
fn structure(ir: &Value) -> BTreeMap<String, Value> {
    let mut dags = BTreeMap::new();
    let mut visit = |name: &str, dag: &Value| {
        let tasks: BTreeMap<String, Value> = dag["tasks"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(task, spec)| {
                let mut sources: Vec<String> = spec["inputs"]["parameters"]
                    .as_object()
                    .map(|inputs| {
                        inputs
                            .values()
                            .map(|source| {
                                let (kind, body) = source.as_object().unwrap().iter().next().unwrap();
                                match kind.as_str() {
                                    "runtimeValue" => "constant".to_string(),
                                    // wasmpipe's single output is `output`, KFP's `Output`
                                    "componentInputParameter" => {
                                        format!("input {}", body.as_str().unwrap().to_lowercase())
                                    }
                                    "taskOutputParameter" => {
                                        format!("output of {}", body["producerTask"].as_str().unwrap())
                                    }
                                    "taskFinalStatus" => {
                                        format!("final status of {}", body["producerTask"].as_str().unwrap())
                                    }
                                    other => other.to_string(),
                                }
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                sources.sort();
                let component = spec["componentRef"]["name"].as_str().unwrap();
                let is_group = ir["components"][component].get("dag").is_some();
                (
                    task.clone(),
                    json!({
                        "after": spec["dependentTasks"].as_array().cloned().unwrap_or_default(),
                        "trigger": spec["triggerPolicy"]["strategy"],
                        "group": is_group,
                        "inputs": sources,
                    }),
                )
            })
            .collect();
        dags.insert(name.to_string(), json!(tasks));
    };
    visit("root", &ir["root"]["dag"]);
    for (name, component) in ir["components"].as_object().unwrap() {
        if let Some(dag) = component.get("dag") {
            visit(name, dag);
        }
    }
    dags
}

fn example(name: &str) -> PathBuf {
    PathBuf::from(wasmpipe_test_artifacts::EXAMPLES.iter().find(|(n, _)| *n == name).unwrap().1)
}

/// A case with the example components `names` declared (and the test guest `add`).
fn case(body: &str, names: &[&str]) -> Case {
    let mut text = String::from("version: 1\ncomponents:\n");
    for name in names {
        text.push_str(&format!("  {name}: {{path: {:?}}}\n", example(name)));
    }
    text.push_str(&format!("  add: {{path: {:?}}}\n", wasmpipe_test_artifacts::ADD));
    Case::raw(&(text + body))
}

/// Ensures that KFP's exit-handler sample (`failing/pipeline_with_exit_handler`), ported, has
/// the structure KFP's compiler gives it: the body a DAG, the exit task beside it triggered by
/// `ALL_UPSTREAM_TASKS_COMPLETED`, the parameter passed to the body through a channel.
#[test]
fn the_exit_handler_sample_has_kfps_structure() {
    let case = case(
        "name: pipeline-with-exit-handler\nparams:\n  message: {type: string, default: Hello World!}\nsteps:\n  - exit_handler:\n      exit: {task: print-op, component: print_op, inputs: {message: Exit handler has worked!}}\n      steps:\n        - {task: print-op-2, component: print_op, inputs: {message: \"{{params.message}}\"}}\n        - {task: fail-op, component: fail_op, inputs: {message: Task failed.}}\n",
        &["print_op", "fail_op"],
    );
    let ir = compile(&case).unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"));
    assert_eq!(structure(&ir), structure(&kfp_ir("failing/pipeline_with_exit_handler.yaml")));
    // Parameters as KFP declares them; the exit task is never cached; the executor runs task-run.
    assert_eq!(
        ir["root"]["inputDefinitions"]["parameters"]["message"],
        json!({"parameterType": "STRING", "defaultValue": "Hello World!", "isOptional": true})
    );
    assert_eq!(ir["root"]["dag"]["tasks"]["print-op"]["cachingOptions"], json!({"enableCache": false}));
    let executor = &ir["deploymentSpec"]["executors"]["exec-fail-op"]["container"];
    assert_eq!(executor["command"], json!(["wasmpipe", "task-run"]));
    assert!(
        executor["args"].as_array().unwrap().iter().any(|a| a.as_str().unwrap().starts_with("blake3:")),
        "{executor}"
    );
}

/// Ensures that an exit task's final status is KFP's `TASK_FINAL_STATUS` from the group
/// (`pipeline_with_task_final_status`).
#[test]
fn the_final_status_is_kfps_task_final_status() {
    let case = case(
        "name: pipeline-with-task-final-status\nparams:\n  message: {type: string, default: Hello World!}\nsteps:\n  - exit_handler:\n      name: exit-handler-1\n      exit: {task: exit-op, component: exit_report, inputs: {message: \"{{params.message}}\"}}\n      steps:\n        - {task: print-op, component: print_op, inputs: {message: \"{{params.message}}\"}}\n        - {task: fail-op, component: fail_op, inputs: {message: Task failed.}}\n",
        &["print_op", "fail_op", "exit_report"],
    );
    let ir = compile(&case).unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"));
    assert_eq!(structure(&ir), structure(&kfp_ir("pipeline_with_task_final_status.yaml")));
    assert_eq!(
        ir["components"]["comp-exit-op"]["inputDefinitions"]["parameters"]["status"],
        json!({"parameterType": "TASK_FINAL_STATUS", "isOptional": true})
    );
}

/// Ensures that `after` becomes `dependentTasks` as KFP writes them (`pipeline_with_after`).
#[test]
fn after_is_kfps_dependent_tasks() {
    let case = case(
        "name: pipeline-with-after\nsteps:\n  - {task: print-text, component: print_op, inputs: {message: 1st task}}\n  - {task: print-text-2, component: print_op, after: [print-text], inputs: {message: 2nd task}}\n  - {task: print-text-3, component: print_op, after: [print-text, print-text-2], inputs: {message: 3rd task}}\n",
        &["print_op"],
    );
    let ir = compile(&case).unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"));
    assert_eq!(structure(&ir), structure(&kfp_ir("essential/pipeline_with_after.yaml")));
}

/// Ensures that KFP's flip-coin sample (`critical/flip_coin`: conditions nested in conditions,
/// their CEL over typed channels), ported, has KFP's structure; `add` stands for its
/// `random_num` (two ints in, an int out).
#[test]
fn nested_conditions_have_kfps_structure() {
    let mut body =
        String::from("name: conditional-execution-pipeline\nsteps:\n  - {task: flip-coin, component: flip_coin}\n");
    let mut n = 0;
    for (side, low, high, pivot, suffix) in [("heads", 0, 9, 5, ""), ("tails", 10, 19, 15, "-2")] {
        n += 1;
        let outer = n;
        body.push_str(&format!("  - if:\n      name: condition-{outer}\n      condition: \"{{{{tasks.flip-coin.output}}}} == '{side}'\"\n      steps:\n        - {{task: random-num{suffix}, component: add, inputs: {{a: {low}, b: {high}}}}}\n"));
        for (op, msg_suffix) in
            [(">", if suffix.is_empty() { "" } else { "-3" }), ("<=", if suffix.is_empty() { "-2" } else { "-4" })]
        {
            n += 1;
            body.push_str(&format!("        - if:\n            name: condition-{n}\n            condition: \"{{{{tasks.random-num{suffix}.output}}}} {op} {pivot}\"\n            steps:\n              - {{task: print-msg{msg_suffix}, component: print_op, inputs: {{message: \"{side} and {{{{tasks.random-num{suffix}.output}}}} {op} {pivot}!\"}}}}\n"));
        }
    }
    let case = case(&body, &["flip_coin", "print_op"]);
    let ir = compile(&case).unwrap_or_else(|(code, err)| panic!("exit {code}: {err}\n{body}"));
    assert_eq!(structure(&ir), structure(&kfp_ir("critical/flip_coin.yaml")));
    assert_eq!(
        ir["components"]["comp-condition-1"]["dag"]["tasks"]["condition-2"]["triggerPolicy"]["condition"],
        "int(inputs.parameter_values['pipelinechannel--random-num-output']) > 5"
    );
    assert_eq!(
        ir["root"]["dag"]["tasks"]["condition-1"]["triggerPolicy"]["condition"],
        "inputs.parameter_values['pipelinechannel--flip-coin-output'] == 'heads'"
    );
}

/// Ensures that a condition reading a task and a pipeline parameter used inside the branch
/// have KFP's structure (`essential/pipeline_with_condition`).
#[test]
fn a_condition_with_a_parameter_inside_has_kfps_structure() {
    let case = case(
        "name: single-condition-pipeline\nparams:\n  text: {type: string, default: condition test}\nsteps:\n  - {task: flip-coin-op, component: flip_coin}\n  - {task: print-op, component: print_op, inputs: {message: \"{{tasks.flip-coin-op.output}}\"}}\n  - if:\n      name: condition-1\n      condition: \"{{tasks.flip-coin-op.output}} == 'heads'\"\n      steps:\n        - {task: flip-coin-op-2, component: flip_coin}\n        - {task: print-op-2, component: print_op, inputs: {message: \"{{tasks.flip-coin-op-2.output}}\"}}\n        - {task: print-op-3, component: print_op, inputs: {message: \"{{params.text}}\"}}\n",
        &["flip_coin", "print_op"],
    );
    let ir = compile(&case).unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"));
    assert_eq!(structure(&ir), structure(&kfp_ir("essential/pipeline_with_condition.yaml")));
}

/// Ensures that retries become KFP's `retryPolicy`, and caching `cachingOptions`.
#[test]
fn retries_and_caching_are_kfps_options() {
    let case = case(
        "name: retry\nsteps:\n  - {task: flaky, component: fail_op, retries: 3, backoff: {initial: 2s, factor: 3, max: 1m}, cache: true, inputs: {message: m}}\n",
        &["fail_op"],
    );
    let ir = compile(&case).unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"));
    let task = &ir["root"]["dag"]["tasks"]["flaky"];
    assert_eq!(
        task["retryPolicy"],
        json!({"maxRetryCount": 3, "backoffDuration": "2s", "backoffFactor": 3.0, "backoffMaxDuration": "60s"})
    );
    assert_eq!(task["cachingOptions"], json!({"enableCache": true}));
}

/// Ensures that what is not mapped yet is refused, each construct with its place, and nothing
/// is written.
#[test]
fn constructs_not_mapped_are_refused_with_their_place() {
    let case = case(
        "name: later\ndeadline: 1h\nsteps:\n  - {task: a, component: print_op, network: {allow: [\"example.org:443\"]}, inputs: {message: m}}\n  - parallel_for:\n      items: [1, 2]\n      steps:\n        - {task: b, component: print_op, inputs: {message: \"{{item}}\"}}\n  - if:\n      condition: \"{{params.p}} > 1\"\n      steps: [{task: c, component: print_op, inputs: {message: m}}]\n  - else:\n      steps: [{task: d, component: print_op, inputs: {message: m}}]\nparams:\n  p: {type: int, default: 2}\n",
        &["print_op"],
    );
    let (code, err) = compile(&case).unwrap_err();
    assert_eq!(code, 2, "{err}");
    for needle in [
        "`deadline`: cannot compile to KFP's IR: a run deadline has no form in KFP's IR",
        "`steps[0].network`: cannot compile to KFP's IR: `network` is not exported",
        "`steps[1]`: cannot compile to KFP's IR: parallel_for is not exported to KFP's IR yet",
        "`steps[2]`: cannot compile to KFP's IR: elif and else are not exported to KFP's IR yet",
    ] {
        assert!(err.contains(needle), "{needle} in\n{err}");
    }
    assert!(!case.dir.path().join("ir.json").exists());
}

/// Ensures that `--copy-components` lays out the components as the IR names them, and that two
/// different components with one file name are refused (the image holds them side by side).
#[test]
fn components_are_copied_by_the_names_the_ir_gives_them() {
    let case = case("name: copy\nsteps:\n  - {task: a, component: print_op, inputs: {message: m}}\n", &["print_op"]);
    let out = case.dir.path().join("ir.json");
    let image = case.dir.path().join("image");
    let (code, _, err) = common::wasmpipe(
        &["compile", case.file.to_str().unwrap(), "--target", "kfp", "-o", out.to_str().unwrap()],
        &["--copy-components", image.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(image.join("print_op.wasm")).unwrap(), std::fs::read(example("print_op")).unwrap());

    let dir = case.dir.path();
    for (sub, name) in [("x", "print_op"), ("y", "fail_op")] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        std::fs::copy(example(name), dir.join(sub).join("op.wasm")).unwrap();
    }
    let twins = Case::raw(&format!(
        "version: 1\nname: twins\ncomponents:\n  a: {{path: {:?}}}\n  b: {{path: {:?}}}\nsteps:\n  - {{task: a, component: a, inputs: {{message: m}}}}\n  - {{task: b, component: b, inputs: {{message: m}}}}\n",
        dir.join("x/op.wasm"),
        dir.join("y/op.wasm")
    ));
    let (code, err) = compile(&twins).unwrap_err();
    assert_eq!(code, 2);
    assert!(err.contains("components `a` and `b` are both files named `op.wasm`, with different contents"), "{err}");
}
