//! KFP's `random_failure_op` (samples/core/retry), made deterministic: it fails with a non-zero
//! "exit code" until its attempt number reaches `succeed_on`, as a random failure would on some
//! attempts and not on others.
use wasmpipe_guest::{Context, component};

/// Fails on attempts before `succeed_on`; succeeds from then on.
#[component]
fn random_failure_op(ctx: Context, #[default(3)] succeed_on: i64) -> Result<String, String> {
    if i64::from(ctx.attempt) < succeed_on {
        Err(format!("attempt {}: exit code 1", ctx.attempt))
    } else {
        Ok(format!("attempt {}: exit code 0", ctx.attempt))
    }
}

fn main() {}
