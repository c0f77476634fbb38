//! Tasks (`docs/semantics.md`, rule 12, names and bindings): a component declared under
//! `components`, `after` entries that name another task of the pipeline, inputs that the
//! component has, every required input bound, and no required input that may get no value: from
//! a body task, for an exit task (rule 6), or from any producer, for a task that ignores upstream
//! failures (rule 9).

use super::{Bound, Checker, Reader, list_or_none};
use crate::model::binding::Ref;
use crate::model::component::{PortType, Signature};
use crate::model::suggest::did_you_mean;
use crate::plan::{PlanInput, TaskIdx};

impl<C: AsRef<Signature>> Checker<'_, C> {
    /// Checks task `t`: its component, its `after`, what it is granted of the host, and its inputs
    /// against its component's signature.
    pub(super) fn task(&mut self, t: TaskIdx) {
        let plan = self.plan;
        self.task_component(t);
        self.task_after(t);
        self.grants(t);
        let signature = self.signature(t);
        for input in &plan.tasks[t].inputs {
            self.task_input(t, input, signature);
        }
        if let Some(sig) = signature {
            self.required_inputs(t, sig);
        }
    }

    /// Reports a task whose component its pipeline does not declare.
    fn task_component(&mut self, t: TaskIdx) {
        let task = &self.plan.tasks[t];
        let declared = &self.plan.scopes[task.scope].pipeline.components;
        if declared.contains_key(&task.component) {
            return;
        }
        let known: Vec<&str> = declared.keys().map(String::as_str).collect();
        let message = format!(
            "task `{}` uses component `{}`, which is not declared under `components`{}; declared: {}",
            task.name,
            task.component,
            did_you_mean(&task.component, known.iter().copied()),
            list_or_none(&known)
        );
        self.error(task.scope, &format!("{}.component", task.doc_path), message);
    }

    /// Reports the `after` entries of task `t` that name the task itself or no task of its
    /// pipeline.
    fn task_after(&mut self, t: TaskIdx) {
        let plan = self.plan;
        let task = &plan.tasks[t];
        let path = format!("{}.after", task.doc_path);
        for after in &task.after {
            if after == &task.name {
                self.error(task.scope, &path, format!("task `{after}` cannot run after itself"));
            } else if plan.lookup(task.scope, after).is_none() {
                let hint = did_you_mean(after, plan.task_names(task.scope));
                self.error(task.scope, &path, format!("`after: {after}` names no task of this pipeline{hint}"));
            }
        }
    }

    /// Checks input `input` of task `t`: its binding and what it references, and, when the
    /// component loaded (`sig`), that the component has the input and the binding fits it.
    fn task_input(&mut self, t: TaskIdx, input: &PlanInput, sig: Option<&Signature>) {
        let task = &self.plan.tasks[t];
        let path = format!("{}.inputs.{}", task.doc_path, input.name);
        let Some(binding) = self.input_binding(task.scope, &path, &task.name, input) else { return };
        let at = Reader { scope: task.scope, from: task.group, task: Some(t), items: false, path: &path };
        if !self.check_one_of(at, binding) {
            return;
        }
        let got = self.binding_type(at, binding);
        let Some(sig) = sig else { return };
        let Some(spec) = sig.input(&input.name) else {
            let known: Vec<&str> = sig.inputs.iter().map(|i| i.name.as_str()).collect();
            let message = format!(
                "component `{}` has no input `{}`{}; its inputs are: {}",
                task.component,
                input.name,
                did_you_mean(&input.name, known.iter().copied()),
                list_or_none(&known)
            );
            self.error(task.scope, &path, message);
            return;
        };
        let usage = if spec.required {
            super::nullable::Use::RequiredInput { input: &input.name, task: &task.name }
        } else {
            super::nullable::Use::Absent
        };
        self.check_nullable(at, binding, usage);
        let bound = Bound { at, input: &input.name, task: &task.name, binding, got };
        self.check_port_type(&bound, &spec.ty);
        if spec.required {
            self.required_from_upstream(t, &bound);
        }
    }

    /// Checks `bound`, a required input of task `t`, against producers that may fail and leave it
    /// without a value: any task, if `t` ignores upstream failures (`docs/semantics.md`, rule 9);
    /// a task of its body, if `t` is an exit task (rule 6).
    fn required_from_upstream(&mut self, t: TaskIdx, bound: &Bound) {
        let task = &self.plan.tasks[t];
        if task.ignore_upstream_failure && bound.binding.refs().iter().any(|r| matches!(r, Ref::Output { .. })) {
            self.error(
                task.scope,
                bound.at.path,
                format!(
                    "task `{}` ignores upstream failures, so its required input `{}` may get no value from a failed producer; make the input optional or bind it to a parameter or literal",
                    task.name, bound.input
                ),
            );
        }
        if task.is_exit
            && let Some(producer) = self.body_producer(t, bound.binding)
        {
            self.error(
                task.scope,
                bound.at.path,
                format!(
                    "exit task `{}` binds its required input `{}` to body task `{producer}`, which may fail and produce nothing; make the input optional: an exit task runs however its body ended, so it reads body outputs only as optional inputs (see {})",
                    task.name,
                    bound.input,
                    crate::model::diag::rule(6, "Body outputs")
                ),
            );
        }
    }

    /// Reports the required inputs of the component of task `t` (signature `sig`) that the task
    /// does not bind; a `final-status` input is not bound (wasmpipe fills it).
    fn required_inputs(&mut self, t: TaskIdx, sig: &Signature) {
        let task = &self.plan.tasks[t];
        for spec in &sig.inputs {
            if spec.required && spec.ty != PortType::FinalStatus && !task.inputs.iter().any(|i| i.name == spec.name) {
                self.error(
                    task.scope,
                    &format!("{}.inputs", task.doc_path),
                    format!(
                        "task `{}` does not bind the required input `{}` ({}) of component `{}`",
                        task.name, spec.name, spec.ty, task.component
                    ),
                );
            }
        }
    }
}
