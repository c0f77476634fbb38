//! Authoring pipelines in Rust, the way KFP's Python DSL reads: components, typed parameters,
//! tasks whose outputs are typed handles, and groups opened by closures, like KFP's `with`
//! blocks. The builder produces the same [`model::Pipeline`] the file parser produces, so
//! [`Pipeline::to_yaml`](crate::model::Pipeline::to_yaml) writes a file that `wasmpipe run`
//! executes and [`Runner::prepare_pipeline`](crate::run::Runner::prepare_pipeline) runs it directly.
//!
//! ```
//! use wasmpipe::authoring::PipelineBuilder;
//!
//! // KFP's exit-handler sample.
//! let mut p = PipelineBuilder::new("pipeline-with-exit-handler");
//! let message = p.param("message", "Hello World!".to_string());
//! let print_op = p.component("print_op", "components/print_op.wasm");
//! let fail_op = p.component("fail_op", "components/fail_op.wasm");
//! let exit_task = p.task(&print_op).input("message", "Exit handler has worked!").handle();
//! p.exit_handler(exit_task, None, |p| {
//!     p.task(&print_op).input("message", &message);
//!     p.task(&fail_op).input("message", "Task failed.");
//! });
//! let pipeline = p.build().unwrap();
//! assert_eq!(pipeline.steps.len(), 1);
//! ```
//!
//! Types are checked when Rust can: [`TaskMut::input_of`] takes only a source of the input's
//! type (an int may feed a float), so wiring an `Out<String>` to an `i64` input does not
//! compile. Everything else is checked against the components' own signatures when the
//! pipeline is prepared, like a pipeline file. [`PipelineBuilder::build`] reports mistakes that
//! need no signature: duplicate task names, an exit task used by two handlers or inside its own
//! body, `elif`/`else` without an `if`.

use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;

use indexmap::IndexMap;
use serde_json::Value;

use crate::model::limits::{ByteSize, HumanDuration};
use crate::model::value::ValueType;
use crate::model::{
    self, Branch, ComponentRef, ElifStep, ElseBranch, ElseStep, ExitHandler, ExitHandlerStep, IfStep, ParallelFor,
    ParallelForStep, Param, Step, Task,
};

/// A Rust type that a parameter, an input or an output can have, and its wasmpipe value type.
pub trait HasValueType {
    /// Its wasmpipe type.
    const TYPE: ValueType;
}

impl HasValueType for String {
    const TYPE: ValueType = ValueType::String;
}
impl HasValueType for i64 {
    const TYPE: ValueType = ValueType::Int;
}
impl HasValueType for f64 {
    const TYPE: ValueType = ValueType::Float;
}
impl HasValueType for bool {
    const TYPE: ValueType = ValueType::Bool;
}
impl<T> HasValueType for Vec<T> {
    const TYPE: ValueType = ValueType::List;
}
impl HasValueType for Value {
    const TYPE: ValueType = ValueType::Any;
}

/// An artifact, as the type of a parameter or an output handle.
pub struct Artifact;
impl HasValueType for Artifact {
    const TYPE: ValueType = ValueType::Artifact;
}

/// What an input can be bound to: a literal, a parameter, a task output or a loop item.
#[derive(Clone, Debug, PartialEq)]
pub struct Source(Value);

impl Source {
    /// The binding as the pipeline file writes it.
    pub fn into_value(self) -> Value {
        self.0
    }
}

macro_rules! literal_sources {
    ($($t:ty),*) => {$(
        impl From<$t> for Source {
            fn from(v: $t) -> Source {
                Source(Value::from(v))
            }
        }
    )*};
}
literal_sources!(&str, String, i64, i32, f64, bool);

impl From<Value> for Source {
    fn from(v: Value) -> Source {
        Source(v)
    }
}

/// A typed pipeline parameter: `{{params.NAME}}`.
#[derive(Debug)]
pub struct ParamRef<T> {
    name: String,
    ty: PhantomData<T>,
}

impl<T> Clone for ParamRef<T> {
    fn clone(&self) -> Self {
        ParamRef { name: self.name.clone(), ty: PhantomData }
    }
}

impl<T> fmt::Display for ParamRef<T> {
    /// `{{params.NAME}}`, for conditions and formatted strings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{{params.{}}}}}", self.name)
    }
}

