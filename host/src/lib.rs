//! wasmpipe: a pipeline runtime for WebAssembly components, with exit handlers that the host
//! guarantees as `finally` blocks.
//!
//! A pipeline file ([`model`]) is parsed with the line of every node, turned into a [`plan`],
//! checked by [`validate`] against the components' own descriptions ([`component`]), then run:
//! the [`scheduler`] says which task may start, the [`executor`] runs it in a fresh
//! [`sandbox`], and the [`record`] says what happened. [`run::Runner`] ties them together.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use wasmpipe::run::{Runner, RunOptions};
//! let runner = Runner::new()?;
//! let options = RunOptions { params: vec![("message".into(), "hi".into())], ..RunOptions::default() };
//! let prepared = runner.prepare_file("pipeline.yaml".as_ref(), &options).await?;
//! let record = runner.run(&prepared, &options, &mut |_| {}).await;
//! println!("{:?}", record.state);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod artifact;
pub mod build;
pub mod builder;
pub mod cache;
pub mod cancel;
pub mod capture;
pub mod command;
pub mod component;
pub mod diag;
pub mod engine;
pub mod executor;
pub mod model;
pub mod plan;
pub mod record;
pub mod run;
pub mod sandbox;
pub mod scheduler;
pub mod tree;
pub mod validate;
pub mod value;
pub mod wit;
