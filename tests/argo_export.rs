//! `wasmpipe compile --target argo`: the exported `Workflow` has the structure wasmpipe's
//! semantics need on Argo (DAG templates, `depends` on success, exit hooks with the body's
//! status, `when` over typed values, retries on task-run's exit code 1 only, memoization keyed
//! by the component and inputs, deadlines), and constructs not mapped yet are refused with
//! their place, never dropped.

mod common;

use std::collections::BTreeSet;

use common::Case;
use serde_json::{Value, json};

/// `wasmpipe compile --target argo` of `case`: the workflow (as JSON), or the exit code and
/// stderr.
fn compile(case: &Case) -> Result<Value, (i32, String)> {
    let out = case.dir.path().join("wf.json");
    let (code, _, err) = common::wasmpipe(
        &["compile", case.file.to_str().unwrap(), "--target", "argo", "-o", out.to_str().unwrap()],
        &[],
    );
    if code != 0 {
        return Err((code, err));
    }
    Ok(serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap())
}

fn compiled(case: &Case) -> Value {
    compile(case).unwrap_or_else(|(code, err)| panic!("exit {code}: {err}"))
}

/// Template `name` of workflow `wf`.
fn template<'a>(wf: &'a Value, name: &str) -> &'a Value {
    wf["spec"]["templates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no template `{name}` in {wf:#}"))
}

/// Task `task` of DAG template `dag`.
fn dag_task<'a>(wf: &'a Value, dag: &str, task: &str) -> &'a Value {
    template(wf, dag)["dag"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == task)
        .unwrap_or_else(|| panic!("no task `{task}` in template `{dag}`"))
}

/// The value of the argument parameter `name` of a DAG task or hook.
fn argument<'a>(call: &'a Value, name: &str) -> &'a Value {
    call["arguments"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .map(|p| &p["value"])
        .unwrap_or_else(|| panic!("no argument `{name}` in {call:#}"))
}

/// The container arguments of template `name`.
fn args(wf: &Value, name: &str) -> Vec<String> {
    template(wf, name)["container"]["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().into()).collect()
}

/// The value after flag `flag` in `args` (each flag at most once).
fn flag<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    args.iter().position(|a| a == flag).map(|i| args[i + 1].as_str())
}

/// Checks what Argo's validation checks of names: template names unique, every template a
/// DAG task or hook calls exists, every `depends` names a task of the same DAG.
fn assert_references_resolve(wf: &Value) {
    let templates = wf["spec"]["templates"].as_array().unwrap();
    let names: BTreeSet<&str> = templates.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), templates.len(), "template names are not unique");
    assert!(names.contains(wf["spec"]["entrypoint"].as_str().unwrap()));
    for t in templates.iter().filter(|t| t.get("dag").is_some()) {
        let tasks = t["dag"]["tasks"].as_array().unwrap();
        let here: BTreeSet<&str> = tasks.iter().map(|t| t["name"].as_str().unwrap()).collect();
        for task in tasks {
            assert!(names.contains(task["template"].as_str().unwrap()), "{task:#}");
            if let Some(hook) = task["hooks"]["exit"]["template"].as_str() {
                assert!(names.contains(hook), "{task:#}");
            }
            // Every `NAME.Result` of `depends` names a task of the same DAG.
            let depends = task["depends"].as_str().unwrap_or_default();
            for word in depends.split([' ', '(', ')']).filter(|w| !w.is_empty() && *w != "&&" && *w != "||") {
                let (dep, result) = word.rsplit_once('.').unwrap_or_else(|| panic!("`{word}` in `{depends}`"));
                assert!(["Succeeded", "Failed", "Errored", "Skipped", "Omitted"].contains(&result), "`{depends}`");
                assert!(here.contains(dep), "{} depends on {dep}, not in its DAG", task["name"]);
            }
        }
    }
}

/// Ensures that the exit-handler example (`examples/exit-handler/trap.yaml`) becomes a DAG
/// whose body is a DAG template and whose exit task is the body task's exit hook, given the
/// body's phase as its final status; each task a `wasmpipe task-run` container with its
/// inputs as parameters, its outputs as files, its wasmpipe id and its component's digest.
#[test]
fn the_exit_handler_example_is_a_body_dag_with_an_exit_hook() {
    let case = common::example_case("exit-handler/trap.yaml");
    let wf = compiled(&case);
    assert_references_resolve(&wf);
    assert_eq!((&wf["apiVersion"], &wf["kind"]), (&json!("argoproj.io/v1alpha1"), &json!("Workflow")));
    assert_eq!(wf["metadata"]["generateName"], "pipeline-with-exit-handler-trap-");
    assert_eq!(wf["spec"]["entrypoint"], "main");
    assert_eq!(wf["spec"]["arguments"], json!({"parameters": [{"name": "message", "value": "Hello World!"}]}));
    assert_eq!(template(&wf, "main")["dag"]["failFast"], false);
    let cleanup = dag_task(&wf, "main", "cleanup");
    assert_eq!(cleanup["template"], "dag-cleanup");
    let hook = &cleanup["hooks"]["exit"];
    assert_eq!(hook["template"], "task-report");
    assert_eq!(argument(hook, "status"), "{{tasks.cleanup.status}}");
    assert_eq!(argument(hook, "message"), "Exit handler has worked!");
    // The body's tasks are independent: neither waits for the other.
    let body: Vec<&str> = template(&wf, "dag-cleanup")["dag"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert!(t.get("depends").is_none(), "{t:#}");
            t["name"].as_str().unwrap()
        })
        .collect();
    assert_eq!(body, ["print-msg", "crash"]);
    assert_eq!(template(&wf, "dag-cleanup")["dag"]["failFast"], false);
    assert_eq!(argument(dag_task(&wf, "dag-cleanup", "print-msg"), "message"), "{{workflow.parameters.message}}");

    let print = args(&wf, "task-print-msg");
    assert_eq!(flag(&print, "--input"), Some("message={{inputs.parameters.message}}"));
    assert_eq!(flag(&print, "--task-id"), Some("cleanup/print-msg"));
    assert_eq!(flag(&print, "--run-id"), Some("{{workflow.name}}"));
    assert_eq!(flag(&print, "--outputs-dir"), Some("/tmp/outputs"));
    assert_eq!(flag(&print, "--component"), Some("/components/print_op.wasm"));
    let digest = format!("blake3:{}", blake3::hash(&std::fs::read(common::example("print_op")).unwrap()).to_hex());
    assert_eq!(flag(&print, "--digest"), Some(digest.as_str()));
    assert_eq!(template(&wf, "task-print-msg")["container"]["command"], json!(["wasmpipe", "task-run"]));

    let report = template(&wf, "task-report");
    let report_args = args(&wf, "task-report");
    assert_eq!(flag(&report_args, "--final-status"), Some("{{inputs.parameters.status}}"));
    assert_eq!(flag(&report_args, "--group"), Some("cleanup"));
    assert_eq!(flag(&report_args, "--task-id"), Some("cleanup/report"));
    assert_eq!(
        report["outputs"]["parameters"],
        json!([{"name": "output", "valueFrom": {"path": "/tmp/outputs/output"}}])
    );
    assert!(report.get("memoize").is_none() && report.get("retryStrategy").is_none());
}