impl<T> From<&ParamRef<T>> for Source {
    fn from(p: &ParamRef<T>) -> Source {
        Source(Value::String(p.to_string()))
    }
}

/// A typed output of a task: `{{tasks.TASK.outputs.NAME}}`.
#[derive(Debug)]
pub struct Out<T> {
    task: String,
    name: String,
    ty: PhantomData<T>,
}

impl<T> Clone for Out<T> {
    fn clone(&self) -> Self {
        Out { task: self.task.clone(), name: self.name.clone(), ty: PhantomData }
    }
}

impl<T> fmt::Display for Out<T> {
    /// `{{tasks.TASK.outputs.NAME}}`, for conditions and formatted strings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{{tasks.{}.outputs.{}}}}}", self.task, self.name)
    }
}

impl<T> From<&Out<T>> for Source {
    fn from(o: &Out<T>) -> Source {
        Source(Value::String(o.to_string()))
    }
}

/// A loop's item (`{{item}}`, or `{{NAME}}` for a loop that names it), and its fields.
#[derive(Clone, Debug)]
pub struct Item {
    var: String,
}

impl Item {
    /// Field `name` of a dict item: `{{item.name}}`.
    pub fn field(&self, name: &str) -> Source {
        Source(Value::String(format!("{{{{{}.{name}}}}}", self.var)))
    }
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{{{}}}}}", self.var)
    }
}

impl From<&Item> for Source {
    fn from(i: &Item) -> Source {
        Source(Value::String(i.to_string()))
    }
}

/// A source that can feed an input of type `T` (checked by the compiler): literals, parameters
/// and outputs of type `T`, and ints for floats.
pub trait SourceOf<T>: Into<Source> {}
impl<T> SourceOf<T> for &ParamRef<T> {}
impl<T> SourceOf<T> for &Out<T> {}
impl SourceOf<f64> for &ParamRef<i64> {}
impl SourceOf<f64> for &Out<i64> {}
impl SourceOf<String> for &str {}
impl SourceOf<String> for String {}
impl SourceOf<i64> for i64 {}
impl SourceOf<f64> for f64 {}
impl SourceOf<f64> for i64 {}
impl SourceOf<bool> for bool {}

/// A component declared in the pipeline.
#[derive(Clone, Debug)]
pub struct ComponentHandle {
    name: String,
}

/// A task created by the builder: use it to read its outputs, order other tasks after it, or
/// make it an exit task.
#[derive(Clone, Debug)]
pub struct TaskHandle {
    id: usize,
    name: String,
}

impl TaskHandle {
    /// The task's name (unique in the pipeline).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its output `name`, of type `T`.
    pub fn output_of<T>(&self, name: &str) -> Out<T> {
        Out { task: self.name.clone(), name: name.into(), ty: PhantomData }
    }

    /// Its output named `output` (KFP's `.output`), of type `T`.
    pub fn output<T>(&self) -> Out<T> {
        self.output_of("output")
    }
}

/// One place steps go: the pipeline or a group's body.
#[derive(Default)]
struct Frame {
    items: Vec<Pending>,
}

/// A step under construction: tasks stay in the arena until `build`, so handles can still
/// change them.
enum Pending {
    Task(usize),
    Exit { name: Option<String>, exit: usize, body: Vec<Pending> },
    If { name: Option<String>, condition: String, body: Vec<Pending> },
    Elif { name: Option<String>, condition: String, body: Vec<Pending> },
    Else { name: Option<String>, body: Vec<Pending> },
    Loop { spec: LoopSpec, body: Vec<Pending> },
}

/// What a `parallel_for` needs besides its steps.
#[derive(Clone, Debug, Default)]
pub struct LoopSpec {
    /// The group's name (default `for-loop-N`).
    pub name: Option<String>,
    /// The items: a literal list, or a list parameter or output.
    pub items: Value,
    /// The item's name (default `item`).
    pub var: Option<String>,
    /// At most this many iterations at once.
    pub parallelism: Option<u32>,
    /// Stop starting iterations after one fails.
    pub fail_fast: bool,
}

