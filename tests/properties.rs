//! Property tests of what reads untrusted text or guest data: the pipeline loader (and the
//! validation behind it), the condition parser, `-p` value parsing and the WIT value decoder.
//! Each property runs a bounded number of generated cases (`CASES`), so the file stays a few
//! seconds in a debug build; the fuzz targets in `fuzz/` explore the same functions for longer
//! (`scripts/fuzz`).

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Map, Value, json};
use wasmpipe::internals::types::{Node, Value as WitValue};
use wasmpipe::internals::{from_wit, to_wit};
use wasmpipe::model::binding::Ref;
use wasmpipe::model::condition::{Expr, Op, Operand};
use wasmpipe::model::load::load_str;
use wasmpipe::model::value::ValueType;
use wasmpipe::run::{RunOptions, Runner};

/// Cases per property.
const CASES: u32 = 256;

/// How deep `from_wit` lets a value nest (the root is at depth 0).
const WIT_MAX_DEPTH: usize = 256;

/// Every comparison operator.
const OPS: [Op; 6] = [Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge];

// ---- Generators ----

/// A plain name, as tasks, parameters and outputs have.
fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_-]{0,7}"
}

/// A float that JSON can hold.
fn finite_float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        Just(0.0),
        Just(-0.0),
        Just(0.5),
        Just(1e300),
        Just(f64::MIN_POSITIVE),
    ]
}

/// A scalar JSON value (ints that fit in 64 signed bits, finite floats).
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        finite_float().prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
    ]
}

/// A JSON value JSON can hold, nested a few levels.
fn json_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..6)
                .prop_map(|entries| Value::Object(Map::from_iter(entries))),
        ]
    })
}

/// A reference, as conditions and inputs write them.
fn reference() -> impl Strategy<Value = Ref> {
    prop_oneof![
        name().prop_map(Ref::Param),
        (name(), name()).prop_map(|(task, output)| Ref::Output { task, output }),
        (name(), proptest::option::of(name())).prop_map(|(var, field)| Ref::Item { var, field }),
    ]
}

/// A literal a condition can write: a number, a quoted string (without both kinds of quote) or
/// a bool.
fn literal() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        finite_float().prop_map(|f| json!(f)),
        any::<String>()
            .prop_filter("one kind of quote", |s| !(s.contains('\'') && s.contains('"')))
            .prop_map(Value::String),
    ]
}

/// An operand of a comparison.
fn operand() -> impl Strategy<Value = Operand> {
    prop_oneof![literal().prop_map(Operand::Literal), reference().prop_map(Operand::Ref)]
}

/// A comparison operator.
fn op() -> impl Strategy<Value = Op> {
    prop::sample::select(OPS.to_vec())
}

/// A condition as the parser builds it: `and` and `or` hold at least two items.
fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        (op(), operand(), operand()).prop_map(|(op, a, b)| Expr::Cmp(op, a, b)),
        operand().prop_map(Expr::Truth),
    ];
    leaf.prop_recursive(5, 32, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| Expr::Not(Box::new(e))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
            prop::collection::vec(inner, 2..4).prop_map(Expr::Or),
        ]
    })
}

/// A node list of any shape: shared nodes, cycles, indices out of range, non-finite floats.
fn wit_nodes() -> impl Strategy<Value = Vec<Node>> {
    let index = prop_oneof![8 => 0u32..12, 1 => any::<u32>()];
    let float = prop_oneof![any::<f64>(), Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY)];
    let node = prop_oneof![
        Just(Node::Null),
        any::<bool>().prop_map(Node::Boolean),
        any::<i64>().prop_map(Node::Int),
        float.prop_map(Node::Float),
        ".{0,4}".prop_map(Node::Str),
        prop::collection::vec(index.clone(), 0..5).prop_map(Node::ListOf),
        prop::collection::vec(("[ab]", index), 0..5).prop_map(Node::DictOf),
    ];
    prop::collection::vec(node, 0..12)
}

