//! A component that traps: it executes `unreachable`, the way a crashing guest ends.
use wasmpipe_guest::component;

/// Prints a message, then traps with `unreachable`.
#[component]
fn trap_op(message: String) {
    println!("{message}");
    core::arch::wasm32::unreachable()
}

fn main() {}