/// Builds a pipeline in code; see the module documentation.
pub struct PipelineBuilder {
    pipeline: model::Pipeline,
    tasks: Vec<Task>,
    /// The frame each task was created in (its index in `frames` at the time).
    created_in: Vec<usize>,
    /// Open frames: the pipeline's steps, then each group being filled.
    frames: Vec<Frame>,
    /// Mistakes found while building, reported by `build`.
    errors: Vec<String>,
    /// Exit tasks already given to a handler.
    exits: HashSet<usize>,
    /// Frame ids, so that "created in the frame that holds the handler" can be checked.
    frame_ids: Vec<usize>,
    next_frame: usize,
}

impl PipelineBuilder {
    /// A pipeline called `name`, with nothing in it.
    pub fn new(name: &str) -> PipelineBuilder {
        PipelineBuilder {
            pipeline: model::Pipeline::empty(name),
            tasks: Vec::new(),
            created_in: Vec::new(),
            frames: vec![Frame::default()],
            errors: Vec::new(),
            exits: HashSet::new(),
            frame_ids: vec![0],
            next_frame: 1,
        }
    }

    /// Sets the pipeline's description.
    pub fn description(&mut self, text: &str) -> &mut Self {
        self.pipeline.description = text.into();
        self
    }

    /// A parameter with a default (overridable with `-p name=value`).
    pub fn param<T: HasValueType + Into<Value>>(&mut self, name: &str, default: T) -> ParamRef<T> {
        self.declare_param(name, T::TYPE, Some(default.into()))
    }

    /// A parameter without a default: a run must give it.
    pub fn required_param<T: HasValueType>(&mut self, name: &str) -> ParamRef<T> {
        self.declare_param(name, T::TYPE, None)
    }

    fn declare_param<T>(&mut self, name: &str, ty: ValueType, default: Option<Value>) -> ParamRef<T> {
        let param = Param { ty, default, description: String::new(), kind: None, directory: None };
        if self.pipeline.params.insert(name.into(), param).is_some() {
            self.errors.push(format!("parameter `{name}` is declared twice"));
        }
        ParamRef { name: name.into(), ty: PhantomData }
    }

    /// A component: the `.wasm` (or `.wat`) file at `path`, relative to where the pipeline file
    /// will be (or to the base directory given to `prepare_pipeline`).
    pub fn component(&mut self, name: &str, path: &str) -> ComponentHandle {
        self.declare_component(
            name,
            ComponentRef { path: Some(path.into()), pipeline: None, command: None, build: None },
        )
    }

    /// A sub-pipeline: the pipeline file at `path`, used as a component.
    pub fn sub_pipeline(&mut self, name: &str, path: &str) -> ComponentHandle {
        self.declare_component(
            name,
            ComponentRef { path: None, pipeline: Some(path.into()), command: None, build: None },
        )
    }

    /// A component declared in full (a WASI command, a `build:`).
    pub fn declare_component(&mut self, name: &str, spec: ComponentRef) -> ComponentHandle {
        if self.pipeline.components.insert(name.into(), spec).is_some() {
            self.errors.push(format!("component `{name}` is declared twice"));
        }
        ComponentHandle { name: name.into() }
    }

