//! Returns the attempt number and task id it sees in its context.
use wasmpipe_guest::{Context, component};

/// Returns "<task-id>#<attempt>".
#[component]
fn attempt(ctx: Context) -> String {
    format!("{}#{}", ctx.task_id, ctx.attempt)
}

fn main() {}
