//! KFP's `concat_op` of the loop samples: joins two values as text (`"1" + "10"` is `"110"`;
//! ints join by their digits, as KFP's string inputs would).
use wasmpipe_guest::{Value, component};

/// Returns `a` and `b` written one after the other, and prints it.
#[component]
fn concat_op(a: Value, b: Value) -> String {
    let joined = format!("{}{}", text(&a), text(&b));
    println!("{joined}");
    joined
}

fn text(value: &Value) -> String {
    match value {
        Value::Str(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        other => format!("{other:?}"),
    }
}

fn main() {}
