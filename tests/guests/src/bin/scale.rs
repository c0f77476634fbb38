//! Multiplies a float: an int bound to its float input must arrive converted.
use wasmpipe_guest::{Outputs, component};

/// Both outputs of `scale`.
#[derive(Outputs)]
struct Scaled {
    /// x * factor
    value: f64,
    /// a label
    label: String,
}

/// Multiplies `x` by `factor`.
#[component]
fn scale(x: f64, #[default(2.0)] factor: f64) -> Scaled {
    Scaled { value: x * factor, label: format!("{x}x{factor}") }
}

fn main() {}