/// Ensures that what a task waits for (`after`, the outputs it reads) is `depends` on success,
/// that a formatted string keeps Argo's tags in its text, and that literals and parameters are
/// passed as text (a float as JSON writes it).
#[test]
fn waits_are_depends_on_success_and_values_are_text() {
    let case = common::examples_case(
        "name: Caching_Pipeline\nparams:\n  a: {type: float, default: 2.0}\nsteps:\n  - {task: calc, component: calc_op, inputs: {a: \"{{params.a}}\", b: 10.0}}\n  - {task: first, component: print_op, inputs: {message: m}}\n  - {task: print, component: print_op, after: [first], inputs: {message: \"product={{tasks.calc.outputs.product}}!\"}}\n",
        &["calc_op", "print_op"],
    );
    let wf = compiled(&case);
    assert_references_resolve(&wf);
    assert_eq!(wf["metadata"]["generateName"], "caching-pipeline-");
    assert_eq!(wf["spec"]["arguments"]["parameters"][0], json!({"name": "a", "value": "2.0"}));
    let calc = dag_task(&wf, "main", "calc");
    assert!(calc.get("depends").is_none());
    assert_eq!(argument(calc, "a"), "{{workflow.parameters.a}}");
    assert_eq!(argument(calc, "b"), "10.0");
    let print = dag_task(&wf, "main", "print");
    assert_eq!(print["depends"], "calc.Succeeded && first.Succeeded");
    assert_eq!(argument(print, "message"), "product={{tasks.calc.outputs.parameters.product}}!");
    assert_eq!(
        template(&wf, "task-calc")["outputs"]["parameters"],
        json!([
            {"name": "sum", "valueFrom": {"path": "/tmp/outputs/sum"}},
            {"name": "product", "valueFrom": {"path": "/tmp/outputs/product"}},
        ])
    );
}

/// Ensures that a lone `if` is a DAG template whose task runs `when` an `expr` expression over
/// the typed values it reads holds (strings quoted, ints through `asInt`), after what the
/// condition reads; that an output read inside from outside reaches the group as an input
/// parameter of its template; that conditions nest (KFP's flip-coin sample, ported); and that
/// a group's `fail_fast` is its DAG template's `failFast`.
#[test]
fn a_condition_is_when_over_typed_values() {
    let case = common::examples_case(
        "name: flip\nparams:\n  text: {type: string, default: \"it's done\"}\nsteps:\n  - {task: flip-coin, component: flip_coin}\n  - if:\n      condition: \"{{tasks.flip-coin.output}} == 'heads' and {{params.text}} != \\\"it's\\\"\"\n      steps:\n        - {task: random-num, component: add, inputs: {a: 1, b: 9}}\n        - if:\n            name: big\n            fail_fast: true\n            condition: \"{{tasks.random-num.output}} > 5\"\n            steps:\n              - {task: print-msg, component: print_op, inputs: {message: \"heads and {{tasks.random-num.output}} after {{tasks.flip-coin.output}}, {{params.text}}\"}}\n",
        &["flip_coin", "print_op"],
    );
    let wf = compiled(&case);
    assert_references_resolve(&wf);
    let outer = dag_task(&wf, "main", "condition-1");
    assert_eq!(outer["template"], "dag-condition-1");
    assert_eq!(outer["depends"], "flip-coin.Succeeded");
    assert_eq!(
        outer["when"],
        "{{=(tasks['flip-coin'].outputs.parameters['output'] == 'heads') && (workflow.parameters['text'] != 'it\\'s')}}"
    );
    assert_eq!(argument(outer, "flip-coin--output"), "{{tasks.flip-coin.outputs.parameters.output}}");
    assert_eq!(template(&wf, "dag-condition-1")["inputs"], json!({"parameters": [{"name": "flip-coin--output"}]}));
    let inner = dag_task(&wf, "dag-condition-1", "big");
    assert_eq!(inner["when"], "{{=asInt(tasks['random-num'].outputs.parameters['output']) > 5}}");
    assert_eq!(inner["depends"], "random-num.Succeeded");
    assert_eq!(argument(inner, "flip-coin--output"), "{{inputs.parameters.flip-coin--output}}");
    assert_eq!(
        argument(dag_task(&wf, "dag-big", "print-msg"), "message"),
        "heads and {{inputs.parameters.random-num--output}} after {{inputs.parameters.flip-coin--output}}, {{workflow.parameters.text}}"
    );
    assert_eq!(flag(&args(&wf, "task-print-msg"), "--task-id"), Some("condition-1/big/print-msg"));
    assert_eq!(template(&wf, "dag-big")["dag"]["failFast"], true, "a group's fail_fast is its DAG's");
    assert_eq!(template(&wf, "dag-condition-1")["dag"]["failFast"], false);
}