    /// A task running `component`, named like KFP names it: the component's name with `_`
    /// turned into `-`, and `-2`, `-3`, ... for later tasks of the same component.
    pub fn task(&mut self, component: &ComponentHandle) -> TaskMut<'_> {
        let base = component.name.replace('_', "-");
        let mut name = base.clone();
        let mut n = 1;
        while self.tasks.iter().any(|t| t.task == name) {
            n += 1;
            name = format!("{base}-{n}");
        }
        self.named_task(&name, component)
    }

    /// A task called `name` running `component`.
    pub fn named_task(&mut self, name: &str, component: &ComponentHandle) -> TaskMut<'_> {
        let id = self.tasks.len();
        self.tasks.push(Task {
            task: name.into(),
            component: component.name.clone(),
            inputs: IndexMap::new(),
            after: Vec::new(),
            timeout: None,
            memory: None,
            fuel: None,
            artifact_limit: None,
            ignore_upstream_failure: false,
            cache: None,
            retries: None,
            backoff: None,
            env: IndexMap::new(),
            host_env: Vec::new(),
            dirs: IndexMap::new(),
        });
        self.created_in.push(*self.frame_ids.last().expect("the pipeline's frame"));
        self.frames.last_mut().expect("the pipeline's frame").items.push(Pending::Task(id));
        TaskMut { builder: self, id }
    }

    /// Changes a task created earlier (to bind a body output to its exit task, say).
    pub fn with_task(&mut self, task: &TaskHandle) -> TaskMut<'_> {
        TaskMut { builder: self, id: task.id }
    }

    /// Binds output `source` of a body task to input `input` of exit task `exit`
    /// (`docs/semantics.md`, rule 6): the input must be optional, since the body task may fail and
    /// produce nothing.
    pub fn exit_input(&mut self, exit: &TaskHandle, input: &str, source: impl Into<Source>) -> &mut Self {
        self.with_task(exit).input(input, source);
        self
    }

    fn group(&mut self, fill: impl FnOnce(&mut Self)) -> Vec<Pending> {
        self.frames.push(Frame::default());
        self.frame_ids.push(self.next_frame);
        self.next_frame += 1;
        fill(self);
        self.frame_ids.pop();
        self.frames.pop().expect("pushed above").items
    }

    fn push(&mut self, item: Pending) {
        self.frames.last_mut().expect("the pipeline's frame").items.push(item);
    }

    /// An exit handler (KFP's `with dsl.ExitHandler(exit_task, name)`): `exit_task`, created
    /// before, runs after every task `body` creates, however they ended. Handlers nest.
    pub fn exit_handler(&mut self, exit_task: TaskHandle, name: Option<&str>, body: impl FnOnce(&mut Self)) {
        let here = *self.frame_ids.last().expect("the pipeline's frame");
        if !self.exits.insert(exit_task.id) {
            self.errors.push(format!(
                "task `{}` is the exit task of two exit handlers; create one exit task per handler",
                exit_task.name
            ));
        } else if self.created_in[exit_task.id] != here {
            self.errors.push(format!(
                "exit task `{}` must be created in the group that holds its exit handler, before the handler (as in KFP)",
                exit_task.name
            ));
        }
        // The exit task leaves the steps: it is the group's.
        let frame = self.frames.last_mut().expect("the pipeline's frame");
        frame.items.retain(|i| !matches!(i, Pending::Task(t) if *t == exit_task.id));
        let body = self.group(body);
        self.push(Pending::Exit { name: name.map(String::from), exit: exit_task.id, body });
    }

    /// A branch that runs when `condition` holds (KFP's `dsl.If`), like
    /// `format!("{} == 'heads'", flip.output::<String>())`.
    pub fn if_(&mut self, condition: impl fmt::Display, name: Option<&str>, body: impl FnOnce(&mut Self)) {
        let body = self.group(body);
        self.push(Pending::If { name: name.map(String::from), condition: condition.to_string(), body });
    }

    /// A branch that runs when the `if` and `elif`s just before it did not and `condition`
    /// holds (KFP's `dsl.Elif`).
    pub fn elif(&mut self, condition: impl fmt::Display, name: Option<&str>, body: impl FnOnce(&mut Self)) {
        self.check_follows_branch("elif");
        let body = self.group(body);
        self.push(Pending::Elif { name: name.map(String::from), condition: condition.to_string(), body });
    }

    /// A branch that runs when the `if` and `elif`s just before it did not (KFP's `dsl.Else`).
    pub fn else_(&mut self, name: Option<&str>, body: impl FnOnce(&mut Self)) {
        self.check_follows_branch("else");
        let body = self.group(body);
        self.push(Pending::Else { name: name.map(String::from), body });
    }

    fn check_follows_branch(&mut self, what: &str) {
        let last = self.frames.last().and_then(|f| f.items.last());
        if !matches!(last, Some(Pending::If { .. } | Pending::Elif { .. })) {
            self.errors.push(format!("`{what}` must come right after an `if` or an `elif`"));
        }
    }

    /// A loop (KFP's `dsl.ParallelFor`): `body` gets the item and creates the steps of one
    /// iteration.
    pub fn parallel_for(&mut self, spec: LoopSpec, body: impl FnOnce(&mut Self, Item)) {
        let item = Item { var: spec.var.clone().unwrap_or_else(|| "item".into()) };
        let body = self.group(|p| body(p, item));
        self.push(Pending::Loop { spec, body });
    }

    /// A pipeline output: `name` is what `source` (a task output) produced.
    pub fn output(&mut self, name: &str, source: impl Into<Source>) -> &mut Self {
        self.pipeline.outputs.insert(name.into(), source.into().into_value());
        self
    }

    /// Sets pipeline-wide options: the run's deadline, caching, parallelism, retries.
    pub fn options(&mut self) -> &mut model::Pipeline {
        &mut self.pipeline
    }

    /// The pipeline, or every mistake found while building it.
    pub fn build(self) -> Result<model::Pipeline, BuildError> {
        let PipelineBuilder { mut pipeline, tasks, mut frames, mut errors, .. } = self;
        let mut seen = HashSet::new();
        for t in &tasks {
            if !seen.insert(t.task.as_str()) {
                errors.push(format!("task name `{}` is used twice; give one another name", t.task));
            }
        }
        let root = frames.pop().expect("the pipeline's frame").items;
        check_exit_use(&root, &tasks, &mut errors);
        if !errors.is_empty() {
            return Err(BuildError { errors });
        }
        pipeline.steps = steps(root, &tasks);
        Ok(pipeline)
    }
}

