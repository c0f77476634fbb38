//! KFP's `flip_coin` (samples/core/condition): "heads" or "tails", at random unless forced.
use std::hash::{BuildHasher, RandomState};

use wasmpipe_guest::component;

/// Flips a coin; `force_flip_result` fixes the result (for tests).
#[component]
fn flip_coin(force_flip_result: Option<String>) -> String {
    match force_flip_result.filter(|f| !f.is_empty()) {
        Some(forced) => forced,
        // RandomState is seeded from WASI's random source.
        None if RandomState::new().hash_one(0u8).is_multiple_of(2) => "heads".into(),
        None => "tails".into(),
    }
}

fn main() {}
