//! Outputs that leave the DAGs holding their task, as KFP's compiler writes them: each DAG on
//! the way gives the output as a DAG output (`dag.outputs.parameters` with
//! `valueFromParameter`, declared in the component's `outputDefinitions`) named after its
//! channel (`pipelinechannel--TASK-OUTPUT`), a `LIST` when the DAG is a loop's body (KFP's
//! `dsl.Collected`); an artifact as `dag.outputs.artifacts` with `artifactSelectors`. Pipeline
//! outputs are the root DAG's outputs, the same way.

use serde_json::{Map, Value, json};

use super::{Exporter, Source, output_channel};
use crate::model::binding::{Binding, Ref};

/// How a DAG output is declared: a parameter of a `parameterType`, or an artifact of an
/// `artifactType`.
#[derive(Clone, Debug)]
pub(super) enum Port {
    Parameter(String),
    /// An artifact of a type; `list` for the artifacts of a loop's iterations (KFP's
    /// `isArtifactList`).
    Artifact {
        ty: Value,
        list: bool,
    },
}

impl Port {
    /// Declares output `key` of DAG `component` as output `producer_key` of its task
    /// `producer` (`valueFromParameter`, or `artifactSelectors` for an artifact).
    fn declare(self, component: &mut Value, key: &str, producer: &str, producer_key: &str) {
        match self {
            Port::Parameter(ty) => {
                component["dag"]["outputs"]["parameters"][key] =
                    json!({"valueFromParameter": {"producerSubtask": producer, "outputParameterKey": producer_key}});
                component["outputDefinitions"]["parameters"][key] = json!({"parameterType": ty});
            }
            Port::Artifact { ty, list } => {
                component["dag"]["outputs"]["artifacts"][key] =
                    json!({"artifactSelectors": [{"producerSubtask": producer, "outputArtifactKey": producer_key}]});
                component["outputDefinitions"]["artifacts"][key] = json!({"artifactType": ty});
                if list {
                    component["outputDefinitions"]["artifacts"][key]["isArtifactList"] = json!(true);
                }
            }
        }
    }
}

