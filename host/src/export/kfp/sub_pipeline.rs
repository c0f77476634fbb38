//! A pipeline's own DAG: the root's, or a sub-pipeline's as a DAG component run by the task
//! that uses it (KFP's pipelines used as components). A sub-pipeline's DAG declares its
//! parameters as the component's inputs and its outputs as the DAG's outputs; inside, its
//! tasks and groups have their own names (component names are made unique across the
//! document, as KFP's compiler makes them: `comp-print-op-2`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::{Exporter, Local, Scope, kfp_name, name_groups};
use crate::export::{Document, Refusal};
use crate::model::Task;
use crate::model::binding::Binding;
use crate::model::value::ValueType;

impl<'a> Exporter<'a> {
    /// The DAG of the pipeline being written (`self.doc`), as a component spec: its
    /// parameters (`inputDefinitions`), its tasks and its outputs. `comp` names the component
    /// it is (None: the root).
    pub(super) fn pipeline_dag(&mut self, comp: Option<String>) -> Value {
        let pipeline = &self.doc.pipeline;
        let (mut unnamed, mut chains) = (0, 0);
        name_groups(&pipeline.steps, &mut unnamed, &mut chains, &mut self.names);
        let params: BTreeMap<String, ValueType> = pipeline.params.iter().map(|(k, p)| (k.clone(), p.ty)).collect();
        let mut inputs = Map::new();
        for (name, param) in &pipeline.params {
            let Some(ty) = self.parameter_type(param.ty, &format!("params.{name}")) else { continue };
            let mut spec = json!({"parameterType": ty});
            if let Some(default) = &param.default {
                if !default.is_null() {
                    spec["defaultValue"] = default.clone();
                }
                spec["isOptional"] = json!(true);
            }
            inputs.insert(name.clone(), spec);
        }
        let scope = Scope {
            params: &params,
            channels: BTreeMap::new(),
            items: BTreeMap::new(),
            literal_items: BTreeMap::new(),
            prefix: "steps".into(),
            first: 0,
            inherited: BTreeSet::new(),
            chain: false,
            dag: comp,
        };
        let tasks = self.dag(&pipeline.steps, &scope);
        let mut spec = json!({"dag": {"tasks": tasks}});
        if !inputs.is_empty() {
            spec["inputDefinitions"] = json!({"parameters": inputs});
        }
        self.pipeline_outputs(&mut spec, &scope.dag);
        spec
    }

    /// A task that runs sub-pipeline `sub`: a DAG component of the sub-pipeline's own DAG, and
    /// the task that runs it with its inputs as the sub-pipeline's parameters.
    pub(super) fn sub_task(
        &mut self,
        task: &Task,
        sub: &'a Document,
        path: &str,
        scope: &Scope<'_>,
        local: &Local<'_>,
    ) -> Option<Value> {
        let mut inputs = Map::new();
        let mut depends: BTreeSet<String> = task.after.iter().filter_map(|a| local.dependency(a)).collect();
        for (name, value) in &task.inputs {
            let at = format!("{path}.inputs.{name}");
            match Binding::parse(value) {
                Ok(Binding::Literal(v)) => {
                    inputs.insert(name.clone(), json!({"runtimeValue": {"constant": v}}));
                }
                Ok(Binding::Ref(r)) => {
                    let Some(source) = self.source(&r, scope, local, None, &at) else { continue };
                    depends.extend(source.producer().map(String::from));
                    inputs.insert(name.clone(), source.spec());
                }
                Ok(_) => self.refuse(&at, "a formatted string or `one_of` bound to a sub-pipeline's parameter is not exported yet; bind a value, parameter or output"),
                Err(e) => self.refuse(&at, e),
            }
        }
        for (field, set) in
            [("deadline", sub.pipeline.deadline.is_some()), ("parallelism", sub.pipeline.parallelism.is_some())]
        {
            if set {
                self.refuse(
                    path,
                    format!("sub-pipeline {} sets `{field}`, which KFP's IR has no form for; remove it", sub.file),
                );
            }
        }
        let comp = self.unique_component(&kfp_name(&sub.pipeline.name));
        self.out_components.insert(comp.clone(), Value::Null);
        self.sub_dags.insert(comp.clone());
        // The sub-pipeline's DAG, in its own names; what it refuses is reported at this task.
        let (outer, before) = (std::mem::replace(&mut self.doc, sub), self.refusals.len());
        let spec = self.pipeline_dag(Some(comp.clone()));
        self.doc = outer;
        for refusal in &mut self.refusals[before..] {
            *refusal = Refusal {
                path: path.to_string(),
                message: format!("in sub-pipeline {}, at `{}`: {}", sub.file, refusal.path, refusal.message),
            };
        }
        self.out_components.insert(comp.clone(), spec);
        let mut spec = json!({"componentRef": {"name": comp}, "taskInfo": {"name": task.task}});
        if !inputs.is_empty() {
            spec["inputs"] = json!({"parameters": inputs});
        }
        if !depends.is_empty() {
            spec["dependentTasks"] = json!(depends);
        }
        Some(spec)
    }

    /// `comp-NAME`, or `comp-NAME-2`, `-3`... when a component of that name exists (its
    /// executor is named the same way, `exec-...`).
    pub(super) fn unique_component(&self, name: &str) -> String {
        let base = format!("comp-{name}");
        let mut candidate = base.clone();
        let mut n = 1;
        while self.out_components.contains_key(&candidate) {
            n += 1;
            candidate = format!("{base}-{n}");
        }
        candidate
    }
}
