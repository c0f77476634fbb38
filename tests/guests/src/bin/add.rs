//! Adds two ints: checks that ints stay ints end to end.
use wasmpipe_guest::component;

/// Returns a + b.
#[component]
fn add(a: i64, #[default(1)] b: i64) -> i64 {
    a + b
}

fn main() {}
