//! Validation before anything runs (`docs/semantics.md`, rule 12): names, references, types,
//! required inputs, cycles, parameters and components. Every problem becomes a [`Diagnostic`] that
//! names the file, the place and the fix; all of them are reported at once.
//!
//! [`resolve_params`] checks the run's parameter values (`params.rs`). [`validate`] checks the
//! plan, one concern per module, in the order the report lists the problems: names and
//! declarations (`names.rs`), components that do not load (`components.rs`), WASI command
//! declarations (`commands.rs`), pipeline outputs (`outputs.rs`), each task (`tasks.rs`, its host
//! grants in `grants.rs`), conditions (`branches.rs`), loops (`loops.rs`), sub-pipeline tasks
//! (`subs.rs`) and cycles (`cycles.rs`). A binding's type comes from `types.rs`, which also checks
//! that it fits its input, and what each of its references reaches from `references.rs`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::{GroupIdx, Plan, PlanInput, ScopeIdx, TaskIdx};
use crate::model::binding::Binding;
use crate::model::component::{LoadError, Signature};
use crate::model::diag::Diagnostic;
use crate::model::value::ValueType;

mod branches;
mod commands;
mod components;
mod cycles;
mod grants;
mod loops;
mod names;
mod nullable;
mod one_of;
mod outputs;
mod params;
mod references;
mod subs;
mod tasks;
mod types;

pub(crate) use params::resolve_params;

/// Components by scope and name, loaded (anything that has a [`Signature`]) or with their
/// load error.
pub(crate) type Components<C> = HashMap<(ScopeIdx, String), Result<Arc<C>, LoadError>>;

/// What validation found.
#[derive(Debug, Default)]
pub(crate) struct Report {
    /// Problems that stop the run before it starts.
    pub(crate) errors: Vec<Diagnostic>,
    /// Body components that do not load: `validate` reports them, `run` lets their tasks
    /// fail with kind `load` and runs the exit handlers.
    pub(crate) load_failures: Vec<Diagnostic>,
    /// The pipeline's outputs whose declared type is an artifact (what `--export` copies).
    pub(crate) artifact_outputs: Vec<String>,
}

/// Checks `plan` (the pipeline file and the sub-pipelines it uses) against its components.
pub(crate) fn validate<C: AsRef<Signature>>(plan: &Plan, components: &Components<C>, report: &mut Report) {
    report.errors.extend(plan.errors.iter().cloned());
    let mut check = Checker { plan, components, report, output_types: HashMap::new() };
    check.names();
    check.components();
    check.commands();
    // Inner scopes first: a sub-pipeline's output types are known before its readers are checked.
    for s in plan.scopes.indices().rev() {
        check.outputs(s);
    }
    for t in plan.tasks.indices() {
        check.task(t);
    }
    check.branches();
    check.loops();
    check.subs();
    check.cycles();
    check.artifact_outputs();
    // A sub-pipeline used twice is checked twice; report each problem once.
    let mut seen = HashSet::new();
    report.errors.retain(|d| seen.insert((d.file.clone(), d.path.clone(), d.message.clone())));
}

/// What the rules share: the plan, its components, the report that collects the problems, and
/// the types of the pipeline outputs checked so far. Each rule is a method that takes the scope,
/// task or group it checks.
struct Checker<'a, C> {
    plan: &'a Plan,
    components: &'a Components<C>,
    report: &'a mut Report,
    /// The type of each sub-pipeline output, by scope and name (None: unknown).
    output_types: HashMap<(ScopeIdx, String), Option<ValueType>>,
}

/// Who reads a binding, and where: what its references resolve in and may reach.
#[derive(Clone, Copy)]
struct Reader<'p> {
    /// The scope its names resolve in; its problems are reported in that scope's file.
    scope: ScopeIdx,
    /// The group it is read from: a loop around a producer but not around this group makes the
    /// producer's output a list (fan-in).
    from: GroupIdx,
    /// The task that reads it; None for pipeline outputs, conditions, loop items and the inputs
    /// of sub-pipeline tasks.
    task: Option<TaskIdx>,
    /// Whether it is a loop's items (which may be artifacts collected over one loop, one per
    /// iteration).
    items: bool,
    /// Where the binding is in the file.
    path: &'p str,
}

/// A binding of an input of a task, with the type of what it passes, as checked against the
/// input's type.
struct Bound<'b> {
    /// Who reads the binding and where it is.
    at: Reader<'b>,
    /// The input's name.
    input: &'b str,
    /// The task's name (or the sub-pipeline task's).
    task: &'b str,
    /// The binding.
    binding: &'b Binding,
    /// The type of what the binding passes, where known.
    got: Option<ValueType>,
}

impl<'a, C: AsRef<Signature>> Checker<'a, C> {
    /// Reports a problem at `path` in the file of scope `scope`.
    fn error(&mut self, scope: ScopeIdx, path: &str, message: String) {
        if self.plan.scopes[scope].beyond {
            return;
        }
        let d = self.plan.scopes[scope].source.error(path, message);
        self.report.errors.push(d);
    }

    /// The binding of input `input` of task `task` (written at `path` in `scope`), or None
    /// after reporting why it does not parse.
    fn input_binding<'p>(
        &mut self,
        scope: ScopeIdx,
        path: &str,
        task: &str,
        input: &'p PlanInput,
    ) -> Option<&'p Binding> {
        match &input.binding {
            Ok(binding) => Some(binding),
            Err(e) => {
                self.error(scope, path, format!("input `{}` of task `{task}`: {e}", input.name));
                None
            }
        }
    }

    /// The signature of the component of task `t`, if it loaded.
    fn signature(&self, t: TaskIdx) -> Option<&'a Signature> {
        let (task, components) = (&self.plan.tasks[t], self.components);
        match components.get(&(task.scope, task.component.clone())) {
            Some(Ok(c)) => Some(C::as_ref(c)),
            _ => None,
        }
    }
}

/// `names` quoted and separated by commas, or `none`.
fn list_or_none(names: &[&str]) -> String {
    if names.is_empty() { "none".into() } else { names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ") }
}
