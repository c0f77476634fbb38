//! Setting up one task: its inputs, ordering, retries, limits, grants and caching
//! ([`TaskMut`]).

use super::{PipelineBuilder, Source, SourceOf, TaskHandle};
use crate::model::limits::{ByteSize, HumanDuration};
use crate::model::{self, Task};

/// A task being set up; [`TaskMut::handle`] ends the setup and keeps a handle.
pub struct TaskMut<'a> {
    pub(super) builder: &'a mut PipelineBuilder,
    pub(super) id: usize,
}

impl TaskMut<'_> {
    fn task(&mut self) -> &mut Task {
        &mut self.builder.tasks[self.id]
    }

    /// Binds input `name` to a literal, a parameter, an output or a loop item (checked against
    /// the component's signature when the pipeline is prepared).
    pub fn input(mut self, name: &str, source: impl Into<Source>) -> Self {
        self.task().inputs.insert(name.into(), source.into().into_value());
        self
    }

    /// Binds input `name` of type `T` to a source the compiler checks: a literal, parameter or
    /// output of type `T` (or an int for a float).
    ///
    /// ```
    /// # use wasmpipe::authoring::PipelineBuilder;
    /// let mut p = PipelineBuilder::new("p");
    /// let scale = p.component("scale", "scale.wasm");
    /// let count = p.task(&scale).handle().output::<i64>();
    /// p.task(&scale).input_of::<f64>("x", &count); // an int feeds a float
    /// ```
    ///
    /// A string output cannot feed an int input; this does not compile:
    ///
    /// ```compile_fail
    /// # use wasmpipe::authoring::PipelineBuilder;
    /// let mut p = PipelineBuilder::new("p");
    /// let add = p.component("add", "add.wasm");
    /// let text = p.task(&add).handle().output::<String>();
    /// p.task(&add).input_of::<i64>("a", &text);
    /// ```
    pub fn input_of<T>(self, name: &str, source: impl SourceOf<T>) -> Self {
        self.input(name, source)
    }

    /// Runs the task after `other` succeeded, besides the tasks it reads from.
    pub fn after(mut self, other: &TaskHandle) -> Self {
        let name = other.name.clone();
        self.task().after.push(name);
        self
    }

    /// Retries after a failure, `n` times.
    pub fn retries(mut self, n: u32) -> Self {
        self.task().retries = Some(n);
        self
    }

    /// The timeout of one attempt.
    pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
        self.task().timeout = Some(HumanDuration(timeout));
        self
    }

    /// The memory limit, in bytes.
    pub fn memory(mut self, bytes: u64) -> Self {
        self.task().memory = Some(ByteSize(bytes));
        self
    }

    /// Fuel (about one unit per wasm instruction) for one attempt.
    pub fn fuel(mut self, units: u64) -> Self {
        self.task().fuel = Some(units);
        self
    }

    /// The wait before each retry.
    pub fn backoff(mut self, backoff: model::Backoff) -> Self {
        self.task().backoff = Some(backoff);
        self
    }

    /// The most bytes the task's output artifacts may hold together.
    pub fn artifact_limit(mut self, bytes: u64) -> Self {
        self.task().artifact_limit = Some(ByteSize(bytes));
        self
    }

    /// The most bytes (as JSON text) the task's value outputs may hold together.
    pub fn value_limit(mut self, bytes: u64) -> Self {
        self.task().value_limit = Some(ByteSize(bytes));
        self
    }

    /// The most items one of the task's outputs may give a loop.
    pub fn loop_item_limit(mut self, items: u64) -> Self {
        self.task().loop_item_limit = Some(items);
        self
    }

    /// Passes host environment variable `name` through to the task.
    pub fn host_env(mut self, name: &str) -> Self {
        self.task().host_env.push(name.into());
        self
    }

    /// Lets the task read host directory `host` (relative to the pipeline file) at `guest`.
    pub fn dir(mut self, guest: &str, host: &str) -> Self {
        self.task().dirs.insert(guest.into(), host.into());
        self
    }

    /// Caching on or off for this task.
    pub fn cache(mut self, on: bool) -> Self {
        self.task().cache = Some(on);
        self
    }

    /// Runs even when upstream tasks failed (KFP's `ignore_upstream_failure`).
    pub fn ignore_upstream_failure(mut self) -> Self {
        self.task().ignore_upstream_failure = true;
        self
    }

    /// An environment variable the task sees.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.task().env.insert(name.into(), value.into());
        self
    }

    /// Ends the setup: a handle to read the task's outputs or order tasks after it.
    pub fn handle(self) -> TaskHandle {
        TaskHandle { id: self.id, name: self.builder.tasks[self.id].task.clone() }
    }
}
