//! Reads datasets of numbers collected over a loop (KFP's `Input[List[Dataset]]`) and sums
//! all their numbers (the fan-in of artifacts in the export suite's artifact pipeline).
use wasmpipe_guest::{Dataset, Input, Outputs, component};

#[derive(Outputs)]
struct Joined {
    /// The sum of every number of every dataset.
    sum: i64,
    /// How many datasets there were.
    datasets: i64,
}

/// Sums the numbers of all of `data`, one per line in each.
#[component]
fn join_op(data: Vec<Input<Dataset>>) -> Result<Joined, String> {
    let mut sum = 0;
    for dataset in &data {
        let text = dataset.read_to_string().map_err(|e| format!("cannot read {}: {e}", dataset.path().display()))?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            sum += line.trim().parse::<i64>().map_err(|e| format!("`{line}`: {e}"))?;
        }
    }
    Ok(Joined { sum, datasets: data.len() as i64 })
}

fn main() {}
