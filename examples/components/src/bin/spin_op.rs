//! A component that never finishes: it loops until the host stops it.
use std::hint::black_box;

use wasmpipe_guest::component;

/// Prints a message, then loops forever.
#[component]
fn spin_op(message: String) {
    println!("{message}");
    loop {
        black_box(());
    }
}

fn main() {}
