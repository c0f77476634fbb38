//! Prints a message that has a default (KFP's `print_op(message: str = 'default')`), for a
//! task that runs after a failure upstream (`ignore_upstream_failure`).
use wasmpipe_guest::component;

/// Prints `message`.
#[component]
fn print_default(#[default("default")] message: String) {
    println!("{message}");
}

fn main() {}
