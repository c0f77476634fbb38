//! Fails until its attempt number reaches `succeed_on`: exercises retries.
use wasmpipe_guest::{Context, component};

/// Succeeds on attempt `succeed_on` (1-based) and later; fails before.
#[component]
fn flaky(ctx: Context, succeed_on: i64) -> Result<String, String> {
    println!("attempt {}", ctx.attempt);
    if i64::from(ctx.attempt) >= succeed_on {
        Ok(format!("succeeded on attempt {}", ctx.attempt))
    } else {
        Err(format!("attempt {} failed", ctx.attempt))
    }
}

fn main() {}
