//! `wasmpipe compile --target kfp`: the exported IR has the structure KFP's own compiler
//! gives the same pipeline (KFP's compiled test pipelines, read from the KFP corpus beside the
//! repository: `../shared/kfp-corpus`), and constructs not mapped yet are refused with their
//! place, never dropped.

mod common;

use std::collections::BTreeMap;

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

/// A channel's name as both compilers agree on it: lower case (wasmpipe's single output is
/// `output`, KFP's `Output`), and a literal loop's item channel without its number (KFP
/// numbers it with its groups, `loop-item-param-3`; wasmpipe counts literal loops).
fn channel_name(name: &str) -> String {
    let name = name.to_lowercase();
    match name.find("loop-item-param-") {
        Some(at) => name[..at + "loop-item-param".len()].to_string(),
        None => name,
    }
}

/// The structure of an IR: for the root DAG and each DAG component (by the group's task
/// name), each task's dependencies, trigger strategy and condition, loop iterator and
/// parallelism, whether it is a group, and where its inputs come from (kind and producer,
/// input names aside: KFP's components and the ported ones name them differently).
fn structure(ir: &Value) -> BTreeMap<String, Value> {
    let mut dags = BTreeMap::new();
    let mut visit = |name: &str, dag: &Value| {
        let tasks: BTreeMap<String, Value> = dag["tasks"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(task, spec)| {
                let parameters = spec["inputs"]["parameters"].as_object().into_iter().flat_map(|m| m.values());
                let artifacts = spec["inputs"]["artifacts"].as_object().into_iter().flat_map(|m| m.values());
                let mut sources: Vec<String> = Some(parameters.chain(artifacts))
                    .map(|inputs| {
                        inputs
                            .map(|source| {
                                let (kind, body) = source.as_object().unwrap().iter().next().unwrap();
                                match kind.as_str() {
                                    "runtimeValue" => "constant".to_string(),
                                    // wasmpipe's single output is `output`, KFP's `Output`
                                    "componentInputParameter" => format!(
                                        "input {}{}",
                                        channel_name(body.as_str().unwrap()),
                                        source
                                            .get("parameterExpressionSelector")
                                            .map_or(String::new(), |s| format!(" {s}"))
                                    ),
                                    "componentInputArtifact" => {
                                        format!("input artifact {}", channel_name(body.as_str().unwrap()))
                                    }
                                    "taskOutputParameter" | "taskOutputArtifact" => {
                                        format!("{kind} of {}", body["producerTask"].as_str().unwrap())
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
                        "condition": spec["triggerPolicy"]["condition"].as_str().map(channel_name),
                        "iterator": spec["parameterIterator"]["itemInput"].as_str().map(|item| json!({
                            "item": channel_name(item),
                            "items": spec["parameterIterator"]["items"]["inputParameter"].as_str().map(channel_name),
                            "raw": spec["parameterIterator"]["items"]["raw"].as_str()
                                .map(|raw| serde_json::from_str::<Value>(raw).unwrap()),
                        })),
                        "parallelism": spec["iteratorPolicy"]["parallelismLimit"],
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

/// Ensures that KFP's exit-handler sample (`failing/pipeline_with_exit_handler`), ported, has
/// the structure KFP's compiler gives it: the body a DAG, the exit task beside it triggered by
/// `ALL_UPSTREAM_TASKS_COMPLETED`, the parameter passed to the body through a channel.
#[test]
fn the_exit_handler_sample_has_kfps_structure() {
    let case = common::examples_case(
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
    let case = common::examples_case(
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
    let case = common::examples_case(
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
    let case = common::examples_case(&body, &["flip_coin", "print_op"]);
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
    let case = common::examples_case(
        "name: single-condition-pipeline\nparams:\n  text: {type: string, default: condition test}\nsteps:\n  - {task: flip-coin-op, component: flip_coin}\n  - {task: print-op, component: print_op, inputs: {message: \"{{tasks.flip-coin-op.output}}\"}}\n  - if:\n      name: condition-1\n      condition: \"{{tasks.flip-coin-op.output}} == 'heads'\"\n      steps:\n        - {task: flip-coin-op-2, component: flip_coin}\n        - {task: print-op-2, component: print_op, inputs: {message: \"{{tasks.flip-coin-op-2.output}}\"}}\n        - {task: print-op-3, component: print_op, inputs: {message: \"{{params.text}}\"}}\n",
        &["flip_coin", "print_op"],
    );
    let ir = compile(&case).unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"));
    assert_eq!(structure(&ir), structure(&kfp_ir("essential/pipeline_with_condition.yaml")));
}

/// A case with the example components `names` and the test guests `guests` declared.
fn case_with(body: &str, names: &[&str], guests: &[&str]) -> Case {
    let mut text = String::from("version: 1\ncomponents:\n");
    for name in names {
        text.push_str(&format!("  {name}: {{path: {:?}}}\n", common::example(name)));
    }
    for name in guests {
        text.push_str(&format!("  {name}: {{path: {:?}}}\n", common::component(name)));
    }
    Case::raw(&(text + body))
}

/// Ensures that loops over a parameter, a task's output and a literal list, with items read
/// whole and by field, have the structure KFP's compiler gives
/// `parallel_and_nested/pipeline_with_loops`: one DAG per loop, its task iterating over the
/// items (`parameterIterator`), fields read with `parameterExpressionSelector`.
#[test]
fn loops_have_kfps_structure() {
    let case = case_with(
        "name: pipeline-with-loops\nparams:\n  loop_parameter: {type: list, default: [a, b]}\nsteps:\n  - parallel_for:\n      name: for-loop-1\n      items: \"{{params.loop_parameter}}\"\n      steps:\n        - {task: print-text, component: print_op, inputs: {message: \"{{item}}\"}}\n  - {task: args-generator-op, component: generate_op}\n  - parallel_for:\n      name: for-loop-2\n      items: \"{{tasks.args-generator-op.output}}\"\n      steps:\n        - {task: print-struct, component: print_struct, inputs: {struct: \"{{item}}\"}}\n        - {task: print-text-2, component: print_op, inputs: {message: \"{{item.A_a}}\"}}\n        - {task: print-text-3, component: print_op, inputs: {message: \"{{item.B_b}}\"}}\n  - parallel_for:\n      name: for-loop-4\n      items: [{A_a: \"1\", B_b: \"2\"}, {A_a: \"10\", B_b: \"20\"}]\n      steps:\n        - {task: print-struct-2, component: print_struct, inputs: {struct: \"{{item}}\"}}\n        - {task: print-text-4, component: print_op, inputs: {message: \"{{item.A_a}}\"}}\n        - {task: print-text-5, component: print_op, inputs: {message: \"{{item.B_b}}\"}}\n",
        &["print_op", "generate_op"],
        &["print_struct"],
    );
    let ir = compile(&case).unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"));
    assert_eq!(structure(&ir), structure(&kfp_ir("parallel_and_nested/pipeline_with_loops.yaml")));
    // The item's type as KFP declares it: the items' own type, else the type of what reads it.
    let defs =
        |loop_name: &str| ir["components"][format!("comp-{loop_name}")]["inputDefinitions"]["parameters"].clone();
    assert_eq!(defs("for-loop-1")["pipelinechannel--loop_parameter-loop-item"]["parameterType"], "STRING");
    assert_eq!(defs("for-loop-4")["pipelinechannel--loop-item-param-1"]["parameterType"], "STRUCT");
    assert_eq!(defs("for-loop-2")["pipelinechannel--args-generator-op-output-loop-item"]["parameterType"], "STRUCT");
}

/// Ensures that nested loops, literal items read by field and `parallelism` have the structure
/// KFP's compiler gives `pipeline_with_parallelfor_parallelism` (`iteratorPolicy`); KFP's
/// `parallelism=0` (no limit) is a loop without `parallelism`.
#[test]
fn loop_parallelism_has_kfps_structure() {
    let mut body = String::from(
        "name: pipeline-with-parallelfor-parallelism\nparams:\n  loop_parameter: {type: list}\nsteps:\n  - parallel_for:\n      name: for-loop-1\n      items: \"{{params.loop_parameter}}\"\n      parallelism: 2\n      steps:\n        - {task: print-text, component: print_op, inputs: {message: \"{{item}}\"}}\n        - parallel_for:\n            name: for-loop-2\n            items: \"{{params.loop_parameter}}\"\n            as: nested_item\n            steps:\n              - {task: print-text-2, component: print_op, inputs: {message: \"{{nested_item}}\"}}\n  - parallel_for:\n      name: for-loop-4\n      items: [{A_a: \"1\", B_b: \"2\"}, {A_a: \"10\", B_b: \"20\"}]\n      steps:\n        - {task: print-text-3, component: print_op, inputs: {message: \"{{item.A_a}}\"}}\n        - {task: print-text-4, component: print_op, inputs: {message: \"{{item.B_b}}\"}}\n        - parallel_for:\n            name: for-loop-6\n            items: [{A_a: \"10\", B_b: \"20\"}, {A_a: \"100\", B_b: \"200\"}]\n            parallelism: 1\n            as: nested_item\n            steps:\n              - {task: print-text-5, component: print_op, inputs: {message: \"{{nested_item.A_a}}\"}}\n              - {task: print-text-6, component: print_op, inputs: {message: \"{{nested_item.B_b}}\"}}\n  - parallel_for:\n      name: for-loop-8\n      items: [{a: 1, b: 2}, {a: 2, b: 3}, {a: 3, b: 4}]\n      parallelism: 1\n      steps:\n        - {task: print-int, component: range_op, inputs: {n: \"{{item.a}}\"}}\n",
    );
    for (maker, n, print) in [
        ("list-dict-maker-0", 9, 2),
        ("list-dict-maker-1", 10, 3),
        ("list-dict-maker-2", 11, 4),
        ("list-dict-maker-3", 12, 5),
        ("list-dict-maker-1-2", 13, 6),
    ] {
        body.push_str(&format!("  - {{task: {maker}, component: generate_op}}\n  - parallel_for:\n      name: for-loop-{n}\n      items: \"{{{{tasks.{maker}.output}}}}\"\n      steps:\n        - {{task: print-int-{print}, component: range_op, inputs: {{n: \"{{{{item.a}}}}\"}}}}\n"));
    }
    let case = case_with(&body, &["print_op", "generate_op", "range_op"], &[]);
    let ir = compile(&case).unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"));
    assert_eq!(structure(&ir), structure(&kfp_ir("pipeline_with_parallelfor_parallelism.yaml")));
}

/// Ensures that an `if`/`elif`/`else` chain is KFP's `condition-branches` DAG, one DAG per
/// branch, each condition negating the ones before it (as KFP compiles `dsl.If`/`Elif`/`Else`);
/// and that an output read after a loop is the loop DAG's output, a list (`dsl.Collected`),
/// as is a pipeline output.
#[test]
fn branches_and_fan_in_are_kfps_dag_outputs() {
    let case = case_with(
        "name: branches\nparams:\n  n: {type: int, default: 3}\nsteps:\n  - if:\n      condition: \"{{params.n}} < 2\"\n      steps: [{task: low, component: print_op, inputs: {message: low}}]\n  - elif:\n      condition: \"{{params.n}} < 5\"\n      steps: [{task: mid, component: print_op, inputs: {message: mid}}]\n  - else:\n      steps: [{task: high, component: print_op, inputs: {message: high}}]\n  - parallel_for:\n      items: [1, 2, 3]\n      steps:\n        - {task: sq, component: range_op, inputs: {n: \"{{item}}\"}}\n  - {task: total, component: sum_op, inputs: {values: \"{{tasks.sq.output}}\"}}\noutputs:\n  squares: \"{{tasks.sq.output}}\"\n  total: \"{{tasks.total.output}}\"\n",
        &["print_op", "range_op", "sum_op"],
        &[],
    );
    let ir = compile(&case).unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"));
    let root = &ir["root"]["dag"]["tasks"];
    assert_eq!(root["condition-branches-1"]["componentRef"]["name"], "comp-condition-branches-1");
    let branches = &ir["components"]["comp-condition-branches-1"]["dag"]["tasks"];
    let n = "int(inputs.parameter_values['pipelinechannel--n'])";
    for (branch, condition) in [
        ("condition-1", format!("{n} < 2")),
        ("condition-2", format!("!({n} < 2) && {n} < 5")),
        ("condition-3", format!("!({n} < 2) && !({n} < 5)")),
    ] {
        assert_eq!(branches[branch]["triggerPolicy"]["condition"], condition.as_str(), "{branch}");
    }
    // The fan-in: the loop's DAG gives `sq`'s output as a list, `total` reads it from the loop.
    let fan_in = "pipelinechannel--sq-output";
    let for_loop = &ir["components"]["comp-for-loop-4"];
    assert_eq!(
        for_loop["dag"]["outputs"]["parameters"][fan_in],
        json!({"valueFromParameter": {"producerSubtask": "sq", "outputParameterKey": "output"}})
    );
    assert_eq!(for_loop["outputDefinitions"]["parameters"][fan_in]["parameterType"], "LIST");
    assert_eq!(
        root["total"]["inputs"]["parameters"]["values"],
        json!({"taskOutputParameter": {"producerTask": "for-loop-4", "outputParameterKey": fan_in}})
    );
    assert_eq!(root["total"]["dependentTasks"], json!(["for-loop-4"]));
    assert_eq!(
        root["for-loop-4"]["parameterIterator"],
        json!({"itemInput": "pipelinechannel--loop-item-param-1", "items": {"raw": "[1,2,3]"}})
    );
    // Pipeline outputs: the root DAG's, through the loop's DAG output for the fan-in.
    assert_eq!(
        ir["root"]["dag"]["outputs"]["parameters"]["squares"],
        json!({"valueFromParameter": {"producerSubtask": "for-loop-4", "outputParameterKey": fan_in}})
    );
    assert_eq!(
        ir["root"]["outputDefinitions"]["parameters"],
        json!({"squares": {"parameterType": "LIST"}, "total": {"parameterType": "NUMBER_DOUBLE"}})
    );
}

/// Ensures that a task that runs after a failure upstream (`ignore_upstream_failure`) is
/// KFP's `ALL_UPSTREAM_TASKS_COMPLETED` (`pipeline_with_task_using_ignore_upstream_failure`);
/// `flaky` stands for KFP's `fail_op` (it fails before its 99th attempt, with a string output).
#[test]
fn ignore_upstream_failure_is_kfps_trigger_strategy() {
    let case = case_with(
        "name: my-pipeline\nparams:\n  sample_input: {type: int, default: 99}\nsteps:\n  - {task: fail-op, component: flaky, inputs: {succeed_on: \"{{params.sample_input}}\"}}\n  - {task: print-op, component: print_default, ignore_upstream_failure: true, inputs: {message: \"{{tasks.fail-op.output}}\"}}\n",
        &[],
        &["flaky", "print_default"],
    );
    let ir = compile(&case).unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"));
    assert_eq!(structure(&ir), structure(&kfp_ir("pipeline_with_task_using_ignore_upstream_failure.yaml")));
    assert_eq!(
        ir["components"]["comp-print-op"]["inputDefinitions"]["parameters"]["message"],
        json!({"parameterType": "STRING", "defaultValue": "default", "isOptional": true})
    );
}

/// Ensures that a pipeline used as a component is KFP's DAG component of its own DAG, its
/// parameters the component's inputs and its outputs the DAG's outputs, a fan-in inside it a
/// list out of its loop (`critical/collected_parameters`: a sub-pipeline that returns
/// `dsl.Collected` of its loop); `range_op` stands for `split_ids`, `print_text` for
/// `prepend_id` and `consume_single_id`, `sum_op` for `consume_ids`.
#[test]
fn a_sub_pipeline_is_kfps_dag_component() {
    let case = Case::raw(&format!(
        "version: 1\nname: collected-param-pipeline\ncomponents:\n  collecting_parameters: {{pipeline: collecting_parameters.yaml}}\n  sum_op: {{path: {:?}}}\nsteps:\n  - {{task: collecting-parameters, component: collecting_parameters, inputs: {{model_ids: 3}}}}\n  - {{task: consume-ids, component: sum_op, inputs: {{values: \"{{{{tasks.collecting-parameters.output}}}}\"}}}}\n",
        common::example("sum_op")
    ));
    let sub = format!(
        "version: 1\nname: collecting-parameters\nparams:\n  model_ids: {{type: int, default: 0}}\ncomponents:\n  range_op: {{path: {:?}}}\n  print_text: {{path: {:?}}}\n  sum_op: {{path: {:?}}}\nsteps:\n  - {{task: split-ids, component: range_op, inputs: {{n: \"{{{{params.model_ids}}}}\"}}}}\n  - parallel_for:\n      items: \"{{{{tasks.split-ids.output}}}}\"\n      steps:\n        - {{task: prepend-id, component: print_text, inputs: {{text: \"{{{{item}}}}\"}}}}\n        - {{task: consume-single-id, component: print_text, inputs: {{text: \"{{{{tasks.prepend-id.output}}}}\"}}}}\n  - {{task: consume-ids, component: sum_op, inputs: {{values: \"{{{{tasks.prepend-id.output}}}}\"}}}}\noutputs:\n  output: \"{{{{tasks.prepend-id.output}}}}\"\n",
        common::example("range_op"),
        common::example("print_text"),
        common::example("sum_op")
    );
    std::fs::write(case.dir.path().join("collecting_parameters.yaml"), sub).unwrap();
    let ir = compile(&case).unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"));
    assert_eq!(structure(&ir), structure(&kfp_ir("critical/collected_parameters.yaml")));
    let sub = &ir["components"]["comp-collecting-parameters"];
    assert_eq!(
        sub["inputDefinitions"]["parameters"]["model_ids"],
        json!({"parameterType": "NUMBER_INTEGER", "defaultValue": 0, "isOptional": true})
    );
    assert_eq!(
        sub["dag"]["outputs"]["parameters"]["output"],
        json!({"valueFromParameter": {"producerSubtask": "for-loop-1", "outputParameterKey": "pipelinechannel--prepend-id-output"}})
    );
    assert_eq!(sub["outputDefinitions"]["parameters"]["output"], json!({"parameterType": "LIST"}));
    // Two tasks named `consume-ids` (outside and inside): two components, as KFP names them.
    assert_eq!(ir["root"]["dag"]["tasks"]["consume-ids"]["componentRef"]["name"], "comp-consume-ids-2");
    assert_eq!(sub["dag"]["tasks"]["consume-ids"]["componentRef"]["name"], "comp-consume-ids");
    assert!(ir["deploymentSpec"]["executors"]["exec-consume-ids-2"].is_object());
}

/// Ensures that `one_of` is KFP's `dsl.OneOf`: the chain's DAG gives a `valueFromOneof`
/// output selecting each branch's output, read through sub-pipelines nested two deep
/// (`critical/parameter_oneof`); `print_text` stands for `core_comp` and `core_output_comp`,
/// `print_op` for `crust_comp`.
#[test]
fn one_of_is_kfps_value_from_oneof() {
    let case = Case::raw(&format!(
        "version: 1\nname: parameter-oneof-pipeline\ncomponents:\n  mantle: {{pipeline: mantle.yaml}}\n  print_op: {{path: {:?}}}\nsteps:\n  - {{task: mantle, component: mantle}}\n  - {{task: crust-comp, component: print_op, inputs: {{message: \"{{{{tasks.mantle.output}}}}\"}}}}\n",
        common::example("print_op")
    ));
    let dir = case.dir.path();
    std::fs::write(dir.join("mantle.yaml"), "version: 1\nname: mantle\ncomponents:\n  core: {pipeline: core.yaml}\nsteps:\n  - {task: core, component: core}\noutputs:\n  output: \"{{tasks.core.output}}\"\n").unwrap();
    std::fs::write(
        dir.join("core.yaml"),
        format!(
            "version: 1\nname: core\ncomponents:\n  flip_coin: {{path: {:?}}}\n  print_text: {{path: {:?}}}\nsteps:\n  - {{task: flip-coin, component: flip_coin}}\n  - if:\n      name: condition-2\n      condition: \"{{{{tasks.flip-coin.output}}}} == 'heads'\"\n      steps: [{{task: core-comp, component: print_text, inputs: {{text: Got heads!}}}}]\n  - else:\n      name: condition-3\n      steps: [{{task: core-output-comp, component: print_text, inputs: {{text: Got tails!}}}}]\noutputs:\n  output: {{one_of: [\"{{{{tasks.core-comp.output}}}}\", \"{{{{tasks.core-output-comp.output}}}}\"]}}\n",
            common::example("flip_coin"),
            common::example("print_text")
        ),
    )
    .unwrap();
    let ir = compile(&case).unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"));
    assert_eq!(structure(&ir), structure(&kfp_ir("critical/parameter_oneof.yaml")));
    let chain = &ir["components"]["comp-condition-branches-1"];
    let key = "pipelinechannel--condition-branches-1-oneof-1";
    assert_eq!(
        chain["dag"]["outputs"]["parameters"][key],
        json!({"valueFromOneof": {"parameterSelectors": [
            {"producerSubtask": "condition-2", "outputParameterKey": "pipelinechannel--core-comp-output"},
            {"producerSubtask": "condition-3", "outputParameterKey": "pipelinechannel--core-output-comp-output"},
        ]}})
    );
    assert_eq!(chain["outputDefinitions"]["parameters"][key], json!({"parameterType": "STRING"}));
    assert_eq!(
        ir["components"]["comp-core"]["dag"]["outputs"]["parameters"]["output"],
        json!({"valueFromParameter": {"producerSubtask": "condition-branches-1", "outputParameterKey": key}})
    );
    // Each branch gives its task's output to the chain.
    assert_eq!(
        ir["components"]["comp-condition-3"]["dag"]["outputs"]["parameters"]["pipelinechannel--core-output-comp-output"],
        json!({"valueFromParameter": {"producerSubtask": "core-output-comp", "outputParameterKey": "output"}})
    );
}

/// Ensures that artifacts pass as KFP passes them: a task's output artifact
/// (`taskOutputArtifact`), out of sub-pipelines nested two deep as DAG output artifacts
/// (`artifactSelectors`), with KFP's artifact types (`critical/artifact_cache`; `model_dir`
/// stands for `core_comp` and `crust_comp`); and that an artifact parameter of the pipeline is
/// a URI parameter with KFP's importer task (`dsl.importer`).
#[test]
fn artifacts_are_kfps_artifacts_and_importers() {
    let case = Case::raw(&format!(
        "version: 1\nname: artifact-cache-pipeline\ncomponents:\n  mantle: {{pipeline: mantle.yaml}}\n  model_dir: {{path: {:?}}}\nsteps:\n  - {{task: mantle, component: mantle}}\n  - {{task: crust-comp, component: model_dir, inputs: {{model: \"{{{{tasks.mantle.output}}}}\"}}}}\n",
        common::component("model_dir")
    ));
    let dir = case.dir.path();
    std::fs::write(dir.join("mantle.yaml"), "version: 1\nname: mantle\ncomponents:\n  core: {pipeline: core.yaml}\nsteps:\n  - {task: core, component: core}\noutputs:\n  output: \"{{tasks.core.output}}\"\n").unwrap();
    std::fs::write(
        dir.join("core.yaml"),
        format!("version: 1\nname: core\ncomponents:\n  model_dir: {{path: {:?}}}\nsteps:\n  - {{task: core-comp, component: model_dir}}\noutputs:\n  output: \"{{{{tasks.core-comp.output}}}}\"\n", common::component("model_dir")),
    )
    .unwrap();
    let ir = compile(&case).unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"));
    assert_eq!(structure(&ir), structure(&kfp_ir("critical/artifact_cache.yaml")));
    let model = json!({"schemaTitle": "system.Model", "schemaVersion": "0.0.1"});
    assert_eq!(
        ir["components"]["comp-core"]["dag"]["outputs"]["artifacts"]["output"],
        json!({"artifactSelectors": [{"producerSubtask": "core-comp", "outputArtifactKey": "output"}]})
    );
    assert_eq!(ir["components"]["comp-core"]["outputDefinitions"]["artifacts"]["output"]["artifactType"], model);
    assert_eq!(
        ir["root"]["dag"]["tasks"]["crust-comp"]["inputs"]["artifacts"]["model"],
        json!({"taskOutputArtifact": {"producerTask": "mantle", "outputArtifactKey": "output"}})
    );

    let imported = case_with(
        "name: imported\nparams:\n  data: {type: artifact, kind: Dataset, default: numbers.txt}\nsteps:\n  - {task: add-up, component: total, inputs: {data: \"{{params.data}}\"}}\n",
        &[],
        &["total"],
    );
    std::fs::write(imported.dir.path().join("numbers.txt"), "1\n2\n").unwrap();
    let ir = compile(&imported).unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"));
    assert_eq!(
        ir["root"]["inputDefinitions"]["parameters"]["data"],
        json!({"parameterType": "STRING", "defaultValue": "numbers.txt", "isOptional": true})
    );
    let dataset = json!({"schemaTitle": "system.Dataset", "schemaVersion": "0.0.1"});
    assert_eq!(
        ir["deploymentSpec"]["executors"]["exec-importer-data"],
        json!({"importer": {"artifactUri": {"runtimeParameter": "uri"}, "typeSchema": dataset}})
    );
    let tasks = &ir["root"]["dag"]["tasks"];
    assert_eq!(tasks["importer-data"]["inputs"]["parameters"]["uri"], json!({"componentInputParameter": "data"}));
    assert_eq!(
        tasks["add-up"]["inputs"]["artifacts"]["data"],
        json!({"taskOutputArtifact": {"producerTask": "importer-data", "outputArtifactKey": "artifact"}})
    );
    assert_eq!(tasks["add-up"]["dependentTasks"], json!(["importer-data"]));
}

/// Ensures that artifacts collected over a loop are KFP's list of artifacts: the loop's DAG
/// output artifact with `isArtifactList`, read by a `list` input declared the same way
/// (`pythonic_artifacts_with_list_of_artifacts`; `numbers` stands for `make_dataset`,
/// `gather` for `join_datasets`); a loop over them is KFP's `artifactIterator`, each item an
/// input artifact of the loop's DAG.
#[test]
fn collected_artifacts_are_kfps_artifact_lists() {
    let case = case_with(
        "name: make-and-join-datasets\nparams:\n  texts: {type: list, default: [1, 2, 3]}\nsteps:\n  - parallel_for:\n      items: \"{{params.texts}}\"\n      steps:\n        - {task: make-dataset, component: numbers, inputs: {count: \"{{item}}\"}}\n  - {task: join-datasets, component: gather, inputs: {data: \"{{tasks.make-dataset.outputs.data}}\"}}\noutputs:\n  all: \"{{tasks.make-dataset.outputs.data}}\"\n",
        &[],
        &["numbers", "gather"],
    );
    let ir = compile(&case).unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"));
    assert_eq!(structure(&ir), structure(&kfp_ir("pythonic_artifacts_with_list_of_artifacts.yaml")));
    let dataset = json!({"schemaTitle": "system.Dataset", "schemaVersion": "0.0.1"});
    let key = "pipelinechannel--make-dataset-data";
    assert_eq!(
        ir["components"]["comp-for-loop-1"]["outputDefinitions"]["artifacts"][key],
        json!({"artifactType": dataset, "isArtifactList": true})
    );
    assert_eq!(
        ir["components"]["comp-join-datasets"]["inputDefinitions"]["artifacts"]["data"],
        json!({"artifactType": dataset, "isArtifactList": true})
    );
    assert_eq!(
        ir["root"]["dag"]["tasks"]["join-datasets"]["inputs"]["artifacts"]["data"],
        json!({"taskOutputArtifact": {"producerTask": "for-loop-1", "outputArtifactKey": key}})
    );
    assert_eq!(
        ir["root"]["outputDefinitions"]["artifacts"]["all"],
        json!({"artifactType": dataset, "isArtifactList": true})
    );

    let looped = case_with(
        "name: again\nsteps:\n  - parallel_for:\n      items: [1, 2]\n      steps:\n        - {task: gen, component: numbers, inputs: {count: \"{{item}}\"}}\n  - parallel_for:\n      items: \"{{tasks.gen.outputs.data}}\"\n      steps:\n        - {task: add-up, component: total, inputs: {data: \"{{item}}\"}}\n",
        &[],
        &["numbers", "total"],
    );
    let ir = compile(&looped).unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"));
    let again = &ir["root"]["dag"]["tasks"]["for-loop-2"];
    let (list, item) = ("pipelinechannel--gen-data", "pipelinechannel--gen-data-loop-item");
    assert_eq!(again["artifactIterator"], json!({"itemInput": item, "items": {"inputArtifact": list}}));
    assert_eq!(
        again["inputs"]["artifacts"][list],
        json!({"taskOutputArtifact": {"producerTask": "for-loop-1", "outputArtifactKey": list}})
    );
    let body = &ir["components"]["comp-for-loop-2"];
    assert_eq!(body["inputDefinitions"]["artifacts"][list], json!({"artifactType": dataset, "isArtifactList": true}));
    assert_eq!(body["inputDefinitions"]["artifacts"][item], json!({"artifactType": dataset}));
    assert_eq!(body["dag"]["tasks"]["add-up"]["inputs"]["artifacts"]["data"], json!({"componentInputArtifact": item}));
}

/// Ensures that a WASI command component (KFP's container component) is a container task whose
/// task-run is given the command's declaration (its interface and arguments), and that its
/// inputs and outputs, artifacts and stdout included, are declared from it.
#[test]
fn a_command_component_runs_with_its_declaration() {
    let case = Case::raw(&format!(
        "version: 1\nname: command\ncomponents:\n  numbers: {{path: {:?}}}\n  tail_cmd:\n    path: {:?}\n    command:\n      args: [\"{{{{inputs.keep}}}}\", \"{{{{inputs.data}}}}\", \"{{{{outputs.last}}}}\"]\n      inputs:\n        keep: {{type: int}}\n        data: {{type: artifact, kind: Dataset}}\n      outputs:\n        last: {{type: artifact, kind: Dataset}}\n        said: {{type: string, from: stdout}}\nsteps:\n  - {{task: gen, component: numbers, inputs: {{count: 5}}}}\n  - {{task: tail, component: tail_cmd, inputs: {{keep: 2, data: \"{{{{tasks.gen.outputs.data}}}}\"}}}}\n",
        common::example("numbers_op"),
        common::example("tail_cmd")
    ));
    let ir = compile(&case).unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"));
    let args = ir["deploymentSpec"]["executors"]["exec-tail"]["container"]["args"].as_array().unwrap().clone();
    let at = args.iter().position(|a| a == "--command").expect("task-run is given the command");
    let spec: Value = serde_json::from_str(args[at + 1].as_str().unwrap()).unwrap();
    assert_eq!(spec["args"], json!(["{{inputs.keep}}", "{{inputs.data}}", "{{outputs.last}}"]));
    let component = &ir["components"]["comp-tail"];
    assert_eq!(component["inputDefinitions"]["parameters"]["keep"]["parameterType"], "NUMBER_INTEGER");
    assert_eq!(component["inputDefinitions"]["artifacts"]["data"]["artifactType"]["schemaTitle"], "system.Dataset");
    assert_eq!(component["outputDefinitions"]["artifacts"]["last"]["artifactType"]["schemaTitle"], "system.Dataset");
    assert_eq!(component["outputDefinitions"]["parameters"]["said"]["parameterType"], "STRING");
}

/// Ensures that what `wasmpipe validate` finds stops the export (nothing is written), and
/// that a parameter with no default, which the run is given, does not.
#[test]
fn an_invalid_pipeline_is_not_exported() {
    let bad = common::examples_case(
        "name: bad\nsteps:\n  - {task: a, component: print_op, inputs: {message: \"{{tasks.nope.output}}\"}}\n",
        &["print_op"],
    );
    let (code, err) = compile(&bad).unwrap_err();
    assert_eq!(code, 2);
    assert!(err.contains("`{{tasks.nope.outputs.output}}` names no task"), "{err}");
    assert!(!bad.dir.path().join("ir.json").exists());
    let needs = common::examples_case(
        "name: needs\nparams:\n  who: {type: string}\n  n: {type: int}\nsteps:\n  - {task: a, component: print_op, inputs: {message: \"{{params.who}} {{params.n}}\"}}\n",
        &["print_op"],
    );
    let ir = compile(&needs).unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"));
    assert_eq!(ir["root"]["inputDefinitions"]["parameters"]["n"], json!({"parameterType": "NUMBER_INTEGER"}));
}

/// Ensures that the DAG of an `if`/`elif`/`else` chain never takes a name the pipeline gives a
/// task or group (one task of a DAG would hide another in KFP's IR).
#[test]
fn a_chain_never_takes_a_name_of_the_pipeline() {
    let case = common::examples_case(
        "name: names\nparams:\n  n: {type: int, default: 3}\nsteps:\n  - {task: condition-branches-1, component: print_op, inputs: {message: mine}}\n  - if:\n      condition: \"{{params.n}} < 2\"\n      steps: [{task: low, component: print_op, inputs: {message: low}}]\n  - else:\n      steps: [{task: high, component: print_op, inputs: {message: high}}]\n",
        &["print_op"],
    );
    let ir = compile(&case).unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"));
    let root = &ir["root"]["dag"]["tasks"];
    assert_eq!(root["condition-branches-1"]["componentRef"]["name"], "comp-condition-branches-1");
    assert!(ir["components"]["comp-condition-branches-1"]["executorLabel"].is_string(), "the task keeps its name");
    assert_eq!(root["condition-branches-2"]["componentRef"]["name"], "comp-condition-branches-2");
    assert!(ir["components"]["comp-condition-branches-2"]["dag"]["tasks"]["condition-1"].is_object());
}

/// Ensures that nested loops over one list give their items channels of their own (a task
/// reading both gets both), that a comparison of an int with a float is between doubles in CEL
/// (CEL compares an int with a double only after a cast), and that a sub-pipeline's artifact
/// default, which KFP cannot import inside a sub-pipeline, is refused when the task leaves it.
#[test]
fn nested_items_mixed_numbers_and_sub_artifact_defaults() {
    let case = common::examples_case(
        "name: nested\nparams:\n  xs: {type: list, default: [a, b]}\n  n: {type: int, default: 3}\nsteps:\n  - parallel_for:\n      name: outer\n      items: \"{{params.xs}}\"\n      as: a\n      steps:\n        - parallel_for:\n            name: inner\n            items: \"{{params.xs}}\"\n            as: b\n            steps:\n              - {task: both, component: print_op, inputs: {message: \"{{a}}-{{b}}\"}}\n  - if:\n      condition: \"{{params.n}} > 2.5\"\n      steps: [{task: big, component: print_op, inputs: {message: big}}]\n",
        &["print_op"],
    );
    let ir = compile(&case).unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"));
    let inner = &ir["components"]["comp-outer"]["dag"]["tasks"]["inner"];
    assert_eq!(inner["parameterIterator"]["itemInput"], "pipelinechannel--xs-loop-item-inner");
    let text = ir["components"]["comp-inner"]["dag"]["tasks"]["both"]["inputs"]["parameters"]["message"]["runtimeValue"]["constant"].clone();
    assert_eq!(
        text,
        "{{$.inputs.parameters['pipelinechannel--xs-loop-item']}}-{{$.inputs.parameters['pipelinechannel--xs-loop-item-inner']}}"
    );
    assert_eq!(
        ir["root"]["dag"]["tasks"]["condition-1"]["triggerPolicy"]["condition"],
        "double(inputs.parameter_values['pipelinechannel--n']) > 2.5"
    );

    let caller = Case::raw(
        "version: 1\nname: caller\ncomponents:\n  sub: {pipeline: sub.yaml}\nsteps:\n  - {task: s, component: sub}\n",
    );
    let dir = caller.dir.path();
    std::fs::write(dir.join("data.txt"), "1\n2\n").unwrap();
    std::fs::write(
        dir.join("sub.yaml"),
        format!("version: 1\nname: sub\nparams:\n  d: {{type: artifact, kind: Dataset, default: data.txt}}\ncomponents:\n  total: {{path: {:?}}}\nsteps:\n  - {{task: t, component: total, inputs: {{data: \"{{{{params.d}}}}\"}}}}\n", common::component("total")),
    )
    .unwrap();
    let (code, err) = compile(&caller).unwrap_err();
    assert_eq!(code, 2);
    assert!(
        err.contains("gives artifact parameter `d` a default, which KFP's IR cannot import inside a sub-pipeline"),
        "{err}"
    );
}

/// Ensures that the tasks of an exit handler inside a loop, and its exit task, are given the
/// loop's item (so that the failures they leave under the pipeline root name their iteration),
/// and that the item reaches the handler's DAG.
#[test]
fn an_exit_handler_in_a_loop_knows_its_iteration() {
    let case = case_with(
        "name: per-item\nsteps:\n  - parallel_for:\n      name: batch\n      items: [1, 2]\n      steps:\n        - exit_handler:\n            name: cleanup\n            exit: {task: report, component: exit_report, inputs: {message: done}}\n            steps:\n              - {task: check, component: range_op, inputs: {n: \"{{item}}\"}}\n",
        &["exit_report", "range_op"],
        &[],
    );
    let ir = compile(&case).unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"));
    let item = "pipelinechannel--loop-item-param-1";
    let from = json!({"componentInputParameter": item});
    assert_eq!(ir["components"]["comp-batch"]["dag"]["tasks"]["report"]["inputs"]["parameters"][item], from);
    assert_eq!(ir["components"]["comp-batch"]["dag"]["tasks"]["cleanup"]["inputs"]["parameters"][item], from);
    assert_eq!(ir["components"]["comp-cleanup"]["dag"]["tasks"]["check"]["inputs"]["parameters"][item], from);
    assert_eq!(
        ir["components"]["comp-report"]["inputDefinitions"]["parameters"][item],
        json!({"parameterType": "NUMBER_INTEGER"})
    );
}

/// Ensures that retries become KFP's `retryPolicy`, and caching `cachingOptions`.
#[test]
fn retries_and_caching_are_kfps_options() {
    let case = common::examples_case(
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
    let case = common::examples_case(
        "name: later\ndeadline: 1h\nsteps:\n  - {task: a, component: print_op, network: {allow: [\"example.org:443\"]}, inputs: {message: m}}\n  - parallel_for:\n      items: [one, two]\n      fail_fast: true\n      steps:\n        - {task: b, component: print_op, inputs: {message: \"{{item}}\"}}\n  - if:\n      condition: \"{{params.p}} > 1\"\n      steps: [{task: c, component: print_op, inputs: {message: m}}]\n  - else:\n      fail_fast: true\n      steps: [{task: d, component: print_op, inputs: {message: m}}]\nparams:\n  p: {type: int, default: 2}\n",
        &["print_op"],
    );
    let (code, err) = compile(&case).unwrap_err();
    assert_eq!(code, 2, "{err}");
    for needle in [
        "`deadline`: cannot compile to KFP's IR: a run deadline has no form in KFP's IR",
        "`steps[0].network`: cannot compile to KFP's IR: `network` is not exported",
        "`steps[1].parallel_for.fail_fast`: cannot compile to KFP's IR: KFP has no fail_fast for a group",
        "`steps[3].else.fail_fast`: cannot compile to KFP's IR: KFP has no fail_fast for a group",
    ] {
        assert!(err.contains(needle), "{needle} in\n{err}");
    }
    assert!(!case.dir.path().join("ir.json").exists());
}

/// Ensures that `--copy-components` lays out the components as the IR names them, and that two
/// different components with one file name are refused (the image holds them side by side).
#[test]
fn components_are_copied_by_the_names_the_ir_gives_them() {
    let case = common::examples_case(
        "name: copy\nsteps:\n  - {task: a, component: print_op, inputs: {message: m}}\n",
        &["print_op"],
    );
    let out = case.dir.path().join("ir.json");
    let image = case.dir.path().join("image");
    let (code, _, err) = common::wasmpipe(
        &["compile", case.file.to_str().unwrap(), "--target", "kfp", "-o", out.to_str().unwrap()],
        &["--copy-components", image.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read(image.join("print_op.wasm")).unwrap(),
        std::fs::read(common::example("print_op")).unwrap()
    );

    let dir = case.dir.path();
    for (sub, name) in [("x", "print_op"), ("y", "fail_op")] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        std::fs::copy(common::example(name), dir.join(sub).join("op.wasm")).unwrap();
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
