//! `one_of` (KFP's `dsl.OneOf`): an input or pipeline output bound to the output of whichever
//! branch of an `if`/`elif`/`else` chain ran (`docs/semantics.md`, rules 9 and 12).

mod common;

use common::{Case, assert_messages, task, validation_messages};

/// A three-way chain on `n` (the first branch fails with `-p mode=error`); `pick` (inside an exit handler, so that the wait is lifted to its
/// group) and the pipeline output read whichever branch ran. `add` returns a + b, b being 1.
const CHAIN: &str = concat!(
    "name: pick\n",
    "params:\n",
    "  n: {type: int, default: 5}\n",
    "  mode: {type: string, default: ok}\n",
    "steps:\n",
    "  - if:\n",
    "      name: big\n",
    "      condition: \"{{params.n}} > 3\"\n",
    "      steps:\n",
    "        - {task: first, component: fault, inputs: {mode: \"{{params.mode}}\"}}\n",
    "        - {task: say-big, component: add, inputs: {a: 100}, after: [first]}\n",
    "  - elif:\n",
    "      name: mid\n",
    "      condition: \"{{params.n}} > 1\"\n",
    "      steps:\n",
    "        - {task: say-mid, component: add, inputs: {a: 10}}\n",
    "  - else:\n",
    "      steps:\n",
    "        - {task: say-small, component: add, inputs: {a: 0}}\n",
    "  - exit_handler:\n",
    "      name: guard\n",
    "      exit: {task: done, component: print_op, inputs: {message: done}}\n",
    "      steps:\n",
    "        - task: pick\n",
    "          component: add\n",
    "          inputs:\n",
    "            a: {one_of: [\"{{tasks.say-big.output}}\", \"{{tasks.say-mid.output}}\", \"{{tasks.say-small.output}}\"]}\n",
    "outputs:\n",
    "  picked: {one_of: [\"{{tasks.say-big.output}}\", \"{{tasks.say-mid.output}}\", \"{{tasks.say-small.output}}\"]}\n",
    "  final: \"{{tasks.pick.output}}\"\n",
);

/// Ensures that each way through the chain gives `pick` the output of the branch that ran,
/// whatever the others did (skipped), and the same to the pipeline output.
#[test]
fn one_of_reads_the_branch_that_ran() {
    let case = Case::new(CHAIN);
    for (n, branch, value) in [("5", "big/say-big", 101), ("2", "mid/say-mid", 11), ("0", "condition-1/say-small", 1)] {
        let (code, record) = case.run_json(&["-p", &format!("n={n}")]);
        assert_eq!(code, 0, "n={n}: {record:#}");
        assert_eq!(task(&record, branch)["state"], "succeeded", "n={n}");
        assert_eq!(task(&record, "guard/pick")["outputs"]["output"], value + 1, "n={n}");
        assert_eq!(record["outputs"], serde_json::json!({"picked": value, "final": value + 1}), "n={n}");
        let skipped = record["tasks"].as_array().unwrap().iter().filter(|t| t["state"] == "skipped").count();
        assert_eq!(skipped, if n == "5" { 2 } else { 3 }, "n={n}: the other branches are skipped");
    }
}

/// Ensures that when the branch that ran failed, the reader is skipped as after any failed
/// upstream, and the pipeline output is listed as missing.
#[test]
fn a_failed_branch_skips_the_one_of_reader() {
    let case = Case::new(CHAIN);
    let (code, record) = case.run_json(&["-p", "n=5", "-p", "mode=error"]);
    assert_eq!(code, 1, "{record:#}");
    assert_eq!(task(&record, "big/first")["state"], "failed");
    // `guard` waits for the chain: it is never entered, and its tasks are skipped (rule 1).
    for id in ["guard/pick", "guard/done"] {
        assert_eq!(task(&record, id)["skip"], serde_json::json!({"reason": "upstream_failed", "cause": "big"}), "{id}");
    }
    assert!(record["missing_outputs"]["picked"].as_str().unwrap().contains("none of"), "{record:#}");
}

/// Ensures that a chain with no branch taken (an `if` alone, false) skips the reader with
/// `condition_false`.
#[test]
fn a_chain_that_took_no_branch_skips_the_reader() {
    let case = Case::new(concat!(
        "name: none\n",
        "steps:\n",
        "  - if:\n",
        "      name: yes\n",
        "      condition: \"1 > 2\"\n",
        "      steps:\n",
        "        - {task: a, component: add, inputs: {a: 1}}\n",
        "  - elif:\n",
        "      name: also\n",
        "      condition: \"2 > 3\"\n",
        "      steps:\n",
        "        - {task: b, component: add, inputs: {a: 2}}\n",
        "  - {task: reader, component: add, inputs: {a: {one_of: [\"{{tasks.a.output}}\", \"{{tasks.b.output}}\"]}}}\n",
    ));
    let (code, record) = case.run_json(&[]);
    assert_eq!(code, 0, "{record:#}");
    assert_eq!(task(&record, "reader")["skip"], serde_json::json!({"reason": "condition_false", "cause": "yes"}));
}

