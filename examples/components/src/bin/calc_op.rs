//! KFP's multiple-outputs sample: one component, two named outputs.
use wasmpipe_guest::{Outputs, component};

/// The sum and the product of two numbers.
#[derive(Outputs)]
struct SumAndProduct {
    /// a + b
    sum: f64,
    /// a * b
    product: f64,
}

/// Adds and multiplies `a` and `b`.
#[component]
fn calc_op(a: f64, b: f64) -> SumAndProduct {
    SumAndProduct { sum: a + b, product: a * b }
}

fn main() {}
