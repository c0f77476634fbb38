//! A pipeline's own DAG template: the entrypoint (the root's steps; its outputs are the
//! workflow's, `globalName`) or a sub-pipeline's (its parameters are the template's input
//! parameters, its outputs the template's output parameters).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::dag::{dag_outputs, dag_template, with_input_artifacts};
use super::names::{name_groups, parameter_name};
use super::{Exporter, Scope};
use crate::export::loops_around;
use crate::model::binding::{Binding, Ref};
use crate::model::value::ValueType;

impl Exporter<'_> {
    /// The DAG template `name` of the pipeline being written (`self.pipeline`): its steps, and
    /// its outputs as the template's. For a sub-pipeline (`sub`), its parameters are the
    /// template's input parameters and its outputs have no `globalName`; `id` starts the
    /// wasmpipe ids of its tasks (`TASK/` for the task that runs it).
    pub(super) fn pipeline_template(&mut self, name: &str, sub: bool, id: String) -> Value {
        let pipeline = self.pipeline;
        name_groups(&pipeline.steps, &mut 0, &mut self.group_names);
        let mut wanted = BTreeSet::new();
        let (mut outputs, mut one_ofs) = (Vec::new(), Vec::new());
        for (output, value) in &pipeline.outputs {
            let at = format!("outputs.{output}");
            match Binding::parse(value) {
                Ok(Binding::Ref(r @ Ref::Output { .. })) if parameter_name(output) => {
                    wanted.insert(r.clone());
                    outputs.push((output.clone(), r, at));
                }
                Ok(Binding::OneOf(refs)) if parameter_name(output) => {
                    wanted.extend(refs.iter().cloned());
                    one_ofs.push((output.clone(), refs, at));
                }
                Ok(Binding::Ref(Ref::Output { .. }) | Binding::OneOf(_)) => self
                    .refuse(&at, format!("`{output}` cannot be an Argo parameter name (letters, digits, `-` and `_`)")),
                _ => self.refuse(&at, "a pipeline output is exported to Argo as one task output or a `one_of`"),
            }
        }
        let fail_fast = self.fail_fast(pipeline.fail_fast, &pipeline.steps, "fail_fast");
        // A sub-pipeline's parameters are its template's inputs; the root's artifact parameters
        // are the entrypoint's input artifacts (`spec.arguments.artifacts`), its others global.
        let mut channels = BTreeMap::new();
        let (mut inputs, mut artifacts) = (Vec::new(), Vec::new());
        for (param, spec) in &pipeline.params {
            let artifact = spec.ty == ValueType::Artifact;
            if sub || artifact {
                if !parameter_name(param) {
                    self.refuse(
                        &format!("params.{param}"),
                        format!("`{param}` cannot be an Argo parameter name (letters, digits, `-` and `_`)"),
                    );
                }
                channels.insert(Ref::Param(param.clone()), param.clone());
                if artifact { &mut artifacts } else { &mut inputs }.push(param.clone());
            }
        }
        let root = Scope {
            channels,
            prefix: "steps".into(),
            id,
            fail_fast,
            literal_items: BTreeMap::new(),
            fan_in: BTreeSet::new(),
        };
        let tasks = self.dag(&pipeline.steps, &root, "steps", &wanted);
        let mut template = dag_template(name, &inputs, tasks, fail_fast);
        with_input_artifacts(&mut template, artifacts.iter().map(String::as_str));
        let local = self.local(&pipeline.steps);
        let mut parameters = Vec::new();
        for (output, r, at) in outputs {
            if let Ref::Output { task, .. } = &r
                && self.is_artifact(&r)
                && loops_around(&pipeline.steps, task) > 0
            {
                self.refuse(&at, "a list of artifacts (collected over a loop) is not exported to Argo: Argo does not aggregate the output artifacts of a loop's iterations");
                continue;
            }
            if let Some(mut parameter) = self.dag_output(&r, &local, &at) {
                parameter["name"] = json!(output);
                if !sub {
                    parameter["globalName"] = json!(output);
                }
                parameters.push(parameter);
            }
        }
        // A `one_of`: the output of the branch that ran (the DAG succeeded: one did, or the
        // fallback is there).
        for (output, refs, at) in one_ofs {
            if refs.iter().any(|r| self.is_artifact(r)) {
                self.refuse(&at, "a `one_of` of artifacts is not exported to Argo yet");
                continue;
            }
            match self.one_of_plan(&refs, &root, &local) {
                Ok(plan) if plan.total => {
                    let mut parameter = json!({"name": output, "valueFrom": {"expression": plan.expr}});
                    if !sub {
                        parameter["globalName"] = json!(output);
                    }
                    parameters.push(parameter);
                }
                Ok(_) => self.refuse(&at, "a pipeline output `one_of` over a chain that may run no branch of it (no `else`, or outputs of only some branches) and with no fallback is not exported to Argo: when none runs, Argo fails the workflow resolving the output, where wasmpipe leaves the output without a value; add a fallback (a last output outside the chain)"),
                Err(e) => self.refuse(&at, e),
            }
        }
        if let Some(outputs) = dag_outputs(parameters) {
            template["outputs"] = outputs;
        }
        template
    }
}