/// Ensures that retries are a `retryStrategy` that retries task-run's exit code 1 only, with
/// Argo's backoff (and the retry number passed on), that caching is `memoize` keyed by the
/// component, its `env` and the inputs (never on an exit task), that a timeout is also the
/// pod's deadline, and that the pipeline's deadline and parallelism are the workflow's.
#[test]
fn retries_caching_timeouts_and_deadlines_are_argos() {
    let case = common::examples_case(
        "name: options\ncache: true\ndeadline: 90m\nparallelism: 2\nsteps:\n  - {task: flaky, component: fail_op, retries: 3, backoff: {initial: 2s, factor: 3, max: 1m}, timeout: 1500ms, inputs: {message: m}}\n  - {task: same, component: fail_op, inputs: {message: m}}\n  - {task: other-env, component: fail_op, env: {MODE: x}, inputs: {message: m}}\n  - {task: plain, component: fail_op, cache: false, retries: 1, inputs: {message: m}}\n  - exit_handler:\n      exit: {task: report, component: exit_report, inputs: {message: done}}\n      steps:\n        - {task: body, component: print_op, inputs: {message: m}}\n",
        &["fail_op", "exit_report", "print_op"],
    );
    let wf = compiled(&case);
    assert_references_resolve(&wf);
    assert_eq!(wf["spec"]["activeDeadlineSeconds"], 5400);
    assert_eq!(wf["spec"]["parallelism"], 2);
    let flaky = template(&wf, "task-flaky");
    assert_eq!(
        flaky["retryStrategy"],
        json!({"limit": 3, "retryPolicy": "Always", "expression": "asInt(lastRetry.exitCode) == 1",
               "backoff": {"duration": "2s", "factor": 3, "cap": "60s"}})
    );
    let flaky_args = args(&wf, "task-flaky");
    assert_eq!(flag(&flaky_args, "--retry"), Some("{{retries}}"));
    assert_eq!(flag(&flaky_args, "--timeout"), Some("1500ms"));
    assert_eq!(flaky["activeDeadlineSeconds"], 62);
    // The default backoff, when a task sets none.
    assert_eq!(
        template(&wf, "task-plain")["retryStrategy"]["backoff"],
        json!({"duration": "1s", "factor": 2, "cap": "60s"})
    );
    assert!(template(&wf, "task-same").get("retryStrategy").is_none());
    assert_eq!(flag(&args(&wf, "task-same"), "--retry"), None);

    let key = |t: &str| {
        template(&wf, t)["memoize"]["key"].as_str().unwrap_or_else(|| panic!("{t} is not memoized")).to_string()
    };
    let (flaky_key, same_key, env_key) = (key("task-flaky"), key("task-same"), key("task-other-env"));
    assert!(
        flaky_key.starts_with("{{=sprig.sha256sum('") && flaky_key.ends_with("' + toJson(inputs.parameters))}}"),
        "{flaky_key}"
    );
    assert_eq!(flaky_key, same_key, "same component, env and inputs: one key");
    assert_ne!(flaky_key, env_key, "another env: another key");
    assert_eq!(template(&wf, "task-flaky")["memoize"]["cache"], json!({"configMap": {"name": "wasmpipe-cache"}}));
    assert_eq!(template(&wf, "task-flaky")["memoize"]["maxAge"], "");
    assert!(template(&wf, "task-plain").get("memoize").is_none(), "cache: false wins");
    assert!(template(&wf, "task-report").get("memoize").is_none(), "exit tasks are never cached");
    assert!(template(&wf, "task-body").get("memoize").is_some());
}

/// Ensures that what is not mapped yet is refused, each construct with its place, and nothing
/// is written.
#[test]
fn constructs_not_mapped_are_refused_with_their_place() {
    let case = common::examples_case(
        "name: later\nfail_fast: true\nparams:\n  p: {type: int, default: 2}\n  anything: {type: any, default: 1}\nsteps:\n  - {task: a, component: print_op, network: {allow: [\"example.org:443\"]}, inputs: {message: m}}\n  - parallel_for:\n      items: [1, null]\n      steps:\n        - {task: b, component: print_op, inputs: {message: \"{{item}}\"}}\n  - if:\n      condition: \"{{params.p}} > 1\"\n      steps: [{task: c, component: print_text, inputs: {text: m}}]\n  - else:\n      steps: [{task: d, component: print_op, inputs: {message: m}}]\n  - exit_handler:\n      exit: {task: e, component: summary_op, inputs: {value: \"{{tasks.f.output}}\"}}\n      steps:\n        - {task: f, component: add, inputs: {a: 1, b: 2}, retries: 2, backoff: {factor: 1.5}}\n  - {task: g, component: summary_op, inputs: {value: \"{{tasks.f.output}}\"}}\n  - {task: h, component: summary_op, ignore_upstream_failure: true, inputs: {value: \"{{tasks.f.output}}\"}}\noutputs:\n  sum: \"{{tasks.f.output}}\"\n  said: \"{{tasks.c.output}}\"\n",
        &["print_op", "print_text", "summary_op"],
    );
    let (code, err) = compile(&case).unwrap_err();
    assert_eq!(code, 2, "{err}");
    for needle in [
        "`params.anything`: cannot compile to an Argo Workflow: values of type `any` are not exported to Argo yet",
        "`steps[0].network`: cannot compile to an Argo Workflow: `network` is not exported to Argo yet",
        "`steps[1].parallel_for.items`: cannot compile to an Argo Workflow: Argo's withItems takes no null item",
        "`steps[4].exit_handler.exit.inputs.value`: cannot compile to an Argo Workflow: an exit task reading an output of its body",
        "`steps[4].exit_handler.steps[0].backoff.factor`: cannot compile to an Argo Workflow: Argo's backoff factor is a whole number, not 1.5",
        "`steps[6].inputs.value`: cannot compile to an Argo Workflow: with `ignore_upstream_failure`, an input read from another task is exported to Argo only when the component declares a default",
        "`outputs.said`: cannot compile to an Argo Workflow: `{{tasks.c.outputs.output}}` is read outside the group that holds branch `condition-2`",
        "`fail_fast`: cannot compile to an Argo Workflow: `fail_fast` on a group that holds an exit handler is not exported to Argo",
    ] {
        assert!(err.contains(needle), "{needle} in\n{err}");
    }
    // Mapped now: an output read outside its group (`g`), a pipeline output through a group.
    assert!(!err.contains("steps[5]") && !err.contains("outputs.sum") && !err.contains("steps[3]"), "{err}");
    assert!(!case.dir.path().join("wf.json").exists());
}