/// A line of YAML-ish text made of a pipeline file's words, often wrong.
fn yaml_line() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "version",
        "name",
        "components",
        "steps",
        "params",
        "task",
        "component",
        "inputs",
        "path",
        "if",
        "elif",
        "else",
        "condition",
        "parallel_for",
        "items",
        "exit_handler",
        "exit",
        "outputs",
        "after",
        "retries",
        "timeout",
        "memory",
        "fuel",
        "type",
        "default",
        "cache",
        "deadline",
        "pipeline",
        "dirs",
        "env",
        "a",
    ]);
    let value = prop::sample::select(vec![
        "",
        "1",
        "0",
        "-1",
        "99999999999999999999",
        "1.5",
        ".nan",
        "true",
        "null",
        "~",
        "x",
        "'{{params.n}}'",
        "\"{{tasks.a.output}} > 1\"",
        "\"{{params.n}} == 'a' and not {{item}}\"",
        "'(((('",
        "{}",
        "[]",
        "{path: a.wasm}",
        "[a, b]",
        "&anchor x",
        "*anchor",
        "!!binary aGk=",
        "{task: a, component: c}",
        "|",
        "- x",
        "int",
        "string",
        "\"10s\"",
        "1MiB",
        "-",
        "[",
        "{",
        "'",
        "\"",
        ":",
        "? x",
        "%YAML 1.2",
        "---",
    ]);
    ("[ ]{0,6}", proptest::bool::ANY, key, value)
        .prop_map(|(indent, dash, key, value)| format!("{indent}{}{key}: {value}", if dash { "- " } else { "" }))
}

/// A pipeline file that loads: tasks in order, some reading parameters and earlier outputs,
/// some inside an `if` group whose condition reads a parameter.
fn valid_pipeline() -> impl Strategy<Value = (String, Value)> {
    (name(), prop::collection::vec((name(), any::<bool>(), any::<i64>()), 1..6), any::<bool>()).prop_map(
        |(pipeline, tasks, conditional)| {
            let mut steps = Vec::new();
            let mut seen: Vec<String> = Vec::new();
            for (i, (task, reads_previous, n)) in tasks.into_iter().enumerate() {
                let task = format!("{task}-{i}");
                let input = match seen.last() {
                    Some(previous) if reads_previous => json!(format!("{{{{tasks.{previous}.output}}}}")),
                    _ => json!("{{params.n}}"),
                };
                let step = json!({"task": task, "component": "c", "inputs": {"a": input, "b": n}});
                steps.push(if conditional && i % 2 == 1 {
                    json!({"if": {"name": format!("when-{i}"), "condition": format!("{{{{params.n}}}} > {n}"), "steps": [step]}})
                } else {
                    step
                });
                seen.push(task);
            }
            let file = json!({
                "version": 1,
                "name": pipeline,
                "params": {"n": {"type": "int", "default": 3}},
                "components": {"c": {"path": "c.wasm"}},
                "steps": steps,
            });
            (pipeline, file)
        },
    )
}

// ---- Helpers ----

/// An operand as a condition writes it.
fn print_operand(o: &Operand) -> String {
    match o {
        Operand::Ref(r) => r.to_string(),
        Operand::Literal(Value::String(s)) if s.contains('\'') => format!("\"{s}\""),
        Operand::Literal(Value::String(s)) => format!("'{s}'"),
        Operand::Literal(v) => v.to_string(),
    }
}

/// A condition as text; every compound part is put in parentheses.
fn print(e: &Expr) -> String {
    let group = |e: &Expr| match e {
        Expr::And(_) | Expr::Or(_) | Expr::Not(_) => format!("({})", print(e)),
        _ => print(e),
    };
    match e {
        Expr::Or(items) => items.iter().map(group).collect::<Vec<_>>().join(" or "),
        Expr::And(items) => items.iter().map(group).collect::<Vec<_>>().join(" and "),
        Expr::Not(inner) => format!("not {}", group(inner)),
        Expr::Cmp(op, a, b) => format!("{} {} {}", print_operand(a), op.text(), print_operand(b)),
        Expr::Truth(a) => print_operand(a),
    }
}

