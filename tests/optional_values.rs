//! Optional values (`docs/semantics.md`, rule 12): a parameter with `default: null` (KFP's
//! `int = None`) has no value unless given one, reaches optional inputs as "no value" (the
//! component's own default applies), and is refused wherever a value is needed; pipeline
//! outputs without a value are recorded with why.

mod common;

use common::{Case, assert_messages, task, validation_messages};

/// `add` returns a + b, with b optional (default 1).
const OPTIONAL: &str = concat!(
    "name: opt\n",
    "params:\n",
    "  b: {type: int, default: null}\n",
    "  go: {type: bool, default: false}\n",
    "steps:\n",
    "  - {task: plus, component: add, inputs: {a: 10, b: \"{{params.b}}\"}}\n",
    "  - {task: inner, component: adder}\n",
    "  - {task: passed, component: adder, inputs: {b: \"{{params.b}}\"}}\n",
    "  - if:\n",
    "      name: maybe\n",
    "      condition: \"{{params.go}}\"\n",
    "      steps:\n",
    "        - {task: branch, component: add, inputs: {a: 1}}\n",
    "outputs:\n",
    "  sum: \"{{tasks.plus.output}}\"\n",
    "  b: \"{{params.b}}\"\n",
    "  branch: \"{{tasks.branch.output}}\"\n",
);

/// A sub-pipeline whose parameter `b` has `default: null` too, passed on to `add`.
const SUB: &str = concat!(
    "name: sub\n",
    "params:\n",
    "  b: {type: int, default: null}\n",
    "steps:\n",
    "  - {task: add, component: add, inputs: {a: 100, b: \"{{params.b}}\"}}\n",
    "outputs:\n",
    "  sum: \"{{tasks.add.output}}\"\n",
);

fn optional_case() -> Case {
    let case = Case::with_components(OPTIONAL, &[("adder", "{pipeline: sub.yaml}")]);
    case.add_pipeline("sub.yaml", SUB, &[]);
    case
}

/// Ensures that without `-p` a `default: null` parameter leaves optional inputs to their
/// component's default (in the pipeline and through a sub-pipeline), that `-p` gives it a
/// value, and that outputs without a value are listed with why, in the record.
#[test]
fn a_null_default_is_no_value_until_given_one() {
    let case = optional_case();
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(record["params"]["b"], serde_json::Value::Null);
    assert_eq!(task(&record, "plus")["outputs"]["output"], 11, "add's own default for b is 1");
    assert_eq!(task(&record, "inner/add")["outputs"]["output"], 101);
    assert_eq!(task(&record, "passed/add")["outputs"]["output"], 101);
    assert_eq!(record["outputs"], serde_json::json!({"sum": 11}));
    let missing = &record["missing_outputs"];
    assert!(missing["b"].as_str().unwrap().contains("`{{params.b}}` has no value"), "{missing}");
    assert!(missing["branch"].as_str().unwrap().contains("task `maybe/branch` did not succeed"), "{missing}");
    assert_eq!(task(&record, "maybe/branch")["state"], "skipped");

    let (code, record) = case.run_json(&["-p", "b=5", "-p", "go=true"]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(task(&record, "plus")["outputs"]["output"], 15);
    assert_eq!(task(&record, "inner/add")["outputs"]["output"], 101, "not bound: the sub's own null");
    assert_eq!(task(&record, "passed/add")["outputs"]["output"], 105);
    assert_eq!(record["outputs"], serde_json::json!({"sum": 15, "b": 5, "branch": 2}));
    assert!(record.get("missing_outputs").is_none(), "{record:#}");
}

/// Ensures that a `default: null` parameter is refused, with its name and the way out, where a
/// value is needed: a required input, a string it is formatted into, a condition, a loop's
/// items, and a sub-pipeline parameter that is not nullable itself.
#[test]
fn a_null_default_is_refused_where_a_value_is_needed() {
    let case = Case::with_components(
        concat!(
            "name: bad\n",
            "params:\n",
            "  n: {type: int, default: null}\n",
            "  xs: {type: list, default: null}\n",
            "steps:\n",
            "  - {task: required, component: add, inputs: {a: \"{{params.n}}\"}}\n",
            "  - {task: text, component: print_op, inputs: {message: \"n is {{params.n}}\"}}\n",
            "  - if:\n",
            "      name: cond\n",
            "      condition: \"{{params.n}} > 1\"\n",
            "      steps:\n",
            "        - {task: inside, component: add, inputs: {a: 1}}\n",
            "  - parallel_for:\n",
            "      name: fan\n",
            "      items: \"{{params.xs}}\"\n",
            "      steps:\n",
            "        - {task: each, component: add, inputs: {a: 1}}\n",
            "  - {task: sub, component: strict, inputs: {b: \"{{params.n}}\"}}\n",
        ),
        &[("strict", "{pipeline: strict.yaml}")],
    );
    case.add_pipeline(
        "strict.yaml",
        "name: strict\nparams:\n  b: {type: int, default: 2}\nsteps:\n  - {task: add, component: add, inputs: {a: 1, b: \"{{params.b}}\"}}\n",
        &[],
    );
    let messages = validation_messages(&case);
    assert_messages(
        &messages,
        &[
            "parameter `n` has `default: null`, so it may have no value, and input `a` of task `required` is required",
            "and it cannot be formatted into a string",
            "and a condition needs a value",
            "parameter `xs` has `default: null`, so it may have no value, and a loop's items need a value",
            "and parameter `b` of the sub-pipeline needs a value",
        ],
    );
    assert!(messages.iter().all(|m| m.contains("docs/semantics.md#rule-12-")), "{messages:#?}");
}

/// Ensures that only a `default: null` parameter's null means "no value": a null given to an
/// `any` parameter is a value the component receives, and a sub-pipeline output that passes on
/// a `default: null` parameter is refused (its readers need a value).
#[test]
fn only_a_null_default_means_no_value() {
    let case = Case::new(
        "name: n\nparams:\n  v: {type: any}\nsteps:\n  - {task: t, component: type_of, inputs: {value: \"{{params.v}}\"}}\n",
    );
    let (code, record) = case.run_json(&["-p", "v=null"]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(task(&record, "t")["outputs"]["output"], "null");

    let case = Case::with_components(
        "name: outer\nsteps:\n  - {task: inner, component: passes}\n  - {task: use, component: add, inputs: {a: \"{{tasks.inner.outputs.p}}\"}}\n",
        &[("passes", "{pipeline: passes.yaml}")],
    );
    case.add_pipeline(
        "passes.yaml",
        "name: passes\nparams:\n  p: {type: int, default: null}\nsteps: []\noutputs:\n  p: \"{{params.p}}\"\n",
        &[],
    );
    assert_messages(
        &validation_messages(&case),
        &["parameter `p` has `default: null`, so it may have no value, and a sub-pipeline's output needs a value"],
    );
}
