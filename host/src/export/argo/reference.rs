//! Where a value a task reads comes from in its DAG: a workflow parameter, an input parameter
//! of the DAG template, or an output of a task of the same DAG.

use super::names::{channel_name, quoted};
use super::{Exit, Exporter, Local, Scope};
use crate::export::loops_around;
use crate::model::binding::Ref;

/// Where a value a task reads comes from, in its DAG.
pub(super) enum Source {
    /// A pipeline parameter (a workflow parameter, global).
    Param(String),
    /// An input parameter of the DAG template.
    Channel(String),
    /// An output of a task of the same DAG (its Argo name).
    Sibling { task: String, output: String },
}

impl Source {
    /// The simple tag Argo substitutes with the value.
    pub(super) fn tag(&self) -> String {
        match self {
            Source::Param(p) => format!("{{{{workflow.parameters.{p}}}}}"),
            Source::Channel(c) => format!("{{{{inputs.parameters.{c}}}}}"),
            Source::Sibling { task, output } => format!("{{{{tasks.{task}.outputs.parameters.{output}}}}}"),
        }
    }

    /// The value in an `expr` expression (a string).
    pub(super) fn expr(&self) -> String {
        match self {
            Source::Param(p) => format!("workflow.parameters[{}]", quoted(p)),
            Source::Channel(c) => format!("inputs.parameters[{}]", quoted(c)),
            Source::Sibling { task, output } => {
                format!("tasks[{}].outputs.parameters[{}]", quoted(task), quoted(output))
            }
        }
    }
}

impl Exporter<'_> {
    /// Where reference `r`, read in this DAG (by the exit task of `exit`, if given), comes
    /// from; why Argo cannot have it yet, if not.
    pub(super) fn reference(
        &self,
        r: &Ref,
        scope: &Scope,
        local: &Local<'_>,
        exit: Option<&Exit<'_>>,
    ) -> Result<Source, String> {
        match r {
            Ref::Param(p) => match scope.channels.get(r) {
                // A sub-pipeline's parameter: an input of its template, passed down.
                Some(channel) => Ok(Source::Channel(channel.clone())),
                None => Ok(Source::Param(p.clone())),
            },
            Ref::Output { task, output } => {
                if local.tasks.contains(task.as_str()) {
                    return Ok(Source::Sibling { task: task.replace('_', "-"), output: output.clone() });
                }
                if let Some(channel) = scope.channels.get(r) {
                    return Ok(Source::Channel(channel.clone()));
                }
                if exit.is_some_and(|e| e.body.contains(task)) {
                    return Err("an exit task reading an output of its body is not exported to Argo yet".to_string());
                }
                if local.exits.contains(task.as_str()) {
                    return Err("reading an output of an exit task is not exported to Argo yet (an exit hook's outputs are not its group's)".to_string());
                }
                // A group of this DAG holds it: the group's DAG template gives it as its output.
                match local.owner.get(task.as_str()) {
                    Some(owner) => Ok(Source::Sibling { task: owner.clone(), output: channel_name(task, output) }),
                    None => Err(format!("`{r}` cannot be read here in Argo")),
                }
            }
            Ref::Item { var, .. } => match scope.channels.get(r) {
                Some(channel) => Ok(Source::Channel(channel.clone())),
                None => Err(format!("`{r}` is read outside a loop whose item is `{var}`")),
            },
        }
    }

    /// Whether output `r`, read in this DAG, is a list collected over a loop: its task is in a
    /// loop inside a group of this DAG, or it arrives so from outside.
    pub(super) fn fan_in(&self, r: &Ref, scope: &Scope, local: &Local<'_>) -> bool {
        let Ref::Output { task, .. } = r else { return false };
        if local.tasks.contains(task.as_str()) {
            return false;
        }
        if local.owner.contains_key(task.as_str()) {
            return loops_around(local.steps, task) > 0;
        }
        scope.fan_in.contains(r)
    }
}
