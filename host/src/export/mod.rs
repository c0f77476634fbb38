//! Pipelines for other engines: the same pipeline file, run where the user's cluster is.
//! [`kfp`] writes Kubeflow Pipelines' IR, [`argo`] an Argo Workflows `Workflow`. What an engine
//! cannot express is refused with the construct and its place, never dropped. What the targets
//! share is here: the runner image's options, what each component is, a refusal, walks over a
//! pipeline's steps, and the `wasmpipe task-run` arguments of a task's limits.

use crate::model::binding::{Binding, Ref};
use crate::model::component::{PortType, Signature};
use crate::model::value::ValueType;
use crate::model::{Step, Task};
use std::collections::{BTreeMap, BTreeSet};

pub mod argo;
pub mod kfp;

/// What the executors of the exported pipeline run.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// The container image with `wasmpipe` and the components (see the `Containerfile`).
    pub image: String,
    /// Where the components are in the image.
    pub components_dir: String,
}

/// What a component of the pipeline is, for the export: its signature, its file's name and
/// its content digest.
#[derive(Clone, Debug)]
pub struct ComponentInfo {
    /// Its inputs and outputs.
    pub signature: Signature,
    /// The `.wasm` file's name (it sits in [`ExportOptions::components_dir`] in the image).
    pub file: String,
    /// `blake3:<hex>` of its content.
    pub digest: String,
    /// For a WASI command: how it runs and its interface, as the pipeline declares them
    /// (`task-run` is given them, since the `.wasm` does not say).
    pub command: Option<crate::model::CommandSpec>,
}

/// A pipeline file as an export reads it: the pipeline, what each of its task components is,
/// and the pipeline file each sub-pipeline component runs, read the same way.
#[derive(Clone, Debug)]
pub struct Document {
    /// The pipeline.
    pub pipeline: crate::model::Pipeline,
    /// Its task components (`.wasm` files), by component name.
    pub components: BTreeMap<String, ComponentInfo>,
    /// Its sub-pipeline components, by component name.
    pub subs: BTreeMap<String, Document>,
    /// The file, as the user named it (for refusals inside a sub-pipeline).
    pub file: String,
}

/// A construct the engine cannot hold, or the export does not map yet: where it is and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Where in the pipeline file (`steps[1].parallel_for`).
    pub path: String,
    /// What cannot be exported, and what to do.
    pub message: String,
}

/// Every reference read in `steps`, nested groups included: by the tasks' inputs, the
/// conditions of the branches and the items of the loops.
pub(crate) fn reads(steps: &[Step]) -> BTreeSet<Ref> {
    let bindings =
        steps.iter().flat_map(Step::tasks).flat_map(|t| t.inputs.values()).filter_map(|v| Binding::parse(v).ok());
    let mut refs: BTreeSet<Ref> = bindings.flat_map(|b| b.refs().into_iter().cloned().collect::<Vec<_>>()).collect();
    groups_read(steps, &mut refs);
    refs
}

/// Adds the references the groups in `steps` read themselves (branch conditions, loop items),
/// nested ones included.
fn groups_read(steps: &[Step], refs: &mut BTreeSet<Ref>) {
    let condition = |text: &str, refs: &mut BTreeSet<Ref>| {
        if let Ok(expr) = crate::model::condition::Expr::parse(text) {
            refs.extend(expr.refs().into_iter().cloned());
        }
    };
    for step in steps {
        match step {
            Step::If(b) => {
                condition(&b.branch.condition, refs);
                groups_read(&b.branch.steps, refs);
            }
            Step::Elif(b) => {
                condition(&b.elif.condition, refs);
                groups_read(&b.elif.steps, refs);
            }
            Step::Else(b) => groups_read(&b.branch.steps, refs),
            Step::ParallelFor(l) => {
                if let Ok(items) = Binding::parse(&l.parallel_for.items) {
                    refs.extend(items.refs().into_iter().cloned());
                }
                groups_read(&l.parallel_for.steps, refs);
            }
            Step::ExitHandler(e) => groups_read(&e.exit_handler.steps, refs),
            Step::Task(_) => {}
        }
    }
}

