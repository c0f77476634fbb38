//! Reads a dataset artifact of numbers, one per line, and sums them (the reader of
//! `numbers_op`'s dataset, in the export suite's artifact pipeline).
use wasmpipe_guest::{Dataset, Input, Outputs, Value, component};

#[derive(Outputs)]
struct Total {
    /// The sum of the numbers.
    sum: i64,
    /// How many numbers its producer said it wrote (the artifact's `count` metadata; 0 when
    /// it has none).
    count: i64,
}

/// Sums the numbers of `data`.
#[component]
fn total_op(data: Input<Dataset>) -> Result<Total, String> {
    let text = data.read_to_string().map_err(|e| format!("cannot read {}: {e}", data.path().display()))?;
    let sum = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.trim().parse::<i64>().map_err(|e| format!("`{l}`: {e}")))
        .sum::<Result<i64, _>>()?;
    let count = match data.metadata() {
        Value::Dict(fields) => fields.iter().find_map(|(k, v)| match v {
            Value::Int(n) if k == "count" => Some(*n),
            // KFP's metadata holds numbers as floats.
            Value::Float(f) if k == "count" => Some(*f as i64),
            _ => None,
        }),
        _ => None,
    }
    .unwrap_or(0);
    Ok(Total { sum, count })
}

fn main() {}
