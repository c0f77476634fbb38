//! Reports the type of the value it receives, as the guest sees it.
use wasmpipe_guest::{Value, component, log};

/// Returns the type name of `value` ("int", "float", "string", ...).
#[component]
fn type_of(value: Value) -> String {
    log::info(&format!("received {value:?}"));
    value.type_name().to_string()
}

fn main() {}
