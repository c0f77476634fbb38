//! One task of a DAG as KFP's IR has it: its component (input and output definitions), its
//! executor (a container running `wasmpipe task-run` over the task's component in the runner
//! image, with the task's limits) and its task spec (inputs from constants, parameters,
//! channels, loop items and other tasks; dependencies; trigger, caching and retry policies).

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::{Exporter, Local, Scope, Source, artifact_type, doc_artifact_kind, output_channel};
use crate::export::{ComponentInfo, grants_set, task_limit_args};
use crate::model::Task;
use crate::model::binding::{Binding, Part, Ref};
use crate::model::component::PortType;
use crate::model::value::ValueType;

impl<'a> Exporter<'a> {
    /// One task of a DAG: its component and executor (added to the document) and its task
    /// spec. `exit_of` names the group whose exit task it is.
    pub(super) fn task(
        &mut self,
        task: &Task,
        path: &str,
        scope: &Scope<'_>,
        local: &Local<'_>,
        exit_of: Option<&str>,
    ) -> Option<Value> {
        let doc = self.doc;
        if let Some(sub) = doc.subs.get(&task.component) {
            return self.sub_task(task, sub, path, scope, local);
        }
        let Some(info) = doc.components.get(&task.component) else {
            let declared = doc.pipeline.components.get(&task.component);
            let why = match declared {
                Some(c) if c.pipeline.is_some() => {
                    "is a pipeline that runs itself (`max_depth`); KFP's IR has no recursion: unroll it into sub-pipelines"
                }
                _ => "has no known signature",
            };
            self.refuse(&format!("{path}.component"), format!("component `{}` {why}", task.component));
            return None;
        };
        for (field, set) in grants_set(task) {
            if set {
                self.refuse(
                    &format!("{path}.{field}"),
                    format!("`{field}` is not exported to KFP's IR yet; remove it to export the pipeline"),
                );
            }
        }
        let signature = &info.signature;
        let (mut inputs, mut artifact_inputs) = (Map::new(), Map::new());
        let (mut definitions, mut artifact_definitions) = (Map::new(), Map::new());
        // `after` a task outside this DAG: the group holding this task waits for it instead.
        let mut depends: BTreeSet<String> = task.after.iter().filter_map(|a| local.dependency(a)).collect();
        for spec in &signature.inputs {
            let name = &spec.name;
            let at = format!("{path}.inputs.{name}");
            if spec.ty == PortType::FinalStatus {
                match exit_of {
                    Some(group) => {
                        inputs.insert(name.clone(), json!({"taskFinalStatus": {"producerTask": group}}));
                        definitions
                            .insert(name.clone(), json!({"parameterType": "TASK_FINAL_STATUS", "isOptional": true}));
                    }
                    None => {
                        self.refuse(&at, "a final status is given only to an exit task");
                    }
                }
                continue;
            }
            let declared = match &spec.ty {
                PortType::Value(ty) => ty,
                PortType::Artifact { kind, .. } => {
                    let mut definition = json!({"artifactType": artifact_type(kind)});
                    if !spec.required {
                        definition["isOptional"] = json!(true);
                    }
                    match task.inputs.get(name).map(Binding::parse) {
                        None if spec.required => {}
                        None => {
                            artifact_definitions.insert(name.clone(), definition);
                        }
                        Some(Ok(Binding::Ref(r))) => {
                            if self.collects_artifacts(&r, scope, local) {
                                self.refuse(
                                    &at,
                                    "artifacts collected over a loop (a list of artifacts) are not exported yet",
                                );
                                continue;
                            }
                            let Some(source) = self.source(&r, scope, local, exit_of, &at) else { continue };
                            depends.extend(source.producer().map(String::from));
                            artifact_inputs.insert(name.clone(), source.artifact_spec());
                            artifact_definitions.insert(name.clone(), definition);
                        }
                        Some(Ok(_)) => self.refuse(
                            &at,
                            "an artifact input takes one reference (`one_of` of artifacts is not exported yet)",
                        ),
                        Some(Err(e)) => self.refuse(&at, e),
                    }
                    continue;
                }
                PortType::FinalStatus => unreachable!("handled above"),
            };
            let binding = match task.inputs.get(name).map(Binding::parse) {
                Some(Ok(b)) => Some(b),
                Some(Err(e)) => {
                    self.refuse(&at, e);
                    continue;
                }
                None => None,
            };
            // Artifacts collected over a loop (KFP's `Input[List[Dataset]]`): a list of artifacts.
            if let Some(Binding::Ref(r)) = &binding
                && self.collects_artifacts(r, scope, local)
            {
                let Some(source) = self.source(r, scope, local, exit_of, &at) else { continue };
                if !matches!(source, Source::Group { .. } | Source::Sibling { .. }) {
                    self.refuse(&at, "a list of artifacts read inside another group than the one that makes it is not exported yet; read it beside the loop or sub-pipeline");
                    continue;
                }
                depends.extend(source.producer().map(String::from));
                artifact_inputs.insert(name.clone(), source.artifact_spec());
                let ty = artifact_type(&doc_artifact_kind(self.doc, r));
                artifact_definitions.insert(name.clone(), json!({"artifactType": ty, "isArtifactList": true}));
                continue;
            }
            // An `any` input takes the type of what it is bound to (each task has a component
            // of its own in the IR).
            let ty = match (declared, &binding) {
                (ValueType::Any, Some(b)) => self.binding_type(b, scope, local),
                (ty, _) => *ty,
            };
            if ty == ValueType::Any {
                self.refuse(&at, format!("input `{name}` takes any type, and what it is bound to has no type known before the run; KFP's IR types every input: bind it to a typed value (a literal, a typed parameter or output), or give the component's input a type"));
                continue;
            }
            let Some(kfp_ty) = self.parameter_type(ty, &at) else { continue };
            let mut definition = json!({"parameterType": kfp_ty});
            if let Some(default) = spec.default.as_ref().filter(|d| !d.is_null()) {
                definition["defaultValue"] = default.clone();
            }
            if !spec.required {
                definition["isOptional"] = json!(true);
            }
            // An optional input left unbound is declared only with its default: without one, the
            // task gets no value, as in wasmpipe (kfp.local would give an int input `None`).
            let Some(binding) = binding else {
                if !spec.required && definition.get("defaultValue").is_some() {
                    definitions.insert(name.clone(), definition);
                }
                continue;
            };
            definitions.insert(name.clone(), definition);
            match binding {
                Binding::Literal(v) => {
                    inputs.insert(name.clone(), json!({"runtimeValue": {"constant": v}}));
                }
                Binding::Ref(r) => {
                    let Some(source) = self.source(&r, scope, local, exit_of, &at) else { continue };
                    depends.extend(source.producer().map(String::from));
                    inputs.insert(name.clone(), source.spec());
                }
                Binding::Format(parts) => {
                    // KFP's form: the text with placeholders of extra inputs, filled in by the launcher.
                    let mut text = String::new();
                    for part in parts {
                        match part {
                            Part::Text(t) => text.push_str(&t),
                            Part::Ref(r) => {
                                let Some(source) = self.source(&r, scope, local, exit_of, &at) else { continue };
                                let channel = match (&r, &source) {
                                    (Ref::Param(p), _) => format!("pipelinechannel--{p}"),
                                    (Ref::Output { task, output }, _) => output_channel(task, output),
                                    (_, Source::Item { channel, field: None }) => channel.clone(),
                                    (_, Source::Item { channel, field: Some(f) }) => format!("{channel}-subvar-{f}"),
                                    (Ref::Item { .. }, _) => unreachable!("an item's source is an item"),
                                };
                                depends.extend(source.producer().map(String::from));
                                text.push_str(&format!("{{{{$.inputs.parameters['{channel}']}}}}"));
                                // Declared with its type, as KFP declares them: the launcher
                                // (and kfp.local) then passes an int as an int, not `7.0`.
                                let ty = self.binding_type(&Binding::Ref(r.clone()), scope, local);
                                if ty != ValueType::Any
                                    && let Some(kfp_ty) = self.parameter_type(ty, &at)
                                {
                                    definitions.insert(channel.clone(), json!({"parameterType": kfp_ty}));
                                }
                                inputs.insert(channel, source.spec());
                            }
                        }
                    }
                    inputs.insert(name.clone(), json!({"runtimeValue": {"constant": text}}));
                }
                Binding::OneOf(refs) => {
                    let Some((source, _)) = self.one_of_source(&refs, &scope.dag, local, &at) else { continue };
                    depends.extend(source.producer().map(String::from));
                    inputs.insert(name.clone(), source.spec());
                }
            }
        }
        // In an exit handler's body inside a loop (and its exit task): the loops' items, which
        // task-run puts in the failures it leaves, to tell the iterations apart.
        if scope.loop_exit || (exit_of.is_some() && !scope.items.is_empty()) {
            for channel in scope.items.values() {
                let ty = scope.channels.get(channel).copied().unwrap_or(ValueType::String);
                if ty == ValueType::Artifact {
                    continue;
                }
                if let Some(kfp_ty) = self.parameter_type(ty, path) {
                    inputs.insert(channel.clone(), json!({"componentInputParameter": channel}));
                    definitions.insert(channel.clone(), json!({"parameterType": kfp_ty}));
                }
            }
        }
        let (mut outputs, mut artifact_outputs) = (Map::new(), Map::new());
        for o in &signature.outputs {
            match &o.ty {
                PortType::Value(ty) => {
                    if let Some(kfp_ty) = self.parameter_type(*ty, path) {
                        outputs.insert(o.name.clone(), json!({"parameterType": kfp_ty}));
                    }
                }
                PortType::Artifact { kind, .. } => {
                    artifact_outputs.insert(o.name.clone(), json!({"artifactType": artifact_type(kind)}));
                }
                PortType::FinalStatus => {}
            }
        }
        let comp = self.unique_component(&task.task);
        let exec = comp.replacen("comp-", "exec-", 1);
        let mut component = json!({"executorLabel": exec});
        for (key, part) in [
            ("inputDefinitions", ("parameters", definitions)),
            ("inputDefinitions", ("artifacts", artifact_definitions)),
            ("outputDefinitions", ("parameters", outputs)),
            ("outputDefinitions", ("artifacts", artifact_outputs)),
        ] {
            if !part.1.is_empty() {
                component[key][part.0] = Value::Object(part.1);
            }
        }
        self.out_components.insert(comp.clone(), component);
        let exit_body = if exit_of.is_some() { self.exit_body.take() } else { None };
        self.executors.insert(exec, self.executor(task, info, scope, exit_body));
        let mut spec = json!({"componentRef": {"name": comp}, "taskInfo": {"name": task.task}});
        if !inputs.is_empty() {
            spec["inputs"]["parameters"] = json!(inputs);
        }
        if !artifact_inputs.is_empty() {
            spec["inputs"]["artifacts"] = json!(artifact_inputs);
        }
        let cached = exit_of.is_none() && task.cache.unwrap_or(self.doc.pipeline.cache);
        spec["cachingOptions"] = json!({"enableCache": cached});
        if let Some(group) = exit_of {
            depends.insert(group.to_string());
        }
        // KFP's `ignore_upstream_failure()`: it runs once its dependencies are done, however.
        if exit_of.is_some() || task.ignore_upstream_failure {
            spec["triggerPolicy"] = json!({"strategy": "ALL_UPSTREAM_TASKS_COMPLETED"});
        }
        if !depends.is_empty() {
            spec["dependentTasks"] = json!(depends);
        }
        if let Some(retries) = task.retries.or(self.doc.pipeline.retries).filter(|r| *r > 0) {
            let backoff = task.backoff.or(self.doc.pipeline.backoff).unwrap_or_default();
            spec["retryPolicy"] = json!({
                "maxRetryCount": retries,
                "backoffDuration": seconds(backoff.initial.0),
                "backoffFactor": backoff.factor,
                "backoffMaxDuration": seconds(backoff.max.0),
            });
        }
        Some(spec)
    }