/// Evaluates `a OP b` on two literal values.
fn compare(op: Op, a: &Value, b: &Value) -> Result<bool, String> {
    Expr::Cmp(op, Operand::Literal(a.clone()), Operand::Literal(b.clone())).eval(&|r| Err(format!("{r} is unbound")))
}

/// How many JSON values `value` is made of.
fn count(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(count).sum(),
        Value::Object(map) => map.values().map(count).sum(),
        _ => 0,
    }
}

/// A value of the given type, for `-p` round trips.
fn value_of_type(ty: ValueType) -> BoxedStrategy<Value> {
    match ty {
        ValueType::String => any::<String>().prop_map(Value::String).boxed(),
        ValueType::Int => any::<i64>().prop_map(Value::from).boxed(),
        ValueType::Float => finite_float().prop_map(|f| json!(f)).boxed(),
        ValueType::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        ValueType::List => prop::collection::vec(json_value(), 0..4).prop_map(Value::Array).boxed(),
        ValueType::Dict => prop::collection::vec((any::<String>(), json_value()), 0..4)
            .prop_map(|entries| Value::Object(Map::from_iter(entries)))
            .boxed(),
        ValueType::Any | ValueType::Artifact => json_value().boxed(),
    }
}

/// A value's canonical `-p` text: a string's own text, else its JSON.
fn canonical(ty: ValueType, value: &Value) -> String {
    match (ty, value) {
        (ValueType::String, Value::String(s)) => s.clone(),
        _ => value.to_string(),
    }
}

