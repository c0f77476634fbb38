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

use crate::model::value::ValueType;
use crate::model::{
    self, Branch, ComponentRef, ElifStep, ElseBranch, ElseStep, ExitHandler, ExitHandlerStep, IfStep, ParallelFor,
    ParallelForStep, Param, Step, Task,
};

mod sources;
mod task;
pub use sources::*;
pub use task::TaskMut;

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
            ComponentRef { path: Some(path.into()), pipeline: None, max_depth: None, command: None, build: None },
        )
    }

    /// A sub-pipeline: the pipeline file at `path`, used as a component.
    pub fn sub_pipeline(&mut self, name: &str, path: &str) -> ComponentHandle {
        self.declare_component(
            name,
            ComponentRef { path: None, pipeline: Some(path.into()), max_depth: None, command: None, build: None },
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
            value_limit: None,
            loop_item_limit: None,
            ignore_upstream_failure: false,
            cache: None,
            retries: None,
            backoff: None,
            env: IndexMap::new(),
            host_env: Vec::new(),
            dirs: IndexMap::new(),
            network: None,
            host: Vec::new(),
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
                exit_handler: ExitHandler {
                    name,
                    exit: tasks[exit].clone(),
                    fail_fast: false,
                    steps: steps(body, tasks),
                },
            }),
            Pending::If { name, condition, body } => {
                Step::If(IfStep { branch: Branch { name, condition, fail_fast: false, steps: steps(body, tasks) } })
            }
            Pending::Elif { name, condition, body } => {
                Step::Elif(ElifStep { elif: Branch { name, condition, fail_fast: false, steps: steps(body, tasks) } })
            }
            Pending::Else { name, body } => {
                Step::Else(ElseStep { branch: ElseBranch { name, fail_fast: false, steps: steps(body, tasks) } })
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