/// Ensures that `one_of` is refused, naming the problem and the form that works, where at most
/// one branch's output cannot be guaranteed or its value cannot be one: outside a branch, two
/// in one branch, two chains, a reader in a branch, across a loop, of two types, as loop items,
/// and ill-formed.
#[test]
fn one_of_is_refused_where_it_cannot_pick_one() {
    let case = Case::new(concat!(
        "name: bad\n",
        "steps:\n",
        "  - {task: plain, component: add, inputs: {a: 1}}\n",
        "  - if:\n",
        "      name: c1\n",
        "      condition: \"1 > 0\"\n",
        "      steps:\n",
        "        - {task: x1, component: add, inputs: {a: 1}}\n",
        "        - {task: x2, component: add, inputs: {a: 2}}\n",
        "        - {task: inner, component: add, inputs: {a: {one_of: [\"{{tasks.x1.output}}\", \"{{tasks.y1.output}}\"]}}}\n",
        "  - else:\n",
        "      steps:\n",
        "        - {task: y1, component: add, inputs: {a: 1}}\n",
        "        - {task: y2, component: type_of, inputs: {value: 1}}\n",
        "        - parallel_for:\n",
        "            name: fan\n",
        "            items: [1, 2]\n",
        "            steps:\n",
        "              - {task: looped, component: add, inputs: {a: 1}}\n",
        "  - if:\n",
        "      name: c2\n",
        "      condition: \"1 > 0\"\n",
        "      steps:\n",
        "        - {task: z1, component: add, inputs: {a: 1}}\n",
        "  - {task: outside, component: add, inputs: {a: {one_of: [\"{{tasks.plain.output}}\", \"{{tasks.x1.output}}\"]}}}\n",
        "  - {task: same, component: add, inputs: {a: {one_of: [\"{{tasks.x1.output}}\", \"{{tasks.x2.output}}\"]}}}\n",
        "  - {task: chains, component: add, inputs: {a: {one_of: [\"{{tasks.x1.output}}\", \"{{tasks.z1.output}}\"]}}}\n",
        "  - {task: loop, component: add, inputs: {a: {one_of: [\"{{tasks.x1.output}}\", \"{{tasks.looped.output}}\"]}}}\n",
        "  - {task: types, component: add, inputs: {a: {one_of: [\"{{tasks.x1.output}}\", \"{{tasks.y2.output}}\"]}}}\n",
        "  - {task: single, component: add, inputs: {a: {one_of: [\"{{tasks.x1.output}}\"]}}}\n",
        "  - {task: text, component: add, inputs: {a: {one_of: [\"x{{tasks.x1.output}}\", \"{{tasks.y1.output}}\"]}}}\n",
        "  - parallel_for:\n",
        "      name: over\n",
        "      items: {one_of: [\"{{tasks.x1.output}}\", \"{{tasks.y1.output}}\"]}\n",
        "      steps:\n",
        "        - {task: each, component: add, inputs: {a: 1}}\n",
    ));
    let messages = validation_messages(&case);
    assert_messages(
        &messages,
        &[
            "`{{tasks.x1.outputs.output}}` is in branch `c1`, which holds the reader itself",
            "`{{tasks.plain.outputs.output}}` is not inside a branch",
            "`{{tasks.x1.outputs.output}}` and `{{tasks.x2.outputs.output}}` are in the same branch `c1`",
            "are in branches of two chains (`c1`, `c2`)",
            "`{{tasks.looped.outputs.output}}` is inside a loop that the reader is not in",
            "`{{tasks.x1.outputs.output}}` is int, `{{tasks.y2.outputs.output}}` is string",
            "`one_of` takes two or more task outputs, not 1",
            "`one_of` takes only task outputs, each alone in its string",
            "`one_of` binds task inputs and pipeline outputs, not a loop's items",
        ],
    );
}

/// Ensures that `one_of` passes artifacts too (KFP's `if_else_with_oneof_artifacts`): the
/// reader gets the dataset of the branch that ran, laid out at `/in/<input>`.
#[test]
fn one_of_passes_the_artifact_of_the_branch_that_ran() {
    let case = Case::new(concat!(
        "name: data\n",
        "params:\n",
        "  small: {type: bool, default: true}\n",
        "steps:\n",
        "  - if:\n",
        "      name: few\n",
        "      condition: \"{{params.small}}\"\n",
        "      steps:\n",
        "        - {task: three, component: numbers, inputs: {count: 3}}\n",
        "  - else:\n",
        "      steps:\n",
        "        - {task: ten, component: numbers, inputs: {count: 10}}\n",
        "  - {task: sum, component: total, inputs: {data: {one_of: [\"{{tasks.three.outputs.data}}\", \"{{tasks.ten.outputs.data}}\"]}}}\n",
    ));
    for (small, total) in [("true", 6), ("false", 55)] {
        let (code, record) = case.run_json(&["-p", &format!("small={small}")]);
        assert_eq!(code, 0, "{record:#}");
        assert_eq!(task(&record, "sum")["outputs"]["sum"], total, "small={small}: {record:#}");
    }
}