/// Reports exit tasks that a task of their own body depends on (an exit task runs after it).
fn check_exit_use(items: &[Pending], tasks: &[Task], errors: &mut Vec<String>) {
    for item in items {
        match item {
            Pending::Task(_) => {}
            Pending::Exit { exit, body, .. } => {
                let exit_name = &tasks[*exit].task;
                let marker = format!("{{{{tasks.{exit_name}.");
                for t in body_tasks(body) {
                    let task = &tasks[t];
                    let reads = task.inputs.values().any(|v| v.to_string().contains(&marker));
                    if reads || task.after.iter().any(|a| a == exit_name) {
                        errors.push(format!(
                            "exit task `{exit_name}` is used inside its own body, by task `{}`: an exit task runs after its body, so nothing in the body can wait for it",
                            task.task
                        ));
                    }
                }
                check_exit_use(body, tasks, errors);
            }
            Pending::If { body, .. }
            | Pending::Elif { body, .. }
            | Pending::Else { body, .. }
            | Pending::Loop { body, .. } => check_exit_use(body, tasks, errors),
        }
    }
}

fn body_tasks(items: &[Pending]) -> Vec<usize> {
    let mut out = Vec::new();
    for item in items {
        match item {
            Pending::Task(t) => out.push(*t),
            Pending::Exit { exit, body, .. } => {
                out.push(*exit);
                out.extend(body_tasks(body));
            }
            Pending::If { body, .. }
            | Pending::Elif { body, .. }
            | Pending::Else { body, .. }
            | Pending::Loop { body, .. } => out.extend(body_tasks(body)),
        }
    }
    out
}

fn steps(items: Vec<Pending>, tasks: &[Task]) -> Vec<Step> {
    items
        .into_iter()
        .map(|item| match item {
            Pending::Task(t) => Step::Task(tasks[t].clone()),
            Pending::Exit { name, exit, body } => Step::ExitHandler(ExitHandlerStep {
                exit_handler: ExitHandler { name, exit: tasks[exit].clone(), steps: steps(body, tasks) },
            }),
            Pending::If { name, condition, body } => {
                Step::If(IfStep { branch: Branch { name, condition, steps: steps(body, tasks) } })
            }
            Pending::Elif { name, condition, body } => {
                Step::Elif(ElifStep { elif: Branch { name, condition, steps: steps(body, tasks) } })
            }
            Pending::Else { name, body } => {
                Step::Else(ElseStep { branch: ElseBranch { name, steps: steps(body, tasks) } })
            }
            Pending::Loop { spec, body } => Step::ParallelFor(ParallelForStep {
                parallel_for: ParallelFor {
                    name: spec.name,
                    items: spec.items,
                    var: spec.var,
                    parallelism: spec.parallelism,
                    fail_fast: spec.fail_fast,
                    steps: steps(body, tasks),
                },
            }),
        })
        .collect()
}

/// Mistakes found by [`PipelineBuilder::build`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the pipeline has mistakes:\n  {}", errors.join("\n  "))]
pub struct BuildError {
    /// One message per mistake, each naming the task, parameter or component.
    pub errors: Vec<String>,
}

/// A task being set up; [`TaskMut::handle`] ends the setup and keeps a handle.
pub struct TaskMut<'a> {
    builder: &'a mut PipelineBuilder,
    id: usize,
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