/// Ensures that a loop is a `loop-NAME` DAG template (the loop's `parallelism` and
/// `fail_fast` there, where they bound the iterations only) whose one task runs the body's
/// template `withItems` (a literal list) or `withParam` (a reference), the item passed as
/// `{{item}}` and `{{item.FIELD}}`; that an output read after the loop is the body's and the
/// wrapper's DAG output (ints cast back from Argo's aggregated strings, `[]` for no items);
/// and that a pipeline output is the entrypoint's output with a `globalName`.
#[test]
fn a_loop_is_a_dag_with_param_and_its_outputs_are_collected() {
    let case = common::examples_case(
        "name: loops\nparams:\n  names: {type: list, default: [x, y]}\nsteps:\n  - parallel_for:\n      name: batch\n      items: [{a: 1, b: 2}, {a: 3, b: 4}]\n      parallelism: 2\n      fail_fast: true\n      steps:\n        - {task: add-them, component: add, inputs: {a: \"{{item.a}}\", b: \"{{item.b}}\"}}\n  - parallel_for:\n      name: each\n      items: \"{{params.names}}\"\n      as: who\n      steps:\n        - {task: say, component: print_op, inputs: {message: \"hi {{who}}\"}}\n  - {task: total, component: sum_op, inputs: {values: \"{{tasks.add-them.output}}\"}}\noutputs:\n  total: \"{{tasks.total.output}}\"\n  sums: \"{{tasks.add-them.output}}\"\n",
        &["print_op", "sum_op"],
    );
    let wf = compiled(&case);
    assert_references_resolve(&wf);
    let batch = dag_task(&wf, "main", "batch");
    assert_eq!(batch["template"], "loop-batch");
    let wrapper = template(&wf, "loop-batch");
    assert_eq!(wrapper["parallelism"], 2, "the loop's parallelism bounds its iterations only");
    assert_eq!(wrapper["dag"]["failFast"], true);
    assert!(
        template(&wf, "main").get("parallelism").is_none() && template(&wf, "dag-batch").get("parallelism").is_none()
    );
    let iterate = dag_task(&wf, "loop-batch", "batch");
    assert_eq!(iterate["template"], "dag-batch");
    assert_eq!(iterate["withItems"], json!([{"a": 1, "b": 2}, {"a": 3, "b": 4}]));
    assert_eq!(argument(iterate, "item--item--a"), "{{item.a}}");
    assert_eq!(argument(iterate, "item--item--b"), "{{item.b}}");
    assert_eq!(argument(dag_task(&wf, "dag-batch", "add-them"), "a"), "{{inputs.parameters.item--item--a}}");
    assert_eq!(
        template(&wf, "dag-batch")["outputs"]["parameters"],
        json!([{"name": "add-them--output", "valueFrom": {"parameter": "{{tasks.add-them.outputs.parameters.output}}"}}])
    );
    assert_eq!(
        wrapper["outputs"]["parameters"],
        json!([{"name": "add-them--output", "valueFrom": {
            "expression": "toJson(map(jsonpath(tasks['batch'].outputs.parameters['add-them--output'], '$'), { asInt(#) }))",
            "default": "[]"}}])
    );
    let each = dag_task(&wf, "loop-each", "each");
    assert_eq!(each["withParam"], "{{workflow.parameters.names}}");
    assert_eq!(argument(each, "item--who"), "{{item}}");
    assert_eq!(argument(dag_task(&wf, "dag-each", "say"), "message"), "hi {{inputs.parameters.item--who}}");
    assert_eq!(flag(&args(&wf, "task-say"), "--task-id"), Some("each/say"));
    let total = dag_task(&wf, "main", "total");
    assert_eq!(total["depends"], "batch.Succeeded");
    assert_eq!(argument(total, "values"), "{{tasks.batch.outputs.parameters.add-them--output}}");
    assert_eq!(
        template(&wf, "main")["outputs"]["parameters"],
        json!([
            {"name": "total", "valueFrom": {"parameter": "{{tasks.total.outputs.parameters.output}}"}, "globalName": "total"},
            {"name": "sums", "valueFrom": {"parameter": "{{tasks.batch.outputs.parameters.add-them--output}}"}, "globalName": "sums"},
        ])
    );
}

/// Ensures that nested loops pass the outer item into the inner loop's body as a channel, and
/// that an output collected over both is cast once, where the values are the task's own, and
/// passed on as Argo's list of lists by the outer loop.
#[test]
fn nested_loops_pass_the_outer_item_and_collect_lists() {
    let case = common::examples_case(
        "name: nested\nsteps:\n  - parallel_for:\n      name: outer\n      items: [1, 2]\n      as: x\n      steps:\n        - parallel_for:\n            name: inner\n            items: [3, 4]\n            as: y\n            steps:\n              - {task: both, component: add, inputs: {a: \"{{x}}\", b: \"{{y}}\"}}\n  - {task: show, component: print_text, inputs: {text: \"{{tasks.both.output}}\"}}\n",
        &["print_text"],
    );
    let wf = compiled(&case);
    assert_references_resolve(&wf);
    let inner = dag_task(&wf, "dag-outer", "inner");
    assert_eq!(argument(inner, "item--x"), "{{inputs.parameters.item--x}}");
    let iterate = dag_task(&wf, "loop-inner", "inner");
    assert_eq!(argument(iterate, "item--x"), "{{inputs.parameters.item--x}}");
    assert_eq!(argument(iterate, "item--y"), "{{item}}");
    assert_eq!(argument(dag_task(&wf, "dag-inner", "both"), "a"), "{{inputs.parameters.item--x}}");
    assert!(
        template(&wf, "loop-inner")["outputs"]["parameters"][0]["valueFrom"]["expression"]
            .as_str()
            .is_some_and(|e| e.contains("asInt(#)")),
        "the inner loop casts the task's ints"
    );
    assert_eq!(
        template(&wf, "loop-outer")["outputs"]["parameters"][0]["valueFrom"],
        json!({"parameter": "{{tasks.outer.outputs.parameters.both--output}}", "default": "[]"}),
        "the outer loop collects lists, kept as JSON by Argo"
    );
    assert_eq!(argument(dag_task(&wf, "main", "show"), "text"), "{{tasks.outer.outputs.parameters.both--output}}");
}

