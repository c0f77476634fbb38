//! A pipeline's own DAG: the root's, or a sub-pipeline's as a DAG component run by the task
//! that uses it (KFP's pipelines used as components). A sub-pipeline's DAG declares its
//! parameters as the component's inputs and its outputs as the DAG's outputs; inside, its
//! tasks and groups have their own names (component names are made unique across the
//! document, as KFP's compiler makes them: `comp-print-op-2`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::{Exporter, Local, Scope, artifact_type, given_names, importer_name, kfp_name, name_groups};
use crate::export::{Document, Refusal};
use crate::model::Task;
use crate::model::binding::Binding;
use crate::model::value::ValueType;

impl<'a> Exporter<'a> {
    /// The DAG of the pipeline being written (`self.doc`), as a component spec: its
    /// parameters (`inputDefinitions`), its tasks and its outputs. `comp` names the component
    /// it is (None: the root); `groups` and `id_prefix` are those of its tasks (see [`Scope`]).
    pub(super) fn pipeline_dag(&mut self, comp: Option<String>, groups: Vec<String>, id_prefix: String) -> Value {
        let pipeline = &self.doc.pipeline;
        let (mut unnamed, mut chains) = (0, 0);
        let taken = given_names(&pipeline.steps);
        name_groups(&pipeline.steps, &mut unnamed, &mut chains, &taken, &mut self.names);
        let params: BTreeMap<String, ValueType> = pipeline.params.iter().map(|(k, p)| (k.clone(), p.ty)).collect();
        let mut inputs = Map::new();
        let (mut importers, mut sub_artifacts) = (Map::new(), Map::new());
        for (name, param) in &pipeline.params {
            if param.ty == ValueType::Artifact {
                let ty = artifact_type(param.kind.as_deref().unwrap_or("Artifact"));
                match &comp {
                    // A sub-pipeline's artifact parameter: an input artifact of its DAG.
                    Some(_) => {
                        let mut spec = json!({"artifactType": ty});
                        if param.default.is_some() {
                            spec["isOptional"] = json!(true);
                        }
                        sub_artifacts.insert(name.clone(), spec);
                    }
                    // The root's: KFP's root takes no artifacts, so a string parameter of the
                    // same name holds its URI, which an importer task (`dsl.importer`) imports.
                    None => {
                        let mut spec = json!({"parameterType": "STRING"});
                        if let Some(Value::String(default)) = &param.default {
                            spec["defaultValue"] = json!(default);
                            spec["isOptional"] = json!(true);
                        }
                        inputs.insert(name.clone(), spec);
                        importers.insert(name.clone(), ty);
                    }
                }
                continue;
            }
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
            groups,
            id_prefix,
            // A sub-pipeline's DAG receives no items of the loops around its task.
            loop_exit: false,
        };
        let mut tasks = self.dag(&pipeline.steps, &scope);
        for (name, ty) in importers {
            let task = importer_name(&name);
            if tasks.contains_key(&task) {
                self.refuse(&format!("params.{name}"), format!("artifact parameter `{name}` is imported by a task named `{task}` in KFP's IR, and a task has that name: rename the task"));
                continue;
            }
            let comp = self.unique_component(&task);
            let exec = comp.replacen("comp-", "exec-", 1);
            self.out_components.insert(
                comp.clone(),
                json!({
                    "executorLabel": exec,
                    "inputDefinitions": {"parameters": {"uri": {"parameterType": "STRING"}}},
                    "outputDefinitions": {"artifacts": {"artifact": {"artifactType": ty.clone()}}},
                }),
            );
            self.executors
                .insert(exec, json!({"importer": {"artifactUri": {"runtimeParameter": "uri"}, "typeSchema": ty}}));
            tasks.insert(
                task.clone(),
                json!({
                    "componentRef": {"name": comp},
                    "inputs": {"parameters": {"uri": {"componentInputParameter": name}}},
                    "taskInfo": {"name": task},
                }),
            );
        }
        let mut spec = json!({"dag": {"tasks": tasks}});
        if !inputs.is_empty() {
            spec["inputDefinitions"]["parameters"] = json!(inputs);
        }
        if !sub_artifacts.is_empty() {
            spec["inputDefinitions"]["artifacts"] = json!(sub_artifacts);
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
        let (mut inputs, mut artifacts) = (Map::new(), Map::new());
        let mut depends: BTreeSet<String> = task.after.iter().filter_map(|a| local.dependency(a)).collect();
        for (name, value) in &task.inputs {
            let at = format!("{path}.inputs.{name}");
            match Binding::parse(value) {
                Ok(Binding::Literal(v)) => {
                    inputs.insert(name.clone(), json!({"runtimeValue": {"constant": v}}));
                }
                Ok(Binding::Ref(r)) => {
                    let artifact = sub.pipeline.params.get(name).is_some_and(|p| p.ty == ValueType::Artifact);
                    if artifact && self.collects_artifacts(&r, scope, local) {
                        self.refuse(&at, "artifacts collected over a loop (a list of artifacts) are not exported yet");
                        continue;
                    }
                    let Some(source) = self.source(&r, scope, local, None, &at) else { continue };
                    depends.extend(source.producer().map(String::from));
                    if artifact {
                        artifacts.insert(name.clone(), source.artifact_spec());
                    } else {
                        inputs.insert(name.clone(), source.spec());
                    }
                }
                Ok(_) => self.refuse(&at, "a formatted string or `one_of` bound to a sub-pipeline's parameter is not exported yet; bind a value, parameter or output"),
                Err(e) => self.refuse(&at, e),
            }
        }
        // KFP imports an artifact at the root only: a sub-pipeline's default has no importer.
        for (name, param) in &sub.pipeline.params {
            if param.ty == ValueType::Artifact && param.default.is_some() && !task.inputs.contains_key(name) {
                self.refuse(
                    &format!("{path}.inputs"),
                    format!("sub-pipeline {} gives artifact parameter `{name}` a default, which KFP's IR cannot import inside a sub-pipeline; bind `{name}` here (an artifact parameter of the pipeline, or an output)", sub.file),
                );
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
        let groups = scope.groups.iter().cloned().chain([comp.clone()]).collect();
        let spec = self.pipeline_dag(Some(comp.clone()), groups, format!("{}{}/", scope.id_prefix, task.task));
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
            spec["inputs"]["parameters"] = json!(inputs);
        }
        if !artifacts.is_empty() {
            spec["inputs"]["artifacts"] = json!(artifacts);
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
