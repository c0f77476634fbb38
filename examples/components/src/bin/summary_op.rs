//! A summary step that runs however its upstream ended (`ignore_upstream_failure`): its input
//! is optional, absent when the producer failed.
use wasmpipe_guest::component;

/// Says what the upstream check produced, or that it produced nothing.
#[component]
fn summary_op(value: Option<i64>) -> String {
    let line = match value {
        Some(v) => format!("the check passed with {v}"),
        None => "the check produced nothing".to_string(),
    };
    println!("{line}");
    line
}

fn main() {}