/// Ensures that an `if`/`elif`/`else` chain is one DAG task per branch, each `when` its own
/// condition and the negation of the earlier ones, waiting for what those read too; that an
/// output of a task inside a group is read after it through the group's DAG outputs, through
/// every DAG on the way; and that a task with `ignore_upstream_failure` waits for any end of
/// its dependencies and gets the component's default when its producer did not succeed.
#[test]
fn chains_negate_earlier_conditions_and_outputs_leave_groups() {
    let case = common::examples_case(
        "name: chain\nparams:\n  n: {type: int, default: 5}\nsteps:\n  - {task: flip, component: flip_coin}\n  - if:\n      name: heads\n      condition: \"{{tasks.flip.output}} == 'heads'\"\n      steps: [{task: h, component: print_op, inputs: {message: h}}]\n  - elif:\n      name: small\n      condition: \"{{params.n}} < 3\"\n      steps: [{task: s, component: print_op, inputs: {message: s}}]\n  - else:\n      name: other\n      steps: [{task: o, component: print_op, inputs: {message: o}}]\n  - exit_handler:\n      name: outer\n      exit: {task: bye, component: print_op, inputs: {message: bye}}\n      steps:\n        - exit_handler:\n            name: inner\n            exit: {task: bye2, component: print_op, inputs: {message: bye}}\n            steps: [{task: deep, component: add, inputs: {a: 1, b: 2}}]\n  - {task: after, component: print_op, inputs: {message: \"got {{tasks.deep.output}}\"}}\n  - {task: anyway, component: add, ignore_upstream_failure: true, inputs: {a: 1, b: \"{{tasks.deep.output}}\"}}\n",
        &["flip_coin", "print_op"],
    );
    let wf = compiled(&case);
    assert_references_resolve(&wf);
    let heads = dag_task(&wf, "main", "heads");
    assert_eq!(heads["when"], "{{=tasks['flip'].outputs.parameters['output'] == 'heads'}}");
    let small = dag_task(&wf, "main", "small");
    assert_eq!(
        small["when"],
        "{{=!(tasks['flip'].outputs.parameters['output'] == 'heads') && (asInt(workflow.parameters['n']) < 3)}}"
    );
    assert_eq!(small["depends"], "flip.Succeeded", "an elif waits for what the earlier conditions read");
    let other = dag_task(&wf, "main", "other");
    assert_eq!(
        other["when"],
        "{{=!(tasks['flip'].outputs.parameters['output'] == 'heads') && !(asInt(workflow.parameters['n']) < 3)}}"
    );
    assert_eq!(other["depends"], "flip.Succeeded");
    let after = dag_task(&wf, "main", "after");
    assert_eq!(after["depends"], "outer.Succeeded");
    assert_eq!(argument(after, "message"), "got {{tasks.outer.outputs.parameters.deep--output}}");
    assert_eq!(
        template(&wf, "dag-outer")["outputs"]["parameters"],
        json!([{"name": "deep--output", "valueFrom": {"parameter": "{{tasks.inner.outputs.parameters.deep--output}}"}}])
    );
    assert_eq!(
        template(&wf, "dag-inner")["outputs"]["parameters"],
        json!([{"name": "deep--output", "valueFrom": {"parameter": "{{tasks.deep.outputs.parameters.output}}"}}])
    );
    let anyway = dag_task(&wf, "main", "anyway");
    assert_eq!(
        anyway["depends"],
        "(outer.Succeeded || outer.Failed || outer.Errored || outer.Skipped || outer.Omitted)"
    );
    // `add`'s `b` defaults to 1: what wasmpipe gives when the producer did not succeed.
    assert_eq!(
        argument(anyway, "b"),
        "{{=(tasks['outer'].status == 'Succeeded') ? (tasks['outer'].outputs.parameters['deep--output']) : '1'}}"
    );
    assert_eq!(argument(anyway, "a"), "1");
}

/// Ensures that `_` in task names becomes `-` (Argo's names have none), that two names that
/// become one are refused, and that the workflow's name prefix is a Kubernetes name.
#[test]
fn names_become_argos_or_are_refused() {
    let named = common::examples_case(
        "name: My Pipeline_2\nsteps:\n  - {task: first_step, component: print_text, inputs: {text: m}}\n  - {task: second, component: print_op, inputs: {message: \"{{tasks.first_step.output}}\"}}\n",
        &["print_op", "print_text"],
    );
    let wf = compiled(&named);
    assert_references_resolve(&wf);
    assert_eq!(wf["metadata"]["generateName"], "my-pipeline-2-");
    assert_eq!(dag_task(&wf, "main", "first-step")["template"], "task-first-step");
    assert_eq!(dag_task(&wf, "main", "second")["depends"], "first-step.Succeeded");
    assert_eq!(argument(dag_task(&wf, "main", "second"), "message"), "{{tasks.first-step.outputs.parameters.output}}");
    assert_eq!(flag(&args(&wf, "task-first-step"), "--task-id"), Some("first_step"));

    let twins = common::examples_case(
        "name: twins\nsteps:\n  - {task: a_b, component: print_op, inputs: {message: m}}\n  - {task: a-b, component: print_op, inputs: {message: m}}\n",
        &["print_op"],
    );
    let (code, err) = compile(&twins).unwrap_err();
    assert_eq!(code, 2);
    assert!(
        err.contains("`steps[1].task`: cannot compile to an Argo Workflow: `a-b` and `a_b` are both `a-b` in Argo"),
        "{err}"
    );
}

/// Ensures that an input of type `any` (task-run reads it as JSON) is bound to a literal as
/// JSON text, to a value of a known non-string type as Argo's text of it (JSON too), and to a
/// string through `toJson`, and that one bound to items of mixed types is refused.
#[test]
fn an_any_input_is_passed_as_json() {
    let typed = common::examples_case(
        "name: any\nparams:\n  n: {type: int, default: 3}\nsteps:\n  - {task: literal, component: print_text, inputs: {text: \"hey, you\"}}\n  - {task: number, component: print_text, inputs: {text: \"{{params.n}}\"}}\n",
        &["print_text"],
    );
    let wf = compiled(&typed);
    assert_eq!(argument(dag_task(&wf, "main", "literal"), "text"), "\"hey, you\"");
    assert_eq!(argument(dag_task(&wf, "main", "number"), "text"), "{{workflow.parameters.n}}");
    // A string is made JSON by `toJson`; the text of an output from a task is not known.
    let text = common::examples_case(
        "name: any\nparams:\n  s: {type: string, default: x}\nsteps:\n  - {task: t, component: print_text, inputs: {text: \"{{params.s}}\"}}\n",
        &["print_text"],
    );
    let wf = compiled(&text);
    assert_eq!(argument(dag_task(&wf, "main", "t"), "text"), "{{=toJson(workflow.parameters['s'])}}");
    let items = common::examples_case(
        "name: any\nsteps:\n  - parallel_for:\n      items: [{a: \"1\"}, {a: 2}]\n      steps: [{task: t, component: print_text, inputs: {text: \"{{item.a}}\"}}]\n",
        &["print_text"],
    );
    let (code, err) = compile(&items).unwrap_err();
    assert_eq!(code, 2);
    assert!(err.contains("`steps[0].parallel_for.steps[0].inputs.text`: cannot compile to an Argo Workflow: an input of type `any` is exported to Argo only bound to a literal or to a value whose type is known before the run"), "{err}");
}