/// Ensures that a reader that does not stand beside the chain is refused, since it would wait
/// on a branch that waits on it or read a chain it cannot wait for: a reader in another branch
/// of the same chain, and a chain nested in a group that does not hold the reader. A
/// sub-pipeline's output that comes from one of its tasks is read like a task's.
#[test]
fn one_of_readers_must_stand_beside_the_chain() {
    let case = Case::with_components(
        concat!(
            "name: beside\n",
            "steps:\n",
            "  - if:\n",
            "      name: first\n",
            "      condition: \"1 > 0\"\n",
            "      steps:\n",
            "        - {task: reader, component: add, inputs: {a: {one_of: [\"{{tasks.b.output}}\", \"{{tasks.c.output}}\"]}}}\n",
            "  - elif:\n",
            "      name: second\n",
            "      condition: \"2 > 0\"\n",
            "      steps:\n",
            "        - {task: b, component: add, inputs: {a: 1}}\n",
            "        - {task: s, component: adder}\n",
            "  - else:\n",
            "      steps:\n",
            "        - {task: c, component: add, inputs: {a: 2}}\n",
            "  - exit_handler:\n",
            "      name: guard\n",
            "      exit: {task: done, component: print_op, inputs: {message: done}}\n",
            "      steps:\n",
            "        - if:\n",
            "            name: yes\n",
            "            condition: \"1 > 0\"\n",
            "            steps:\n",
            "              - {task: y, component: add, inputs: {a: 1}}\n",
            "        - else:\n",
            "            steps:\n",
            "              - {task: n, component: add, inputs: {a: 2}}\n",
            "  - {task: outside, component: add, inputs: {a: {one_of: [\"{{tasks.y.output}}\", \"{{tasks.n.output}}\"]}}}\n",
            "  - {task: subs, component: add, inputs: {a: {one_of: [\"{{tasks.s.outputs.sum}}\", \"{{tasks.c.output}}\"]}}}\n",
        ),
        &[("adder", "{pipeline: sub.yaml}")],
    );
    case.add_pipeline(
        "sub.yaml",
        "name: sub\nsteps:\n  - {task: add, component: add, inputs: {a: 1}}\noutputs:\n  sum: \"{{tasks.add.output}}\"\n",
        &[],
    );
    let messages = validation_messages(&case);
    assert_messages(
        &messages,
        &[
            "the reader is in branch `first` of the same chain as `{{tasks.b.outputs.output}}`",
            "the chain of `{{tasks.y.outputs.output}}` is inside `guard`, which does not hold the reader",
            // `first` would wait for `second`, which waits for `first` to be decided.
            "these steps depend on each other in a cycle: first -> second -> first",
        ],
    );
    assert_eq!(messages.len(), 3, "`subs` reads a task's output through its sub-pipeline: {messages:#?}");
}

/// Ensures that each artifact a `one_of` may pass must fit the input's kind.
#[test]
fn one_of_artifacts_must_all_fit_the_input() {
    let case = Case::new(concat!(
        "name: kinds\n",
        "steps:\n",
        "  - if:\n",
        "      name: few\n",
        "      condition: \"1 > 0\"\n",
        "      steps:\n",
        "        - {task: data, component: numbers, inputs: {count: 3}}\n",
        "  - else:\n",
        "      steps:\n",
        "        - {task: model, component: model_dir, inputs: {weights: w}}\n",
        "  - {task: sum, component: total, inputs: {data: {one_of: [\"{{tasks.data.outputs.data}}\", \"{{tasks.model.output}}\"]}}}\n",
    ));
    assert_messages(
        &validation_messages(&case),
        &["input `data` of task `sum` takes a Dataset artifact (a file), but it is bound to a Model"],
    );
}

/// Ensures that a branch reading a task of a later branch of its own chain is refused as a
/// cycle (the later branch waits for it to be decided), instead of waiting forever.
#[test]
fn a_branch_reading_a_later_branch_is_a_cycle() {
    let case = Case::new(concat!(
        "name: loop\n",
        "steps:\n",
        "  - if:\n",
        "      name: first\n",
        "      condition: \"1 > 0\"\n",
        "      steps:\n",
        "        - {task: early, component: add, inputs: {a: \"{{tasks.late.output}}\"}}\n",
        "  - else:\n",
        "      steps:\n",
        "        - {task: late, component: add, inputs: {a: 1}}\n",
    ));
    let messages = validation_messages(&case);
    assert!(messages.iter().any(|m| m.contains("depend on each other in a cycle")), "{messages:#?}");
}