/// Loads `text` and, when it loads, prepares it with no component present; fails the case on a
/// load or validation error without a message.
fn load_and_prepare(text: &str) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let loaded = match load_str(text, Path::new("p.yaml"), dir.path()) {
        Ok(loaded) => loaded,
        Err(diags) => {
            prop_assert!(!diags.errors.is_empty());
            for d in &diags.errors {
                prop_assert!(!d.message.trim().is_empty(), "{d:?}");
                prop_assert_eq!(&d.file, "p.yaml");
            }
            return Ok(());
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let runner = Runner::with_cache(None).unwrap();
    let options = RunOptions { params: vec![("n".into(), "2".into())], write_record: false, ..RunOptions::default() };
    match runtime.block_on(runner.prepare_pipeline(loaded.pipeline, dir.path(), &options)) {
        Ok(prepared) => {
            for d in &prepared.load_failures {
                prop_assert!(!d.message.trim().is_empty(), "{d:?}");
            }
        }
        Err(diags) => {
            prop_assert!(!diags.errors.is_empty());
            for d in &diags.errors {
                prop_assert!(!d.message.trim().is_empty(), "{d:?}");
            }
        }
    }
    Ok(())
}

// ---- Properties ----

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Ensures that the loader never panics on any text, and that what it refuses comes with
    /// diagnostics that each carry a message and name the file.
    #[test]
    fn loading_any_text_never_panics_and_every_diagnostic_says_something(text in any::<String>()) {
        load_and_prepare(&text)?;
    }

    /// Ensures that loading and then preparing YAML-ish text made of a pipeline's own words
    /// (aliases, tags, conditions, references, flow collections) never panics, and that every
    /// diagnostic of the loader and of validation carries a message.
    #[test]
    fn loading_and_validating_pipeline_like_text_never_panics(
        header in any::<bool>(),
        lines in prop::collection::vec(yaml_line(), 0..16),
    ) {
        let mut text = if header { "version: 1\nname: p\n".to_string() } else { String::new() };
        text.push_str(&lines.join("\n"));
        load_and_prepare(&text)?;
    }

    /// Ensures that a well-formed pipeline file loads with its name and tasks, and that
    /// validating it without its component present ends in load failures or diagnostics that
    /// each carry a message, never in a panic.
    #[test]
    fn a_well_formed_pipeline_loads_and_validates((name, file) in valid_pipeline()) {
        let text = serde_json::to_string_pretty(&file).unwrap();
        let loaded = load_str(&text, Path::new("p.json"), Path::new("."));
        prop_assert!(loaded.is_ok(), "{text}\n{:?}", loaded.err());
        let loaded = loaded.unwrap();
        prop_assert_eq!(&loaded.pipeline.name, &name);
        prop_assert_eq!(loaded.pipeline.steps.len(), file["steps"].as_array().unwrap().len());
        load_and_prepare(&text)?;
    }

    /// Ensures that a condition printed as text parses back to the same condition: precedence
    /// (`not` over `and` over `or`), parentheses, quoting and every operand kind survive.
    #[test]
    fn a_printed_condition_parses_back_to_itself(expr in expr()) {
        let text = print(&expr);
        prop_assert_eq!(Expr::parse(&text), Ok(expr), "{}", text);
    }

    /// Ensures that parsing, checking and evaluating any text as a condition never panics.
    #[test]
    fn parsing_any_condition_text_never_panics(text in any::<String>(), value in scalar()) {
        if let Ok(expr) = Expr::parse(&text) {
            let _ = expr.refs();
            let _ = expr.check(&|_| Some(ValueType::of(&value)));
            let _ = expr.eval(&|_| Ok(value.clone()));
        }
    }

    /// Ensures that comparisons are consistent: `==` is the negation of `!=` and symmetric,
    /// `a < b` is `b > a`, `<=` is `<` or `==`, and two comparable values are exactly one of
    /// less, equal or greater.
    #[test]
    fn comparisons_are_consistent(a in literal(), b in literal()) {
        let forward: Vec<_> = OPS.iter().map(|&op| compare(op, &a, &b)).collect();
        let backward: Vec<_> = OPS.iter().map(|&op| compare(op, &b, &a)).collect();
        if let [Ok(eq), Ok(ne)] = [&forward[0], &forward[1]] {
            prop_assert_ne!(eq, ne);
            prop_assert_eq!(&backward[0], &Ok(*eq));
        }
        prop_assert_eq!(forward[0].is_ok(), forward[1].is_ok());
        if let [Ok(lt), Ok(le), Ok(gt), Ok(ge)] = [&forward[2], &forward[3], &forward[4], &forward[5]] {
            let eq = forward[0] == Ok(true);
            prop_assert_eq!(&backward[4], &Ok(*lt));
            prop_assert_eq!(*le, *lt || eq);
            prop_assert_eq!(*ge, *gt || eq);
            prop_assert_eq!(usize::from(*lt) + usize::from(eq) + usize::from(*gt), 1);
        }
    }

    /// Ensures that ints compare as ints where a float holds them exactly (|n| <= 2^53), and an
    /// int equals the float of the same value.
    #[test]
    fn ints_compare_by_value(a in -(1i64 << 53)..=(1i64 << 53), b in -(1i64 << 53)..=(1i64 << 53)) {
        let (x, y) = (json!(a), json!(b));
        prop_assert_eq!(compare(Op::Lt, &x, &y), Ok(a < b));
        prop_assert_eq!(compare(Op::Eq, &x, &y), Ok(a == b));
        prop_assert_eq!(compare(Op::Eq, &x, &json!(a as f64)), Ok(true));
    }

    /// Ensures that a condition that passes the type check cannot fail to evaluate for a type
    /// reason when every reference holds a value of its declared type.
    #[test]
    fn a_checked_condition_evaluates(expr in expr(), values in prop::collection::vec(literal(), 1..4)) {
        let value_of = |r: &Ref| values[r.to_string().len() % values.len()].clone();
        if expr.check(&|r| Some(ValueType::of(&value_of(r)))).is_ok() {
            let result = expr.eval(&|r| Ok(value_of(r)));
            prop_assert!(result.is_ok(), "{}: {:?}", print(&expr), result);
        }
    }

    /// Ensures that `-p` parsing never panics, that a value it accepts has the type it was
    /// parsed as, and that the value's canonical text parses back to it.
    #[test]
    fn parsing_any_cli_text_keeps_the_type(text in any::<String>()) {
        for ty in ValueType::ALL {
            let Ok(value) = ty.parse_cli(&text) else { continue };
            prop_assert_ne!(ty, ValueType::Artifact);
            prop_assert_eq!(ty.coerce(value.clone()), Ok(value.clone()));
            prop_assert_eq!(ty.parse_cli(&canonical(ty, &value)), Ok(value));
        }
    }

    /// Ensures that the canonical text of any value of a type (a string's own text, an int or a
    /// finite float as written, JSON for lists, dicts and `any`) parses back to that value.
    ///
    /// Floats in JSON are exact here because test builds get serde_json's `float_roundtrip`
    /// from the jsonschema dev-dependency; the shipped binary does not have it and misreads
    /// some (fuzz/README.md, "Findings"), which only the `parse_cli` fuzz target can see.
    #[test]
    fn a_value_s_canonical_text_parses_back(
        (ty, value) in prop::sample::select(ValueType::ALL[..7].to_vec()).prop_flat_map(|ty| (Just(ty), value_of_type(ty))),
    ) {
        prop_assert_eq!(ty.parse_cli(&canonical(ty, &value)), Ok(value));
    }

    /// Ensures that an int written for a float parameter becomes a float of the same value, and
    /// that blanks around an int, a float or a bool are ignored.
    #[test]
    fn ints_feed_floats_and_blanks_are_ignored(n in any::<i32>(), b in any::<bool>()) {
        let float = ValueType::Float.parse_cli(&n.to_string()).unwrap();
        prop_assert!(float.is_f64());
        prop_assert_eq!(float.as_f64(), Some(f64::from(n)));
        prop_assert_eq!(ValueType::Int.parse_cli(&format!(" {n}\t")), Ok(json!(n)));
        prop_assert_eq!(ValueType::Bool.parse_cli(&format!("\n{b} ")), Ok(json!(b)));
    }

    /// Ensures that `from_wit` never panics on any node list (shared nodes, cycles, indices out of
    /// range, NaN), never builds more JSON values than it was sent nodes, and that what it accepts
    /// encodes back to itself.
    #[test]
    fn from_wit_never_panics_nor_builds_more_than_it_was_sent(nodes in wit_nodes()) {
        let len = nodes.len();
        if let Ok(value) = from_wit(&WitValue { nodes }) {
            prop_assert!(count(&value) <= len, "{} values from {} nodes", count(&value), len);
            prop_assert_eq!(from_wit(&to_wit(&value)), Ok(value));
        }
    }

    /// Ensures that any value JSON can hold (ints in 64 signed bits, finite floats) survives
    /// `to_wit` then `from_wit` exactly, ints staying ints and floats floats, one node a value.
    #[test]
    fn json_values_round_trip_through_wit(value in json_value()) {
        let encoded = to_wit(&value);
        prop_assert_eq!(encoded.nodes.len(), count(&value));
        let back = from_wit(&encoded);
        prop_assert_eq!(&back, &Ok(value.clone()));
        prop_assert_eq!(back.unwrap().to_string(), value.to_string(), "ints and floats keep their spelling");
    }

    /// Ensures that a node held twice, or a child pointing at itself or an earlier node, is
    /// refused, whatever value it is put in.
    #[test]
    fn shared_and_backward_nodes_are_refused(value in json_value(), pick in any::<prop::sample::Index>()) {
        let mut nodes = to_wit(&value).nodes;
        let containers: Vec<usize> = nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| matches!(n, Node::ListOf(items) if !items.is_empty()))
            .map(|(i, _)| i)
            .collect();
        prop_assume!(!containers.is_empty());
        let at = containers[pick.index(containers.len())];
        let Node::ListOf(items) = &mut nodes[at] else { unreachable!() };
        let first = items[0];
        items.push(first);
        let shared = from_wit(&WitValue { nodes: nodes.clone() });
        prop_assert!(shared.as_ref().is_err_and(|e| e.contains("more than one")), "{:?}", shared);
        let Node::ListOf(items) = &mut nodes[at] else { unreachable!() };
        items.pop();
        items[0] = at as u32;
        let backward = from_wit(&WitValue { nodes });
        prop_assert!(backward.as_ref().is_err_and(|e| e.contains("after its parent")), "{:?}", backward);
    }

    /// Ensures that a value nested up to 256 levels round-trips through the WIT encoding and a
    /// deeper one is refused with a message, not a stack overflow.
    #[test]
    fn nesting_is_bounded(depth in (WIT_MAX_DEPTH - 4)..(WIT_MAX_DEPTH + 4), dicts in any::<u64>()) {
        let mut value = json!(1);
        for level in 0..depth {
            value = if (dicts >> (level % 64)) & 1 == 1 { json!({"k": value}) } else { json!([value]) };
        }
        let back = from_wit(&to_wit(&value));
        if depth <= WIT_MAX_DEPTH {
            prop_assert_eq!(back, Ok(value));
        } else {
            prop_assert!(back.unwrap_err().contains("deeper than 256"));
        }
    }
}

