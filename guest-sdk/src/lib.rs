//! Write [wasmpipe](https://github.com/wasmpipe/wasmpipe) pipeline components in Rust.
//!
//! A component is a plain function with typed arguments and a typed result. The
//! [`component`] attribute derives everything the `wasmpipe:pipeline/task` world asks for:
//! `describe` (the inputs and outputs, from the signature), the conversion of input values,
//! and the conversion of the result into outputs or an error.
//!
//! ```ignore
//! // src/bin/print_op.rs, built with `cargo build --target wasm32-wasip2`
//! use wasmpipe_guest::component;
//!
//! /// Prints a message.
//! #[component]
//! fn print_op(message: String) {
//!     println!("{message}");
//! }
//!
//! fn main() {}
//! ```
//!
//! Types map as follows; `Option<T>` makes an input optional:
//!
//! | Rust                                  | wasmpipe type  |
//! |---------------------------------------|----------------|
//! | `String`                              | `string`       |
//! | `i64` (and smaller ints)              | `int`          |
//! | `f64`, `f32`                          | `float`        |
//! | `bool`                                | `bool`         |
//! | `Vec<T>`                              | `list`         |
//! | `BTreeMap<String, T>`                 | `dict`         |
//! | [`Value`]                             | `any`          |
//! | [`FinalStatus`] (exit handlers only)  | `final_status` |
//! | [`Input<K>`] / [`Output<K>`]          | an artifact of kind `K` (a file; [`Dir<K>`] for a directory): see [`Input`] |
//!
//! The result is `()` (no outputs), one value (an output named `output`, KFP's convention), or
//! a struct with `#[derive(Outputs)]` (one output per field); wrapped in `Result<_, E>` with
//! `E: Display`, an `Err` fails the task with kind `error` and its message. An input default
//! is written `#[default(EXPR)]` on the argument.
//!
//! ```ignore
//! use wasmpipe_guest::{component, Outputs};
//!
//! #[derive(Outputs)]
//! struct Stats { sum: i64, mean: f64 }
//!
//! /// Sums and averages numbers.
//! #[component]
//! fn stats(numbers: Vec<i64>, #[default(1)] scale: i64) -> Result<Stats, String> {
//!     if numbers.is_empty() { return Err("no numbers".into()); }
//!     let sum: i64 = numbers.iter().sum::<i64>() * scale;
//!     Ok(Stats { sum, mean: sum as f64 / numbers.len() as f64 })
//! }
//! # fn main() {}
//! ```

//!
//! A task its pipeline grants outbound network (`network: {allow: ["example.org:443"]}`)
//! fetches with [`http::get`].

mod artifact;
pub mod bindings;
mod convert;
pub mod http;
pub mod log;
mod status;
mod value;

pub use artifact::{Artifact, ArtifactKind, Dataset, Dir, Input, Metrics, Model, Output};
pub use bindings::wasmpipe::pipeline::types::{Context, FailureKind, FinalStatus, State, TaskFailure};
pub use convert::{InputType, OutputType, Outputs, ValueType};
pub use value::Value;
pub use wasmpipe_guest_macros::{Outputs, component};

/// Items the `#[component]` and `#[derive(Outputs)]` expansions refer to. Not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::bindings::export;
    pub use crate::bindings::exports::wasmpipe::pipeline::component::Guest;
    pub use crate::bindings::wasmpipe::pipeline::types::{
        Context, InputSpec, InputValue, OutputSpec, OutputValue, Signature,
    };
    pub use crate::convert::{default_value, input_spec, take_input};
}