/// Ensures that a task that runs a sub-pipeline (`examples/control-flow/sub_pipeline.yaml`,
/// inside a loop) is a DAG task calling the sub-pipeline's own DAG template: its parameters
/// the template's inputs (passed into its groups as `param--NAME`), its outputs the template's,
/// its templates named after the task, its tasks' ids under the task's; and that the
/// sub-pipeline's output, collected over the loop, is cast by its type in the sub-pipeline.
#[test]
fn a_sub_pipeline_is_a_dag_template_of_its_own() {
    let case = common::example_case("control-flow/sub_pipeline.yaml");
    let wf = compiled(&case);
    assert_references_resolve(&wf);
    let square = dag_task(&wf, "dag-each", "square");
    assert_eq!(square["template"], "sub-square");
    assert_eq!(argument(square, "x"), "{{inputs.parameters.item--item}}");
    let sub = template(&wf, "sub-square");
    assert_eq!(sub["inputs"], json!({"parameters": [{"name": "x"}]}));
    assert_eq!(
        sub["outputs"],
        json!({"parameters": [{"name": "square", "valueFrom": {"parameter": "{{tasks.squaring.outputs.parameters.calc--product}}"}}]})
    );
    let squaring = dag_task(&wf, "sub-square", "squaring");
    assert_eq!(squaring["template"], "sub-square-dag-squaring");
    assert_eq!(argument(squaring, "param--x"), "{{inputs.parameters.x}}");
    assert_eq!(squaring["hooks"]["exit"]["template"], "sub-square-task-report");
    assert_eq!(argument(&squaring["hooks"]["exit"], "message"), "squared {{inputs.parameters.x}}");
    assert_eq!(argument(dag_task(&wf, "sub-square-dag-squaring", "calc"), "a"), "{{inputs.parameters.param--x}}");
    let calc = args(&wf, "sub-square-task-calc");
    assert_eq!(flag(&calc, "--task-id"), Some("each/square/squaring/calc"));
    assert_eq!(
        template(&wf, "loop-each")["outputs"]["parameters"][0]["valueFrom"]["expression"],
        "toJson(map(jsonpath(tasks['each'].outputs.parameters['square--square'], '$'), { asFloat(#) }))"
    );
    assert_eq!(argument(dag_task(&wf, "main", "total"), "values"), "{{tasks.each.outputs.parameters.square--square}}");
}

/// Ensures that each use of a sub-pipeline has templates of its own (its tasks' ids differ), a
/// parameter left unbound gets its default, what the sub-pipeline refuses is reported at the
/// task with its place in the sub-pipeline's file, and a pipeline that runs itself
/// (`max_depth`) is refused, saying why.
#[test]
fn sub_pipelines_are_per_use_and_recursion_is_refused() {
    let inner = "name: inner\nparams:\n  m: {type: string, default: hi}\ncomponents:\n  print: {path: print_text.wasm}\nsteps:\n  - {task: say, component: print, inputs: {text: \"{{params.m}}\"}}\noutputs:\n  said: \"{{tasks.say.output}}\"\n";
    let case = common::examples_case(
        "name: outer\nsteps:\n  - {task: one, component: inner, inputs: {m: yo}}\n  - {task: two, component: inner}\n  - {task: show, component: print_op, inputs: {message: \"{{tasks.one.outputs.said}} {{tasks.two.outputs.said}}\"}}\n",
        &["print_op"],
    );
    std::fs::copy(common::example("print_text"), case.dir.path().join("print_text.wasm")).unwrap();
    std::fs::write(case.dir.path().join("inner.yaml"), format!("version: 1\n{inner}")).unwrap();
    let text = std::fs::read_to_string(&case.file)
        .unwrap()
        .replace("components:\n", "components:\n  inner: {pipeline: inner.yaml}\n");
    std::fs::write(&case.file, text).unwrap();
    let wf = compiled(&case);
    assert_references_resolve(&wf);
    assert_eq!(argument(dag_task(&wf, "main", "one"), "m"), "yo");
    assert_eq!(argument(dag_task(&wf, "main", "two"), "m"), "hi");
    assert_eq!(flag(&args(&wf, "sub-one-task-say"), "--task-id"), Some("one/say"));
    assert_eq!(flag(&args(&wf, "sub-two-task-say"), "--task-id"), Some("two/say"));
    let show = dag_task(&wf, "main", "show");
    assert_eq!(
        argument(show, "message"),
        "{{tasks.one.outputs.parameters.said}} {{tasks.two.outputs.parameters.said}}"
    );
    assert_eq!(show["depends"], "one.Succeeded && two.Succeeded");

    // A refusal inside the sub-pipeline, at the task that runs it.
    std::fs::write(
        case.dir.path().join("inner.yaml"),
        format!(
            "version: 1\n{}",
            inner.replace("inputs: {text", "network: {allow: [\"example.org:443\"]}, inputs: {text")
        ),
    )
    .unwrap();
    let (code, err) = compile(&case).unwrap_err();
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`steps[0]`: cannot compile to an Argo Workflow: in sub-pipeline")
            && err.contains("at `steps[0].network`: `network` is not exported to Argo yet"),
        "{err}"
    );

    let recursive = Case::raw(
        &"version: 1\ncomponents:\n  add: {path: ADD}\n  again: {pipeline: pipeline.yaml, max_depth: 3}\nname: counter\nparams:\n  x: {type: int, default: 0}\nsteps:\n  - {task: step, component: add, inputs: {a: \"{{params.x}}\", b: 1}}\n  - if:\n      condition: \"{{tasks.step.output}} < 3\"\n      steps:\n        - {task: again, component: again, inputs: {x: \"{{tasks.step.output}}\"}}\n"
            .replace("ADD", &format!("{:?}", wasmpipe_test_artifacts::ADD)),
    );
    let (code, err) = compile(&recursive).unwrap_err();
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("component `again` is a pipeline that runs itself (`max_depth`): not exported to Argo"),
        "{err}"
    );
}

