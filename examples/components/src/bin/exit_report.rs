//! An exit component that reports what its exit handler received.
use wasmpipe_guest::{FinalStatus, component};

/// Prints a message and the final status of the body it cleans up after; returns a summary.
#[component]
fn exit_report(message: String, status: FinalStatus) -> String {
    println!("{message}");
    println!("group `{}` of run {} ended {}", status.group, status.run_id, status.state.name());
    for failure in &status.failures {
        let code = failure.trap_code.as_deref().unwrap_or("-");
        println!("  {} failed: {} ({code}): {}", failure.task, failure.kind.name(), failure.message);
    }
    format!("{} with {} failure(s)", status.state.name(), status.failures.len())
}

fn main() {}