impl Exporter<'_> {
    /// Adds the DAG outputs readers asked for, once every component is written.
    pub(super) fn expose_requested(&mut self, root: &Value) {
        // A refused task is not in its DAG: what reads it is refused already.
        if !self.refusals.is_empty() {
            return;
        }
        for (dag, group, task, output) in std::mem::take(&mut self.exposures) {
            let owner = match &dag {
                None => root,
                Some(c) => &self.out_components[c],
            };
            let comp = owner["dag"]["tasks"][&group]["componentRef"]["name"].as_str().unwrap_or_default().to_string();
            if self.expose(&comp, &task, &output).is_none() {
                self.refuse(
                    "outputs",
                    format!("output `{output}` of task `{task}` cannot be read outside its group in KFP's IR (artifacts collected over nested loops have no form in KFP's IR)"),
                );
            }
        }
    }

    /// The pipeline's outputs as the root DAG's outputs (`root` is the root component).
    pub(super) fn pipeline_outputs(&mut self, root: &mut Value, dag: &Option<String>) {
        let tasks = root["dag"]["tasks"].as_object().cloned().unwrap_or_default();
        let doc = self.doc;
        for (name, value) in &doc.pipeline.outputs {
            let at = format!("outputs.{name}");
            let (task, output) = match Binding::parse(value) {
                Ok(Binding::Ref(Ref::Output { task, output })) => (task, output),
                Ok(Binding::OneOf(refs)) => {
                    let local = self.local(&doc.pipeline.steps, false);
                    if let Some((Source::Group { group, key }, ty)) = self.one_of_source(&refs, dag, &local, &at)
                        && let Some(kfp_ty) = self.parameter_type(ty, &at)
                    {
                        root["dag"]["outputs"]["parameters"][name] =
                            json!({"valueFromParameter": {"producerSubtask": group, "outputParameterKey": key}});
                        root["outputDefinitions"]["parameters"][name] = json!({"parameterType": kfp_ty});
                    }
                    continue;
                }
                _ => {
                    self.refuse(&at, "a pipeline output must be one task output or a `one_of`");
                    continue;
                }
            };
            match self.dag_output(&tasks, &task, &output) {
                Some((producer, key, port)) => port.declare(root, name, &producer, &key),
                // A refused task is not in its DAG (refused already).
                None if !self.refusals.is_empty() => {}
                None => self.refuse(&at, format!("`{value}` cannot be a pipeline output in KFP's IR (artifacts collected over nested loops have no form in KFP's IR)")),
            }
        }
    }

    /// Makes DAG component `comp` give output `output` of task `task` (inside it, at any depth)
    /// as its output `pipelinechannel--TASK-OUTPUT`; how that output is declared there (the
    /// artifacts of a loop's iterations a list). None for artifacts collected over nested loops.
    pub(super) fn expose(&mut self, comp: &str, task: &str, output: &str) -> Option<Port> {
        let tasks = self.out_components.get(comp)?["dag"]["tasks"].as_object()?.clone();
        let (producer, producer_key, port) = self.dag_output(&tasks, task, output)?;
        let port = match port {
            Port::Parameter(_) if self.loop_bodies.contains(comp) => Port::Parameter("LIST".into()),
            // Collected over nested loops: a list of lists, which KFP has no form for.
            Port::Artifact { list: true, .. } if self.loop_bodies.contains(comp) => return None,
            Port::Artifact { ty, list: false } if self.loop_bodies.contains(comp) => Port::Artifact { ty, list: true },
            port => port,
        };
        let key = output_channel(task, output);
        let component = self.out_components.get_mut(comp)?;
        port.clone().declare(component, &key, &producer, &producer_key);
        Some(port)
    }

    /// Where a DAG of `tasks` takes output `output` of task `task` from: the task itself, or
    /// the DAG output of its task that runs the group holding it (the producer and its
    /// output's key), and how the output is declared.
    fn dag_output(&mut self, tasks: &Map<String, Value>, task: &str, output: &str) -> Option<(String, String, Port)> {
        if let Some(spec) = tasks.get(task) {
            let comp = spec["componentRef"]["name"].as_str()?;
            let defs = &self.out_components.get(comp)?["outputDefinitions"];
            let port = match (defs["parameters"][output]["parameterType"].as_str(), defs["artifacts"].get(output)) {
                (Some(ty), _) => Port::Parameter(ty.to_string()),
                (None, Some(def)) => Port::Artifact {
                    ty: def["artifactType"].clone(),
                    list: def["isArtifactList"].as_bool().unwrap_or(false),
                },
                (None, None) => return None,
            };
            return Some((task.to_string(), output.to_string(), port));
        }
        let (sub, comp) = tasks.iter().find_map(|(sub, spec)| {
            let comp = spec["componentRef"]["name"].as_str()?;
            self.dag_holds(comp, task).then(|| (sub.clone(), comp.to_string()))
        })?;
        let port = self.expose(&comp, task, output)?;
        Some((sub, output_channel(task, output), port))
    }

    /// Whether DAG component `comp` holds task `task`, at any depth.
    pub(super) fn dag_holds(&self, comp: &str, task: &str) -> bool {
        let Some(tasks) = self.out_components.get(comp).and_then(|c| c["dag"]["tasks"].as_object()) else {
            return false;
        };
        tasks.iter().any(|(name, spec)| {
            let inner = spec["componentRef"]["name"].as_str().unwrap_or_default();
            let is_dag = self.out_components.get(inner).is_some_and(|c| c.get("dag").is_some());
            // A sub-pipeline's tasks are its own, whatever their names.
            if self.sub_dags.contains(inner) {
                false
            } else if is_dag {
                self.dag_holds(inner, task)
            } else {
                name == task
            }
        })
    }
}
