//! Returns its input unchanged, typed `any`: lets a test feed a value of the wrong type at
//! run time, which validation cannot see.
use wasmpipe_guest::{Value, component};

/// Returns `value`.
#[component]
fn echo(value: Value) -> Value {
    value
}

fn main() {}