/// Ensures that artifacts go through Argo's artifact repository: an output artifact is the
/// container's `outputs.artifacts` at the path task-run places it, an input artifact its
/// `inputs.artifacts` given `from` the producer (into a branch as the branch template's input
/// artifact, out of it as its output artifact), an artifact parameter the entrypoint's input
/// artifact (`spec.arguments.artifacts`), an artifact pipeline output the entrypoint's output
/// artifact; that tasks with artifacts are not memoized; and that a list of artifacts is
/// refused.
#[test]
fn artifacts_pass_through_argos_artifact_repository() {
    let body = "name: artifacts\nparams:\n  given: {type: artifact, kind: Dataset}\nsteps:\n  - {task: gen, component: numbers_op, inputs: {count: 4}}\n  - {task: add-up, component: total_op, inputs: {data: \"{{tasks.gen.outputs.data}}\"}}\n  - {task: add-given, component: total_op, inputs: {data: \"{{params.given}}\"}}\n  - if:\n      condition: \"{{tasks.add-up.outputs.sum}} > 5\"\n      steps:\n        - {task: again, component: total_op, inputs: {data: \"{{tasks.gen.outputs.data}}\"}}\n        - {task: regen, component: numbers_op, inputs: {count: 2}}\n  - {task: add-regen, component: total_op, inputs: {data: \"{{tasks.regen.outputs.data}}\"}}\noutputs:\n  data: \"{{tasks.gen.outputs.data}}\"\n";
    let pipeline = common::examples_case(body, &["numbers_op", "total_op"]);
    let wf = compiled(&pipeline);
    assert_references_resolve(&wf);
    assert_eq!(wf["spec"]["arguments"]["artifacts"], json!([{"name": "given"}]));
    assert_eq!(template(&wf, "main")["inputs"]["artifacts"], json!([{"name": "given"}]));
    let gen_template = template(&wf, "task-gen");
    assert_eq!(gen_template["outputs"]["artifacts"], json!([{"name": "data", "path": "/tmp/artifacts/outputs/data"}]));
    assert_eq!(flag(&args(&wf, "task-gen"), "--artifact-output"), Some("data=/tmp/artifacts/outputs/data"));
    assert!(gen_template.get("memoize").is_none(), "a task with artifacts is not memoized");
    let add_up = template(&wf, "task-add-up");
    assert_eq!(add_up["inputs"]["artifacts"], json!([{"name": "data", "path": "/tmp/artifacts/inputs/data"}]));
    assert_eq!(flag(&args(&wf, "task-add-up"), "--artifact"), Some("data=/tmp/artifacts/inputs/data"));
    let from = |dag: &str, task: &str| dag_task(&wf, dag, task)["arguments"]["artifacts"].clone();
    assert_eq!(from("main", "add-up"), json!([{"name": "data", "from": "{{tasks.gen.outputs.artifacts.data}}"}]));
    assert_eq!(from("main", "add-given"), json!([{"name": "data", "from": "{{inputs.artifacts.given}}"}]));
    assert_eq!(
        from("main", "condition-1"),
        json!([{"name": "gen--data", "from": "{{tasks.gen.outputs.artifacts.data}}"}])
    );
    assert_eq!(from("dag-condition-1", "again"), json!([{"name": "data", "from": "{{inputs.artifacts.gen--data}}"}]));
    assert_eq!(
        template(&wf, "dag-condition-1")["outputs"]["artifacts"],
        json!([{"name": "regen--data", "from": "{{tasks.regen.outputs.artifacts.data}}"}])
    );
    assert_eq!(
        from("main", "add-regen"),
        json!([{"name": "data", "from": "{{tasks.condition-1.outputs.artifacts.regen--data}}"}])
    );
    assert_eq!(dag_task(&wf, "main", "add-regen")["depends"], "condition-1.Succeeded");
    assert_eq!(
        template(&wf, "main")["outputs"]["artifacts"],
        json!([{"name": "data", "from": "{{tasks.gen.outputs.artifacts.data}}", "globalName": "data"}])
    );

    let lists = common::examples_case(
        "name: lists\nsteps:\n  - parallel_for:\n      items: [1, 2]\n      steps:\n        - {task: make, component: numbers_op, inputs: {count: \"{{item}}\"}}\n  - {task: add, component: join_op, inputs: {data: \"{{tasks.make.outputs.data}}\"}}\noutputs:\n  all: \"{{tasks.make.outputs.data}}\"\n",
        &["numbers_op", "join_op"],
    );
    let (code, err) = compile(&lists).unwrap_err();
    assert_eq!(code, 2, "{err}");
    for at in ["`steps[1].inputs.data`", "`outputs.all`"] {
        assert!(err.contains(&format!("{at}: cannot compile to an Argo Workflow: a list of artifacts (collected over a loop) is not exported to Argo")), "{at} in\n{err}");
    }
}

