//! KFP's `fail_op`: prints its message, then fails.
use wasmpipe_guest::component;

/// Prints a message and fails with it.
#[component]
fn fail_op(message: String) -> Result<(), String> {
    println!("{message}");
    Err(message)
}

fn main() {}
