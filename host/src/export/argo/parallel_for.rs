//! Loops: a `loop-NAME` DAG template whose one task runs the body `withItems`/`withParam`,
//! and the fan-in of the body's outputs from Argo's aggregated outputs.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::dag::{dag_template, with_input_artifacts};
use super::names::{channel_name, quoted};
use super::{Exporter, Local, Scope};
use crate::export::loops_around;
use crate::model::binding::{Binding, Ref};
use crate::model::value::ValueType;
use crate::model::{ParallelFor, Step};

impl Exporter<'_> {
    /// A loop: a DAG template `loop-NAME` (at most `parallelism` iterations at once: its
    /// `parallelism`; `fail_fast`: its `failFast`) whose one task runs the body's DAG template
    /// once per item (`withItems` for a literal list, else `withParam` over the list's JSON
    /// text), giving it the item as `{{item}}` (a field: `{{item.FIELD}}`). An output of a task
    /// inside read after the loop is the list of its values (Argo's aggregated
    /// `{{tasks.NAME.outputs.parameters.OUTPUT}}`), `[]` when there are no items.
    pub(super) fn parallel_for(
        &mut self,
        step: &Step,
        spec: &ParallelFor,
        path: &str,
        scope: &Scope,
        local: &Local<'_>,
        wanted: &BTreeSet<Ref>,
    ) -> Option<(String, Value)> {
        let name = self.group_name(step);
        let at = format!("{path}.parallel_for");
        let argo = self.claim(&name, &format!("{at}.name"));
        let var = spec.var.clone().unwrap_or_else(|| "item".into());
        let (iterate, literal, items_arg) = match Binding::parse(&spec.items) {
            Ok(Binding::Literal(Value::Array(items))) => {
                if items.iter().any(Value::is_null) {
                    self.refuse(&format!("{at}.items"), "Argo's withItems takes no null item");
                    return None;
                }
                (json!({"withItems": items.clone()}), Some(items), None)
            }
            Ok(Binding::Ref(Ref::Param(p))) if !scope.channels.contains_key(&Ref::Param(p.clone())) => {
                (json!({"withParam": format!("{{{{workflow.parameters.{p}}}}}")}), None, None)
            }
            Ok(Binding::Ref(r)) => match self.reference(&r, scope, local, None) {
                Ok(source) => (json!({"withParam": "{{inputs.parameters.items}}"}), None, Some(source.tag())),
                Err(e) => {
                    self.refuse(&format!("{at}.items"), e);
                    return None;
                }
            },
            _ => {
                self.refuse(&format!("{at}.items"), "the items must be a list or one reference to a list");
                return None;
            }
        };
        let call = self.group(&name, &spec.steps, false, &at, scope, local, wanted, Some(&var), literal.as_ref());
        let mut arguments: Vec<Value> = call
            .outer
            .iter()
            .map(|(c, _)| json!({"name": c, "value": format!("{{{{inputs.parameters.{c}}}}}")}))
            .collect();
        arguments.extend(call.items.iter().cloned());
        let mut task = json!({"name": argo, "template": call.template});
        if let Some(map) = task.as_object_mut()
            && let Some(obj) = iterate.as_object()
        {
            map.extend(obj.clone());
        }
        if !arguments.is_empty() {
            task["arguments"]["parameters"] = json!(arguments);
        }
        // Artifacts from outside the loop pass through the wrapper to each iteration.
        let artifacts: Vec<Value> = call
            .outer_artifacts
            .iter()
            .map(|(c, _)| json!({"name": c, "from": format!("{{{{inputs.artifacts.{c}}}}}")}))
            .collect();
        if !artifacts.is_empty() {
            task["arguments"]["artifacts"] = json!(artifacts);
        }
        let fail_fast = spec.fail_fast;
        let mut inputs: Vec<String> = call.outer.iter().map(|(c, _)| c.clone()).collect();
        if items_arg.is_some() {
            inputs.push("items".into());
        }
        let template = format!("{}loop-{argo}", self.template_prefix);
        let mut wrapper = dag_template(&template, &inputs, vec![task], fail_fast);
        with_input_artifacts(&mut wrapper, call.outer_artifacts.iter().map(|(c, _)| c.as_str()));
        if let Some(n) = spec.parallelism {
            wrapper["parallelism"] = json!(n);
        }
        let mut outputs = Vec::new();
        for r in wanted {
            let Ref::Output { task, output } = r else { continue };
            let channel = channel_name(task, output);
            if !call.outputs.contains(&channel) {
                continue;
            }
            let aggregated = format!("tasks[{}].outputs.parameters[{}]", quoted(&argo), quoted(&channel));
            // An output collected over a loop inside is a list already.
            let ty = if loops_around(&spec.steps, task) > 0 { None } else { self.output_type(task, output) };
            // Argo (3.6 on) aggregates values that are not all JSON lists or dicts as strings:
            // numbers and bools are made values again.
            let cast = match ty {
                Some(ValueType::Int) => Some("asInt(#)"),
                Some(ValueType::Float) => Some("asFloat(#)"),
                Some(ValueType::Bool) => Some("# == 'true'"),
                _ => None,
            };
            let value_from = match cast {
                Some(cast) => {
                    json!({"expression": format!("toJson(map(jsonpath({aggregated}, '$'), {{ {cast} }}))"), "default": "[]"})
                }
                None => {
                    json!({"parameter": format!("{{{{tasks.{argo}.outputs.parameters.{channel}}}}}"), "default": "[]"})
                }
            };
            outputs.push(json!({"name": channel, "valueFrom": value_from}));
        }
        if !outputs.is_empty() {
            wrapper["outputs"] = json!({"parameters": outputs});
        }
        // The wrapper goes before the body's template.
        let body_at = self.templates.iter().position(|t| t["name"] == call.template).unwrap_or(self.templates.len());
        self.templates.insert(body_at, wrapper);
        let mut parent_args: Vec<Value> = call.outer.iter().map(|(c, v)| json!({"name": c, "value": v})).collect();
        if let Some(items) = items_arg {
            parent_args.push(json!({"name": "items", "value": items}));
        }
        let mut entry = json!({"name": argo, "template": template});
        if !parent_args.is_empty() {
            entry["arguments"]["parameters"] = json!(parent_args);
        }
        let artifacts: Vec<Value> = call.outer_artifacts.iter().map(|(c, v)| json!({"name": c, "from": v})).collect();
        if !artifacts.is_empty() {
            entry["arguments"]["artifacts"] = json!(artifacts);
        }
        Some((argo, entry))
    }
}