// ---- Bugs found while writing the fuzz targets (fuzz/README.md), fixed: regression tests ----

/// Ensures that two different ints never compare equal in a condition. It was a bug, now fixed: `compare` in
/// model/condition.rs compared every pair of numbers as f64, so ints beyond 2^53 that differ
/// compare equal (and `<` is wrong on them).
#[test]
fn large_ints_compare_exactly() {
    let eval = |text: &str| Expr::parse(text).unwrap().eval(&|r| Err(format!("{r}")));
    assert_eq!(eval("9007199254740993 == 9007199254740992"), Ok(false));
    assert_eq!(eval("9007199254740992 < 9007199254740993"), Ok(true));
    assert_eq!(eval("9223372036854775807 != 9223372036854775806"), Ok(true));
}

/// Ensures that a condition nested very deeply is refused with a message, as the YAML nesting is
/// (256 levels), instead of overflowing the stack. It was a bug, now fixed: the condition parser recursed once
/// per `(` or `not`, so 10,000 nested parentheses (a 20 KB condition) kill `wasmpipe validate`
/// with a stack overflow (a fuzz build overflows 8 MiB at about 6,000 levels, 2 MiB at 2,000).
#[test]
fn a_deeply_nested_condition_is_refused_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let condition = format!("{}true{}", "(".repeat(10_000), ")".repeat(10_000));
    let file = dir.path().join("deep.yaml");
    let text = format!(
        "version: 1\nname: deep\ncomponents: {{c: {{path: c.wasm}}}}\nsteps:\n  - if:\n      name: deep\n      condition: \"{condition}\"\n      steps:\n        - {{task: t, component: c}}\n"
    );
    std::fs::write(&file, text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wasmpipe")).arg("validate").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{:?}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
}

