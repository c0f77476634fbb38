//! Panics: a Rust panic ends in an `unreachable` trap.
use wasmpipe_guest::component;

/// Panics with `message`.
#[component]
fn panic_op(message: String) {
    panic!("{message}");
}

fn main() {}