/// A chain whose only branch may not run, and a fallback after it: `pick` reads the branch's
/// output when it ran, else the fallback's (the same in the pipeline output).
const FALLBACK: &str = concat!(
    "name: fallback\n",
    "params:\n",
    "  n: {type: int, default: 5}\n",
    "  mode: {type: string, default: ok}\n",
    "steps:\n",
    "  - {task: base, component: add, inputs: {a: 0}}\n",
    "  - if:\n",
    "      name: big\n",
    "      condition: \"{{params.n}} > 3\"\n",
    "      steps:\n",
    "        - {task: first, component: fault, inputs: {mode: \"{{params.mode}}\"}}\n",
    "        - {task: say-big, component: add, inputs: {a: 100}, after: [first]}\n",
    "  - {task: pick, component: add, inputs: {a: {one_of: [\"{{tasks.say-big.output}}\", \"{{tasks.base.output}}\"]}}}\n",
    "outputs:\n",
    "  picked: {one_of: [\"{{tasks.say-big.output}}\", \"{{tasks.base.output}}\"]}\n",
);

/// Ensures that a `one_of` whose last output is outside the chain falls back on it when no
/// branch ran, and reads the branch when one ran; when the branch that ran failed, the reader
/// is skipped and the pipeline output has no value.
#[test]
fn one_of_falls_back_on_its_last_output_when_no_branch_ran() {
    let case = Case::new(FALLBACK);
    for (n, value) in [("5", 101), ("1", 1)] {
        let (code, record) = case.run_json(&["-p", &format!("n={n}")]);
        assert_eq!(code, 0, "n={n}: {record:#}");
        assert_eq!(task(&record, "pick")["outputs"]["output"], value + 1, "n={n}");
        assert_eq!(record["outputs"]["picked"], value, "n={n}");
    }
    let (code, record) = case.run_json(&["-p", "mode=error"]);
    assert_eq!(code, 1, "{record:#}");
    assert_eq!(task(&record, "pick")["skip"], serde_json::json!({"reason": "upstream_failed", "cause": "big"}));
    assert_eq!(task(&record, "base")["state"], "succeeded");
    // The branch ran and failed: the fallback is not for that.
    let why = record["missing_outputs"]["picked"].as_str().unwrap();
    assert!(why.contains("`{{tasks.say-big.outputs.output}}` did not succeed"), "{why}");
    assert_eq!(record["outputs"], serde_json::json!({}));
}

/// Ensures that a fallback is only the last output, and that a sub-pipeline's output that
/// passes a parameter through (it exists whether its branch ran or not) is refused.
#[test]
fn a_fallback_comes_last_and_sub_pipeline_outputs_must_come_from_tasks() {
    let case = Case::with_components(
        concat!(
            "name: bad\n",
            "steps:\n",
            "  - {task: base, component: add, inputs: {a: 0}}\n",
            "  - if:\n",
            "      name: big\n",
            "      condition: \"1 > 0\"\n",
            "      steps:\n",
            "        - {task: x1, component: add, inputs: {a: 1}}\n",
            "        - {task: through, component: pass, inputs: {v: 1}}\n",
            "        - {task: computed, component: pass, inputs: {v: 1}}\n",
            "  - {task: early, component: add, inputs: {a: {one_of: [\"{{tasks.base.output}}\", \"{{tasks.x1.output}}\"]}}}\n",
            "  - {task: passed, component: add, inputs: {a: {one_of: [\"{{tasks.through.outputs.v}}\", \"{{tasks.base.output}}\"]}}}\n",
            "  - {task: fine, component: add, inputs: {a: {one_of: [\"{{tasks.computed.outputs.w}}\", \"{{tasks.base.output}}\"]}}}\n",
        ),
        &[("pass", "{pipeline: pass.yaml}")],
    );
    case.add_pipeline(
        "pass.yaml",
        "name: pass\nparams:\n  v: {type: int}\nsteps:\n  - {task: inc, component: add, inputs: {a: \"{{params.v}}\"}}\noutputs:\n  v: \"{{params.v}}\"\n  w: \"{{tasks.inc.output}}\"\n",
        &[],
    );
    let messages = validation_messages(&case);
    assert_messages(
        &messages,
        &[
            "`{{tasks.base.outputs.output}}` is not inside a branch (`if`, `elif` or `else`), and only the last output may be outside them",
            "`{{tasks.through.outputs.v}}` is an output of a sub-pipeline that does not come from one of its tasks",
        ],
    );
    assert_eq!(messages.len(), 2, "{messages:#?}");
}
