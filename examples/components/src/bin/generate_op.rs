//! KFP's `generate_op` of the loop_parameter sample: a list of dicts to loop over.
use wasmpipe_guest::{Value, component};

/// Returns `[{a: 1, b: 10}, {a: 2, b: 20}, ...]` with `n` items (default 4).
#[component]
fn generate_op(#[default(4)] n: i64) -> Vec<Value> {
    (1..=n).map(|i| Value::Dict(vec![("a".into(), Value::Int(i)), ("b".into(), Value::Int(i * 10))])).collect()
}

fn main() {}
