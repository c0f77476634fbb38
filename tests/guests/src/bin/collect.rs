//! Takes a list, a dict and optional inputs, and returns them rearranged.
use std::collections::BTreeMap;

use wasmpipe_guest::component;

/// Returns a dict with the list length, the dict keys and whether `extra` was given.
#[component]
fn collect(
    items: Vec<i64>,
    labels: BTreeMap<String, String>,
    extra: Option<String>,
) -> BTreeMap<String, wasmpipe_guest::Value> {
    use wasmpipe_guest::Value;
    let mut out = BTreeMap::new();
    out.insert("len".to_string(), Value::Int(items.len() as i64));
    out.insert("keys".to_string(), Value::List(labels.into_keys().map(Value::Str).collect()));
    out.insert("extra".to_string(), extra.map(Value::Str).unwrap_or(Value::Null));
    out
}

fn main() {}