/// Every name that tasks in `steps` wait for with `after`, nested groups included.
pub(crate) fn afters(steps: &[Step]) -> BTreeSet<String> {
    steps.iter().flat_map(Step::tasks).flat_map(|t| t.after.iter().cloned()).collect()
}

/// How many loops in `steps` hold task `name` (0 when none, or it is not there).
pub(crate) fn loops_around(steps: &[Step], name: &str) -> usize {
    for step in steps {
        if !step.tasks().iter().any(|t| t.task == name) {
            continue;
        }
        return match step {
            Step::Task(_) => 0,
            Step::ParallelFor(l) => 1 + loops_around(&l.parallel_for.steps, name),
            Step::If(b) => loops_around(&b.branch.steps, name),
            Step::Elif(b) => loops_around(&b.elif.steps, name),
            Step::Else(b) => loops_around(&b.branch.steps, name),
            Step::ExitHandler(e) => loops_around(&e.exit_handler.steps, name),
        };
    }
    0
}

/// The names of the tasks in `steps`, nested groups included.
pub(crate) fn task_names(steps: &[Step]) -> BTreeSet<String> {
    steps.iter().flat_map(Step::tasks).map(|t| t.task.clone()).collect()
}

/// Task `name`, anywhere in `steps`.
pub(crate) fn find_task<'a>(steps: &'a [Step], name: &str) -> Option<&'a Task> {
    steps.iter().flat_map(Step::tasks).find(|t| t.task == name)
}

/// The type of value output `output` of task `task`, anywhere in `steps`; None when it is not
/// a value output of a known component.
pub(crate) fn output_type(
    steps: &[Step],
    components: &BTreeMap<String, ComponentInfo>,
    task: &str,
    output: &str,
) -> Option<ValueType> {
    let component = &find_task(steps, task)?.component;
    match components.get(component)?.signature.output(output)?.ty {
        PortType::Value(ty) => Some(ty),
        _ => None,
    }
}

/// A branch step's parts: its key in the file (`if`, `elif`, `else`), its `fail_fast`, its
/// steps and its condition (None for `else`); None for any other step.
pub(crate) fn branch_parts(step: &Step) -> Option<(&'static str, bool, &[Step], Option<&str>)> {
    match step {
        Step::If(b) => Some(("if", b.branch.fail_fast, &b.branch.steps, Some(&b.branch.condition))),
        Step::Elif(b) => Some(("elif", b.elif.fail_fast, &b.elif.steps, Some(&b.elif.condition))),
        Step::Else(b) => Some(("else", b.branch.fail_fast, &b.branch.steps, None)),
        _ => None,
    }
}

/// The host grants a task sets, by field: what neither engine's container spec can hold.
pub(crate) fn grants_set(task: &Task) -> [(&'static str, bool); 4] {
    [
        ("dirs", !task.dirs.is_empty()),
        ("host_env", !task.host_env.is_empty()),
        ("network", task.network.is_some()),
        ("host", !task.host.is_empty()),
    ]
}

/// The arguments of `wasmpipe task-run` that give a task its own limits and environment
/// (`--timeout`, `--memory`, `--fuel`, `--env NAME=VALUE`), as a target's container passes
/// them; task-run's defaults are `wasmpipe run`'s.
pub(crate) fn task_limit_args(task: &Task) -> Vec<String> {
    let mut args = Vec::new();
    if let Some(t) = &task.timeout {
        args.extend(["--timeout".to_string(), format!("{}ms", t.0.as_millis())]);
    }
    if let Some(m) = &task.memory {
        args.extend(["--memory".to_string(), m.0.to_string()]);
    }
    if let Some(f) = task.fuel {
        args.extend(["--fuel".to_string(), f.to_string()]);
    }
    for (k, v) in &task.env {
        args.extend(["--env".to_string(), format!("{k}={v}")]);
    }
    args
}
