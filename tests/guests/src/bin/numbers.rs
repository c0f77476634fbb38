//! Writes a dataset artifact: the numbers 1..=count, one per line.
use wasmpipe_guest::{Dataset, Output, Outputs, component};

#[derive(Outputs)]
struct Numbers {
    data: Output<Dataset>,
    lines: i64,
}

/// Writes `count` numbers to the `data` artifact, with metadata saying how many.
#[component]
fn numbers(count: i64) -> Result<Numbers, String> {
    let data = Output::new("data").with_metadata("count", count);
    let text: Vec<String> = (1..=count).map(|n| n.to_string()).collect();
    data.write(text.join("\n")).map_err(|e| format!("cannot write {}: {e}", data.path().display()))?;
    Ok(Numbers { data, lines: count })
}

fn main() {}
