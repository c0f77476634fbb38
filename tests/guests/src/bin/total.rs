//! Reads a dataset artifact of numbers and sums them; reports what it was given.
use std::collections::BTreeMap;

use wasmpipe_guest::{Dataset, Input, Outputs, Value, component};

#[derive(Outputs)]
struct Total {
    sum: i64,
    /// The artifact as this task saw it: path, name, size, digest and metadata.
    seen: BTreeMap<String, Value>,
}

/// Sums the numbers of `data`, one per line.
#[component]
fn total(data: Input<Dataset>) -> Result<Total, String> {
    let text = data.read_to_string().map_err(|e| format!("cannot read {}: {e}", data.path().display()))?;
    let sum =
        text.lines().map(|l| l.trim().parse::<i64>().map_err(|e| format!("`{l}`: {e}"))).sum::<Result<i64, _>>()?;
    let seen = BTreeMap::from([
        ("path".into(), Value::Str(data.path().display().to_string())),
        ("name".into(), Value::Str(data.name().into())),
        ("size".into(), Value::Int(data.size() as i64)),
        ("digest".into(), Value::Str(data.digest().into())),
        ("metadata".into(), data.metadata().clone()),
    ]);
    Ok(Total { sum, seen })
}

fn main() {}
