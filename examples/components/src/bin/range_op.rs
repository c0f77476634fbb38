//! A list of `n` integers to loop over (shard numbers, seeds): the items of a big loop.
use wasmpipe_guest::component;

/// Returns `[0, 1, ..., n - 1]`.
#[component]
fn range_op(n: i64) -> Vec<i64> {
    (0..n.max(0)).collect()
}

fn main() {}
