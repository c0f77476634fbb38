//! Reads the datasets of a loop's iterations, collected (KFP's `Input[List[Dataset]]`): sums
//! the numbers of each, and reports where each was.
use wasmpipe_guest::{Dataset, Input, Outputs, component};

#[derive(Outputs)]
struct Gathered {
    /// The sum of each dataset, in item order.
    sums: Vec<i64>,
    /// Where each dataset was in the sandbox.
    paths: Vec<String>,
    /// The `count` metadata of each.
    counts: Vec<i64>,
}

/// Sums each dataset of `data`, one number per line.
#[component]
fn gather(data: Vec<Input<Dataset>>) -> Result<Gathered, String> {
    let mut out = Gathered { sums: Vec::new(), paths: Vec::new(), counts: Vec::new() };
    for d in &data {
        let text = d.read_to_string().map_err(|e| format!("cannot read {}: {e}", d.path().display()))?;
        out.sums.push(text.lines().map(|l| l.trim().parse::<i64>().unwrap_or(0)).sum());
        out.paths.push(d.path().display().to_string());
        let count = match d.metadata() {
            wasmpipe_guest::Value::Dict(fields) => fields.iter().find(|(k, _)| k == "count").map(|(_, v)| v.clone()),
            _ => None,
        };
        out.counts.push(match count {
            Some(wasmpipe_guest::Value::Int(n)) => n,
            _ => -1,
        });
    }
    Ok(out)
}

fn main() {}
