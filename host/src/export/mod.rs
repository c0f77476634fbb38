//! Pipelines for other engines: the same pipeline file, run where the user's cluster is.
//! [`kfp`] writes Kubeflow Pipelines' IR. What an engine cannot express is refused with the
//! construct and its place, never dropped. What the targets share is here: the runner image's
//! options, what each component is, a refusal, and walks over a pipeline's steps.

use crate::model::binding::{Binding, Ref};
use crate::model::component::Signature;
use crate::model::{Step, Task};
use std::collections::BTreeSet;

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
}

/// A construct the engine cannot hold, or the export does not map yet: where it is and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Where in the pipeline file (`steps[1].parallel_for`).
    pub path: String,
    /// What cannot be exported, and what to do.
    pub message: String,
}

/// Every reference read in `steps`, nested groups included: by the tasks' inputs and by the
/// conditions of the branches.
pub(crate) fn reads(steps: &[Step]) -> BTreeSet<Ref> {
    let bindings =
        steps.iter().flat_map(Step::tasks).flat_map(|t| t.inputs.values()).filter_map(|v| Binding::parse(v).ok());
    let mut refs: BTreeSet<Ref> = bindings.flat_map(|b| b.refs().into_iter().cloned().collect::<Vec<_>>()).collect();
    conditions_read(steps, &mut refs);
    refs
}

/// Adds the references the conditions of the branches in `steps` read, nested ones included.
fn conditions_read(steps: &[Step], refs: &mut BTreeSet<Ref>) {
    for step in steps {
        match step {
            Step::If(b) => {
                if let Ok(expr) = crate::model::condition::Expr::parse(&b.branch.condition) {
                    refs.extend(expr.refs().into_iter().cloned());
                }
                conditions_read(&b.branch.steps, refs);
            }
            Step::ExitHandler(e) => conditions_read(&e.exit_handler.steps, refs),
            _ => {}
        }
    }
}

/// The names of the tasks in `steps`, nested groups included.
pub(crate) fn task_names(steps: &[Step]) -> BTreeSet<String> {
    steps.iter().flat_map(Step::tasks).map(|t| t.task.clone()).collect()
}

/// Task `name`, anywhere in `steps`.
pub(crate) fn find_task<'a>(steps: &'a [Step], name: &str) -> Option<&'a Task> {
    steps.iter().flat_map(Step::tasks).find(|t| t.task == name)
}