/// Ensures that reading a condition takes time linear in its length. It was a bug, now fixed: the tokenizer of
/// model/condition.rs copied the rest of the text into a new String at every character, so a
/// condition of n characters costs O(n^2): 20,000 blanks take 3 s in a fuzz build, 80,000 take
/// 49 s, and a pipeline file may be 64 MiB.
#[test]
fn a_long_condition_parses_in_linear_time() {
    // 2,000,000 blanks: a moment when linear, days when quadratic (80,000 took 49 s). No timed
    // assertion: a regression shows as a test that does not end.
    let text = format!("{}true", " ".repeat(2_000_000));
    assert!(Expr::parse(&text).is_ok());
}

/// Ensures that aliases cannot make a small pipeline file expand into a huge value. It was a bug, now fixed:
/// `yaml_guard` counted the nodes aliases stand for (at most 1,000,000) but not their bytes, so
/// one anchored 1 MiB string and 3,000 `*x` (a 1 MiB file) make the loader hold 3 GB (the
/// `load` fuzz target's build ran out of memory on it); a 64 MiB file could ask for terabytes.
/// Here 1 MiB times 100 aliases must be refused.
#[test]
fn aliases_of_a_long_string_are_bounded_by_size() {
    let text = format!(
        "version: 1\nname: p\ncomponents: {{c: {{path: c.wasm}}}}\nsteps:\n  - {{task: t, component: c, inputs: {{a: &x \"{}\", b: [{}]}}}}\n",
        "A".repeat(1 << 20),
        vec!["*x"; 100].join(", ")
    );
    assert!(load_str(&text, Path::new("p.yaml"), Path::new(".")).is_err(), "100 MiB from a 1 MiB file");
}
