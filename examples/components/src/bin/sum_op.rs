//! Sums a list of numbers: the fan-in end of a loop.
use wasmpipe_guest::component;

/// Returns the sum of `values` and prints it.
#[component]
fn sum_op(values: Vec<f64>) -> f64 {
    let total = values.iter().sum();
    println!("sum of {} values: {total}", values.len());
    total
}

fn main() {}
