//! Inputs and outputs named after Rust keywords, written as raw identifiers (`r#where`,
//! `r#type`): their names in the component's signature have no `r#`.
use wasmpipe_guest::{Outputs, component};

/// The outputs of `keywords`.
#[derive(Outputs)]
struct Found {
    /// `where` and `match`, joined
    r#type: String,
    /// `match` again
    r#in: i64,
}

/// Joins `where` and `match`.
#[component]
fn keywords(r#where: String, #[default(1)] r#match: i64) -> Found {
    Found { r#type: format!("{}:{}", r#where, r#match), r#in: r#match }
}

fn main() {}