    /// Where reference `r`, read by a task of this DAG, comes from; None (refused) when KFP's
    /// IR has no way for it yet.
    pub(super) fn source(
        &mut self,
        r: &Ref,
        scope: &Scope<'_>,
        local: &Local<'_>,
        exit_of: Option<&str>,
        at: &str,
    ) -> Option<Source> {
        match r {
            Ref::Param(p) => Some(self.param_source(p, scope)),
            Ref::Output { task, output } => {
                if let Some(body) = exit_of
                    && local.group_of(task).is_some_and(|(g, _)| g == body)
                {
                    self.refuse(at, "an exit task reading an output of its body is not exported (KFP gives an exit task no outputs of the body)");
                    return None;
                }
                match self.output_source(task, output, scope, local) {
                    Some((source, _)) => Some(source),
                    None => {
                        self.refuse(at, format!("`{r}` cannot be read here in KFP's IR"));
                        None
                    }
                }
            }
            Ref::Item { var, field } => match scope.items.get(var) {
                Some(channel) => Some(Source::Item { channel: channel.clone(), field: field.clone() }),
                None => {
                    self.refuse(at, format!("`{r}` is read outside a loop whose item is `{var}`"));
                    None
                }
            },
        }
    }

    /// The container of one task: `wasmpipe task-run` over its component in the image.
    /// With the ids of the run, the task and its execution, and the groups that hold it, so
    /// that a failure is left under the pipeline root for their exit tasks; an exit task names
    /// its body's DAG (`--exit-of`) to collect them.
    fn executor(&self, task: &Task, info: &ComponentInfo, scope: &Scope<'_>, exit_body: Option<String>) -> Value {
        let mut args = vec![
            "--executor-input".to_string(),
            "{{$}}".to_string(),
            "--component".to_string(),
            format!("{}/{}", self.options.components_dir.trim_end_matches('/'), info.file),
            "--digest".to_string(),
            info.digest.clone(),
            "--run-id".to_string(),
            "{{$.pipeline_job_uuid}}".to_string(),
            "--task-id".to_string(),
            format!("{}{}", scope.id_prefix, task.task),
            "--pipeline-root".to_string(),
            "{{$.pipeline_root}}".to_string(),
            "--instance".to_string(),
            "{{$.pipeline_task_uuid}}".to_string(),
        ];
        if !scope.groups.is_empty() {
            args.extend(["--groups".to_string(), scope.groups.join(",")]);
        }
        if let Some(body) = exit_body {
            args.extend(["--exit-of".to_string(), body]);
        }
        if let Some(command) = &info.command {
            args.extend(["--command".to_string(), serde_json::to_string(command).expect("a command spec serialises")]);
        }
        args.extend(task_limit_args(task));
        json!({"container": {"image": self.options.image, "command": ["wasmpipe", "task-run"], "args": args}})
    }
}

/// A duration as protobuf's JSON writes one: seconds, with milliseconds when it has some
/// (`2s`, `0.010s`).
fn seconds(d: std::time::Duration) -> String {
    match d.subsec_millis() {
        0 => format!("{}s", d.as_secs()),
        ms => format!("{}.{ms:03}s", d.as_secs()),
    }
}