/// Ensures that a `one_of` read beside its chain is an `expr` expression over the branches'
/// phases (the first that succeeded gives its output, else the fallback), that its reader
/// depends on a branch having succeeded, or none having run and the fallback having succeeded,
/// that a pipeline output `one_of` is the entrypoint's output expression, and that one Argo
/// cannot give (read from inside another group; a pipeline output when no branch may run) is
/// refused.
#[test]
fn one_of_is_the_output_of_the_branch_that_ran() {
    let body = "name: pick\nparams:\n  n: {type: int, default: 7}\nsteps:\n  - {task: base, component: add, inputs: {a: 1, b: 1}}\n  - if:\n      condition: \"{{params.n}} < 5\"\n      steps: [{task: low, component: add, inputs: {a: \"{{params.n}}\", b: 1}}]\n  - elif:\n      condition: \"{{params.n}} < 9\"\n      steps: [{task: mid, component: add, inputs: {a: \"{{params.n}}\", b: 2}}]\n  - else:\n      steps: [{task: high, component: add, inputs: {a: \"{{params.n}}\", b: 3}}]\n  - if:\n      name: better\n      condition: \"{{params.n}} > 100\"\n      steps: [{task: big, component: add, inputs: {a: 100, b: 1}}]\n  - {task: show, component: add, inputs: {a: {one_of: [\"{{tasks.low.output}}\", \"{{tasks.mid.output}}\", \"{{tasks.high.output}}\"]}, b: {one_of: [\"{{tasks.big.output}}\", \"{{tasks.base.output}}\"]}}}\noutputs:\n  picked: {one_of: [\"{{tasks.low.output}}\", \"{{tasks.mid.output}}\", \"{{tasks.high.output}}\"]}\n  best: {one_of: [\"{{tasks.big.output}}\", \"{{tasks.base.output}}\"]}\n";
    let pipeline = common::examples_case(body, &[]);
    let wf = compiled(&pipeline);
    assert_references_resolve(&wf);
    let picked = "(tasks['condition-1'].status == 'Succeeded' ? tasks['condition-1'].outputs.parameters['low--output'] : (tasks['condition-2'].status == 'Succeeded' ? tasks['condition-2'].outputs.parameters['mid--output'] : tasks['condition-3'].outputs.parameters['high--output']))";
    let best = "(tasks['better'].status == 'Succeeded' ? tasks['better'].outputs.parameters['big--output'] : tasks['base'].outputs.parameters['output'])";
    let show = dag_task(&wf, "main", "show");
    assert_eq!(argument(show, "a"), &json!(format!("{{{{={picked}}}}}")));
    assert_eq!(argument(show, "b"), &json!(format!("{{{{={best}}}}}")));
    assert_eq!(
        show["depends"],
        "(condition-1.Succeeded || condition-2.Succeeded || condition-3.Succeeded) && (better.Succeeded || (better.Skipped && base.Succeeded))"
    );
    let outputs = &template(&wf, "main")["outputs"]["parameters"];
    assert_eq!(outputs[0], json!({"name": "picked", "valueFrom": {"expression": picked}, "globalName": "picked"}));
    assert_eq!(outputs[1], json!({"name": "best", "valueFrom": {"expression": best}, "globalName": "best"}));

    let refused = common::examples_case(
        "name: pick\nparams:\n  n: {type: int, default: 7}\nsteps:\n  - if:\n      condition: \"{{params.n}} < 5\"\n      steps: [{task: low, component: add, inputs: {a: 1, b: 1}}]\n  - elif:\n      condition: \"{{params.n}} < 9\"\n      steps: [{task: mid, component: add, inputs: {a: 2, b: 2}}]\n  - exit_handler:\n      exit: {task: bye, component: add, inputs: {a: 1, b: 1}}\n      steps:\n        - {task: show, component: add, inputs: {a: {one_of: [\"{{tasks.low.output}}\", \"{{tasks.mid.output}}\"]}, b: 1}}\noutputs:\n  picked: {one_of: [\"{{tasks.low.output}}\", \"{{tasks.mid.output}}\"]}\n",
        &[],
    );
    let (code, err) = compile(&refused).unwrap_err();
    assert_eq!(code, 2, "{err}");
    for needle in [
        "`steps[2].exit_handler.steps[0].inputs.a`: cannot compile to an Argo Workflow: one_of is exported to Argo only where the chain's branches are steps of the reader's DAG",
        "`outputs.picked`: cannot compile to an Argo Workflow: a pipeline output `one_of` over a chain that may run no branch of it",
    ] {
        assert!(err.contains(needle), "{needle} in\n{err}");
    }
}

/// Ensures that a sub-pipeline's artifact parameter is an input artifact of its template (the
/// calling task gives it `from` the producer) and its artifact output an output artifact of
/// its template, which a reader takes `from` the calling task.
#[test]
fn a_sub_pipelines_artifacts_are_its_templates_artifacts() {
    let components = format!(
        "  numbers: {{path: {:?}}}\n  total: {{path: {:?}}}\n",
        common::example("numbers_op"),
        common::example("total_op")
    );
    let pipeline = Case::raw(&format!(
        "version: 1\nname: outer\ncomponents:\n  inner: {{pipeline: inner.yaml}}\n{components}steps:\n  - {{task: gen, component: numbers, inputs: {{count: 3}}}}\n  - {{task: sub, component: inner, inputs: {{data: \"{{{{tasks.gen.outputs.data}}}}\"}}}}\n  - {{task: last, component: total, inputs: {{data: \"{{{{tasks.sub.outputs.more}}}}\"}}}}\n"
    ));
    std::fs::write(
        pipeline.dir.path().join("inner.yaml"),
        format!("version: 1\nname: inner\nparams:\n  data: {{type: artifact, kind: Dataset}}\ncomponents:\n{components}steps:\n  - {{task: add, component: total, inputs: {{data: \"{{{{params.data}}}}\"}}}}\n  - {{task: more, component: numbers, inputs: {{count: \"{{{{tasks.add.outputs.sum}}}}\"}}}}\noutputs:\n  more: \"{{{{tasks.more.outputs.data}}}}\"\n"),
    )
    .unwrap();
    let wf = compiled(&pipeline);
    assert_references_resolve(&wf);
    let sub = dag_task(&wf, "main", "sub");
    assert_eq!(
        sub["arguments"]["artifacts"],
        json!([{"name": "data", "from": "{{tasks.gen.outputs.artifacts.data}}"}])
    );
    let template = template(&wf, "sub-sub");
    assert_eq!(template["inputs"]["artifacts"], json!([{"name": "data"}]));
    assert_eq!(
        template["outputs"]["artifacts"],
        json!([{"name": "more", "from": "{{tasks.more.outputs.artifacts.data}}"}])
    );
    assert_eq!(
        dag_task(&wf, "sub-sub", "add")["arguments"]["artifacts"],
        json!([{"name": "data", "from": "{{inputs.artifacts.data}}"}])
    );
    assert_eq!(
        dag_task(&wf, "main", "last")["arguments"]["artifacts"],
        json!([{"name": "data", "from": "{{tasks.sub.outputs.artifacts.more}}"}])
    );
}
