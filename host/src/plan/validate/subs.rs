//! Tasks that run a sub-pipeline (`docs/semantics.md`, rule 12, groups): a sub-pipeline sets no
//! `deadline`; the task sets no task options (`retries`, `timeout`, `env`, ...: they mean
//! nothing for a group of tasks); the task's inputs name parameters of the sub-pipeline and fit
//! their types, every parameter without a default is bound, and its `after` entries name tasks
//! of its pipeline.

use super::{Bound, Checker, Reader, list_or_none};
use crate::model::binding::Binding;
use crate::model::component::Signature;
use crate::model::suggest::did_you_mean;
use crate::plan::{GroupIdx, PlanInput, SubInfo};

impl<C: AsRef<Signature>> Checker<'_, C> {
    /// Checks tasks that run a sub-pipeline: their inputs against the sub-pipeline's parameters
    /// (names, types, required ones bound), and what a sub-pipeline may not set.
    pub(super) fn subs(&mut self) {
        let plan = self.plan;
        for g in plan.groups.indices() {
            let Some(sub) = &plan.groups[g].sub else { continue };
            let inner = &plan.scopes[sub.scope].pipeline;
            if inner.deadline.is_some() {
                self.error(sub.scope, "deadline", format!("sub-pipeline `{}` sets `deadline`, which applies to a whole run only; set it on the top-level pipeline or with `--deadline`", inner.name));
            }
            for option in &sub.options {
                let group = &plan.groups[g];
                let top = if matches!(*option, "retries" | "backoff" | "cache") {
                    format!(", or at the top of `{}` for all of them", inner.name)
                } else {
                    String::new()
                };
                self.error(
                    group.scope,
                    &format!("{}.{option}", group.doc_path),
                    format!("task `{}` runs sub-pipeline `{}`, where `{option}` has no meaning: set it on the sub-pipeline's tasks{top}", group.name, inner.name),
                );
            }
            for input in &sub.inputs {
                self.sub_input(g, sub, input);
            }
            self.unbound_params(g, sub);
            let group = &plan.groups[g];
            for after in &sub.after {
                if plan.lookup(group.scope, after).is_none() {
                    self.error(
                        group.scope,
                        &format!("{}.after", group.doc_path),
                        format!(
                            "`after: {after}` names no task of this pipeline{}",
                            did_you_mean(after, plan.task_names(group.scope))
                        ),
                    );
                }
            }
        }
    }

    /// Checks input `input` of sub-pipeline task `g` (which runs `sub`): its binding and what it
    /// references, a parameter of the sub-pipeline that it names, and that it fits its type.
    fn sub_input(&mut self, g: GroupIdx, sub: &SubInfo, input: &PlanInput) {
        let group = &self.plan.groups[g];
        let inner = &self.plan.scopes[sub.scope].pipeline;
        let path = format!("{}.inputs.{}", group.doc_path, input.name);
        let Some(binding) = self.input_binding(group.scope, &path, &group.name, input) else { return };
        let at = Reader {
            scope: group.scope,
            from: group.parent.unwrap_or(GroupIdx::ROOT),
            task: None,
            items: false,
            path: &path,
        };
        if let Binding::OneOf(_) = binding {
            self.error(group.scope, &path, "`one_of` binds task inputs and pipeline outputs, not a sub-pipeline's parameters; bind it to a task input inside the sub-pipeline's caller instead".into());
            return;
        }
        let got = self.binding_type(at, binding);
        let Some(param) = inner.params.get(&input.name) else {
            if self.plan.scopes[sub.scope].unread {
                return;
            }
            let known: Vec<&str> = inner.params.keys().map(String::as_str).collect();
            let message = format!(
                "sub-pipeline `{}` (component `{}`) has no parameter `{}`{}; its parameters are: {}",
                inner.name,
                sub.component,
                input.name,
                did_you_mean(&input.name, known.iter().copied()),
                list_or_none(&known)
            );
            self.error(group.scope, &path, message);
            return;
        };
        let usage = if param.default == Some(serde_json::Value::Null) {
            super::nullable::Use::Absent
        } else {
            super::nullable::Use::SubParam { param: &input.name }
        };
        self.check_nullable(at, binding, usage);
        self.check_input_type(&Bound { at, input: &input.name, task: &group.name, binding, got }, param.ty);
    }

    /// Reports the parameters of the sub-pipeline that task `g` runs (`sub`) that have no default
    /// and that the task does not bind.
    fn unbound_params(&mut self, g: GroupIdx, sub: &SubInfo) {
        let group = &self.plan.groups[g];
        let inner = &self.plan.scopes[sub.scope].pipeline;
        for (param, spec) in &inner.params {
            if spec.default.is_none() && !sub.inputs.iter().any(|i| &i.name == param) {
                self.error(
                    group.scope,
                    &format!("{}.inputs", group.doc_path),
                    format!(
                        "task `{}` does not bind parameter `{param}` ({}) of sub-pipeline `{}`, which has no default",
                        group.name, spec.ty, inner.name
                    ),
                );
            }
        }
    }
}
