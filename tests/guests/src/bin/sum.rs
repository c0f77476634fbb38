//! Sums a list of ints: the fan-in end of a loop.
use wasmpipe_guest::component;

/// Returns the sum of `values`.
#[component]
fn sum(values: Vec<i64>) -> i64 {
    values.iter().sum()
}

fn main() {}
