//! Prints a dict and returns its keys (KFP's `print_struct` of its loop samples), for loops
//! over dict items in the export's tests.
use std::collections::BTreeMap;

use wasmpipe_guest::{Value, component};

/// The keys of `struct`, after printing it.
#[component]
fn print_struct(r#struct: BTreeMap<String, Value>) -> Vec<String> {
    println!("{} keys", r#struct.len());
    r#struct.into_keys().collect()
}

fn main() {}
