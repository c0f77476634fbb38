//! KFP's `print_op`: prints its message.
use wasmpipe_guest::component;

/// Prints a message.
#[component]
fn print_op(message: String) {
    println!("{message}");
}

fn main() {}
