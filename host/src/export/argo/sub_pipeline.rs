//! A task that runs a sub-pipeline: a DAG task calling a DAG template of the sub-pipeline's
//! own DAG (`sub-TASK`), its parameters as the template's input parameters and its outputs
//! as the template's outputs. Each use gets templates of its own, named after its task
//! (`sub-TASK-task-NAME`...), so that the wasmpipe ids its tasks see (`TASK/NAME`) are in
//! them. A pipeline that runs itself (`max_depth`) is refused.

use serde_json::json;

use super::task::Call;
use super::{Exporter, Local, Scope};
use crate::export::{Document, Refusal, find_task, loops_around, output_type};
use crate::model::Task;
use crate::model::binding::{Binding, Part, Ref};
use crate::model::value::{ValueType, as_text};

impl<'a> Exporter<'a> {
    /// Task `task` (at `path`), which runs sub-pipeline `sub`: the sub-pipeline's DAG template
    /// (added to the document) and how this DAG calls it. What the sub-pipeline refuses is
    /// reported at this task, with its place in the sub-pipeline's file.
    pub(super) fn sub_task(
        &mut self,
        task: &Task,
        sub: &'a Document,
        path: &str,
        scope: &Scope,
        local: &Local<'_>,
    ) -> Option<Call> {
        for (field, set) in [
            ("retries", task.retries.is_some()),
            ("backoff", task.backoff.is_some()),
            ("timeout", task.timeout.is_some()),
            ("memory", task.memory.is_some()),
            ("fuel", task.fuel.is_some()),
            ("env", !task.env.is_empty()),
            ("cache", task.cache.is_some()),
            ("dirs", !task.dirs.is_empty()),
            ("host_env", !task.host_env.is_empty()),
            ("network", task.network.is_some()),
            ("host", !task.host.is_empty()),
            ("artifact_limit", task.artifact_limit.is_some()),
            ("value_limit", task.value_limit.is_some()),
            ("loop_item_limit", task.loop_item_limit.is_some()),
        ] {
            if set {
                self.refuse(&format!("{path}.{field}"), format!("`{field}` on a task that runs a sub-pipeline is not exported to Argo; set it on the sub-pipeline's tasks"));
            }
        }
        for (field, set) in
            [("deadline", sub.pipeline.deadline.is_some()), ("parallelism", sub.pipeline.parallelism.is_some())]
        {
            if set {
                self.refuse(path, format!("sub-pipeline {} sets `{field}`, which Argo has no form for inside a workflow (a DAG template's `parallelism` bounds its own tasks, not the sub-pipeline's at every depth); remove it", sub.file));
            }
        }
        let (mut arguments, mut artifacts) = (Vec::new(), Vec::new());
        for (name, param) in &sub.pipeline.params {
            let at = format!("{path}.inputs.{name}");
            // An artifact parameter: an input artifact of the sub-pipeline's template.
            if param.ty == ValueType::Artifact {
                if let Some((_, argument)) = self.artifact_input(name, task.inputs.get(name), &at, scope, local) {
                    artifacts.push(argument);
                }
                continue;
            }
            let text = match task.inputs.get(name).map(Binding::parse) {
                None => match &param.default {
                    Some(default) if !default.is_null() => as_text(default),
                    _ => {
                        self.refuse(&at, format!("sub-pipeline parameter `{name}` has no value here (bind it)"));
                        continue;
                    }
                },
                Some(Ok(Binding::Literal(v))) => as_text(&v),
                Some(Ok(Binding::Ref(r))) => match self.reference(&r, scope, local, None) {
                    Ok(source) => source.tag(),
                    Err(e) => {
                        self.refuse(&at, e);
                        continue;
                    }
                },
                Some(Ok(Binding::Format(parts))) => {
                    let mut text = String::new();
                    for part in parts {
                        match part {
                            Part::Text(t) => text.push_str(&t),
                            Part::Ref(r) => match self.reference(&r, scope, local, None) {
                                Ok(source) => text.push_str(&source.tag()),
                                Err(e) => self.refuse(&at, e),
                            },
                        }
                    }
                    text
                }
                Some(Ok(Binding::OneOf(refs))) => match self.one_of_plan(&refs, scope, local) {
                    Ok(plan) => format!("{{{{={}}}}}", plan.expr),
                    Err(e) => {
                        self.refuse(&at, e);
                        continue;
                    }
                },
                Some(Err(e)) => {
                    self.refuse(&at, e);
                    continue;
                }
            };
            arguments.push(json!({"name": name, "value": text}));
        }
        let template = format!("{}sub-{}", self.template_prefix, task.task.replace('_', "-"));
        // The sub-pipeline's template goes before its tasks' templates.
        let slot = self.templates.len();
        self.templates.push(serde_json::Value::Null);
        let outer = (self.doc, self.pipeline, self.components);
        let names = std::mem::take(&mut self.names);
        let prefix = std::mem::replace(&mut self.template_prefix, format!("{template}-"));
        (self.doc, self.pipeline, self.components) = (sub, &sub.pipeline, &sub.components);
        let before = self.refusals.len();
        let dag = self.pipeline_template(&template, true, format!("{}{}/", scope.id, task.task));
        (self.doc, self.pipeline, self.components) = outer;
        self.names = names;
        self.template_prefix = prefix;
        for refusal in &mut self.refusals[before..] {
            *refusal = Refusal {
                path: path.to_string(),
                message: format!("in sub-pipeline {}, at `{}`: {}", sub.file, refusal.path, refusal.message),
            };
        }
        self.templates[slot] = dag;
        Some(Call { template, arguments, artifacts })
    }

    /// The type of value output `output` of task `task` of the pipeline being written; of a
    /// task that runs a sub-pipeline, the type of the sub-pipeline's output (a list when it is
    /// collected over a loop in there).
    pub(super) fn output_type(&self, task: &str, output: &str) -> Option<ValueType> {
        doc_output_type(self.doc, task, output)
    }
}

/// The type of value output `output` of task `task` of `doc` (see [`Exporter::output_type`]).
fn doc_output_type(doc: &Document, task: &str, output: &str) -> Option<ValueType> {
    let component = &find_task(&doc.pipeline.steps, task)?.component;
    let Some(sub) = doc.subs.get(component) else {
        return output_type(&doc.pipeline.steps, &doc.components, task, output);
    };
    match Binding::parse(sub.pipeline.outputs.get(output)?) {
        Ok(Binding::Ref(Ref::Output { task, .. })) if loops_around(&sub.pipeline.steps, &task) > 0 => {
            Some(ValueType::List)
        }
        Ok(Binding::Ref(Ref::Output { task, output })) => doc_output_type(sub, &task, &output),
        _ => None,
    }
}
