//! Checks that a value is within a limit: a task that fails for some loop items and not others.
use wasmpipe_guest::component;

/// Returns `value` when it is at most `max`; fails with kind `error` otherwise.
#[component]
fn check_op(value: i64, max: i64) -> Result<i64, String> {
    if value <= max { Ok(value) } else { Err(format!("{value} is over the limit of {max}")) }
}

fn main() {}
