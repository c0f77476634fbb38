//! Writes a dataset artifact: the numbers 1..=count, one per line (the first task of the
//! polyglot example).
use wasmpipe_guest::{Dataset, Output, Outputs, component};

#[derive(Outputs)]
struct Numbers {
    /// The numbers, one per line.
    data: Output<Dataset>,
    /// Their sum.
    total: i64,
}

/// Writes the numbers 1..=count to the `data` artifact.
#[component]
fn numbers_op(count: i64) -> Result<Numbers, String> {
    if count < 1 {
        return Err(format!("count must be at least 1, got {count}"));
    }
    let data = Output::new("data").with_metadata("count", count);
    let lines: Vec<String> = (1..=count).map(|n| n.to_string()).collect();
    data.write(lines.join("\n")).map_err(|e| format!("cannot write {}: {e}", data.path().display()))?;
    Ok(Numbers { data, total: count * (count + 1) / 2 })
}

fn main() {}
