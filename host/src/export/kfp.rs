//! A pipeline as Kubeflow Pipelines' IR (`PipelineSpec`, the YAML `kfp.compiler` writes), so
//! that KFP (or Vertex AI) runs it on a cluster. Each task is a container task running
//! `wasmpipe task-run` over its component; groups map to KFP's native forms.
//!
//! This first version maps tasks of task components (`wit/pipeline.wit`) with value inputs
//! and outputs (literals, parameters, other tasks' outputs, formatted strings), `after`,
//! exit handlers (a DAG for the body; the exit task triggered by `ALL_UPSTREAM_TASKS_COMPLETED`
//! with the body's `TASK_FINAL_STATUS`), retries (`retryPolicy`) and caching
//! (`cachingOptions`, never on exit tasks, the component's digest in the executor's arguments
//! so that KFP's key changes with it). Everything else is refused with the construct and its
//! place, never dropped: see [`Refusal`].

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::{ComponentInfo, ExportOptions, Refusal, find_task, reads, task_names};
use crate::model::binding::{Binding, Part, Ref};
use crate::model::component::PortType;
use crate::model::value::ValueType;
use crate::model::{Pipeline, Step, Task};

/// The pipeline as KFP IR (JSON; YAML is the same document), or every construct refused.
/// `components` describes each component the pipeline declares, by name.
pub fn to_kfp(
    pipeline: &Pipeline,
    components: &BTreeMap<String, ComponentInfo>,
    options: &ExportOptions,
) -> Result<Value, Vec<Refusal>> {
    let mut ex = Exporter {
        components,
        options,
        refusals: Vec::new(),
        out_components: Map::new(),
        executors: Map::new(),
        groups: 0,
    };
    if pipeline.deadline.is_some() {
        ex.refuse(
            "deadline",
            "a run deadline has no form in KFP's IR; remove `deadline` (set a timeout on the KFP run instead)",
        );
    }
    if pipeline.parallelism.is_some() {
        ex.refuse("parallelism", "KFP has no pipeline-wide limit of tasks at once; remove `parallelism`");
    }
    let params: BTreeMap<String, ValueType> = pipeline.params.iter().map(|(k, p)| (k.clone(), p.ty)).collect();
    let root = Scope { params: &params, channels: BTreeMap::new(), prefix: "steps".into(), inherited: BTreeSet::new() };
    let mut root_inputs = Map::new();
    for (name, param) in &pipeline.params {
        let Some(ty) = ex.parameter_type(param.ty, &format!("params.{name}")) else { continue };
        let mut spec = json!({"parameterType": ty});
        if let Some(default) = &param.default {
            if !default.is_null() {
                spec["defaultValue"] = default.clone();
            }
            spec["isOptional"] = json!(true);
        }
        root_inputs.insert(name.clone(), spec);
    }
    let dag = ex.dag(&pipeline.steps, &root, pipeline);
    if !pipeline.outputs.is_empty() {
        ex.refuse("outputs", "pipeline outputs are not exported yet; remove `outputs` to export the pipeline");
    }
    if !ex.refusals.is_empty() {
        return Err(ex.refusals);
    }
    let mut root_spec = json!({"dag": {"tasks": dag}});
    if !root_inputs.is_empty() {
        root_spec["inputDefinitions"] = json!({"parameters": root_inputs});
    }
    let mut info = json!({"name": kfp_name(&pipeline.name)});
    if !pipeline.description.is_empty() {
        info["description"] = json!(pipeline.description);
    }
    Ok(json!({
        "pipelineInfo": info,
        "root": root_spec,
        "components": ex.out_components,
        "deploymentSpec": {"executors": ex.executors},
        "schemaVersion": "2.1.0",
        "sdkVersion": format!("wasmpipe-{}", env!("CARGO_PKG_VERSION")),
    }))
}

/// KFP's names: lower case, `-` for `_`.
fn kfp_name(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// What the tasks of one DAG see: the pipeline's parameters, and values from outside the DAG
/// that reach it as inputs of the DAG's component (`pipelinechannel--NAME`).
struct Scope<'a> {
    params: &'a BTreeMap<String, ValueType>,
    /// Channels the DAG receives: name -> type. Empty at the root (parameters are read directly).
    channels: BTreeMap<String, ValueType>,
    /// The place of the DAG's steps in the file, for refusals.
    prefix: String,
    /// What the conditions of the branches around the DAG read: KFP passes those channels on
    /// to every group nested inside a branch.
    inherited: BTreeSet<Ref>,
}

struct Exporter<'a> {
    components: &'a BTreeMap<String, ComponentInfo>,
    options: &'a ExportOptions,
    refusals: Vec<Refusal>,
    out_components: Map<String, Value>,
    executors: Map<String, Value>,
    /// Groups numbered as KFP numbers them (`exit-handler-1`), for unnamed ones.
    groups: usize,
}

/// Where a value a task reads comes from, inside its DAG.
enum Source {
    /// A pipeline parameter, at the root.
    Param(String),
    /// A channel of the DAG's component.
    Channel(String),
    /// An output of a task of the same DAG.
    Sibling { task: String, output: String },
}

impl Exporter<'_> {
    fn refuse(&mut self, path: &str, message: impl Into<String>) {
        self.refusals.push(Refusal { path: path.to_string(), message: message.into() });
    }

    /// Refuses a group's `fail_fast` (at `path`) when it is set: KFP has none.
    fn refuse_fail_fast(&mut self, set: bool, path: &str) {
        if set {
            self.refuse(path, "KFP has no fail_fast for a group; remove it to export the pipeline");
        }
    }

    /// KFP's `parameterType` of a wasmpipe value type.
    fn parameter_type(&mut self, ty: ValueType, path: &str) -> Option<&'static str> {
        Some(match ty {
            ValueType::String => "STRING",
            ValueType::Int => "NUMBER_INTEGER",
            ValueType::Float => "NUMBER_DOUBLE",
            ValueType::Bool => "BOOLEAN",
            ValueType::List => "LIST",
            ValueType::Dict => "STRUCT",
            ValueType::Any | ValueType::Artifact => {
                self.refuse(path, format!("values of type `{ty}` are not exported yet: give it a type KFP has (string, int, float, bool, list, dict)"));
                return None;
            }
        })
    }

    /// The tasks of a DAG made of `steps`.
    fn dag(&mut self, steps: &[Step], scope: &Scope<'_>, pipeline: &Pipeline) -> Map<String, Value> {
        let local: BTreeSet<&str> =
            steps.iter().filter_map(|s| if let Step::Task(t) = s { Some(t.task.as_str()) } else { None }).collect();
        let mut tasks = Map::new();
        for (i, step) in steps.iter().enumerate() {
            let path = format!("{}[{i}]", scope.prefix);
            match step {
                Step::Task(task) => {
                    if let Some(spec) = self.task(task, &path, scope, &local, pipeline, None) {
                        tasks.insert(task.task.clone(), spec);
                    }
                }
                Step::ExitHandler(step) => {
                    self.exit_handler(&step.exit_handler, &path, scope, &local, &mut tasks, pipeline)
                }
                Step::If(step) if !matches!(steps.get(i + 1), Some(Step::Elif(_) | Step::Else(_))) => {
                    self.branch(&step.branch, &path, scope, &local, &mut tasks, pipeline);
                }
                Step::If(_) | Step::Elif(_) | Step::Else(_) => {
                    self.refuse(&path, "elif and else are not exported to KFP's IR yet (a lone `if` is)");
                }

                Step::ParallelFor(_) => {
                    self.refuse(&path, "parallel_for is not exported to KFP's IR yet (it maps to a parameter iterator: the next version)");
                }
            }
        }
        tasks
    }

    /// The name of a group: its own, else KFP's and the plan's numbering of unnamed groups.
    fn group_name(&mut self, name: &Option<String>, kind: &str) -> String {
        name.clone().unwrap_or_else(|| {
            self.groups += 1;
            format!("{kind}-{}", self.groups)
        })
    }

    /// A group's steps as a DAG component `comp-NAME`, and the task that runs it in the parent
    /// DAG: every value read inside from outside (`also` too: a condition's references)
    /// arrives as a channel `pipelinechannel--...`, which the task fills from the parent's
    /// parameters, channels or sibling tasks (on which it then depends).
    #[allow(clippy::too_many_arguments)]
    fn group(
        &mut self,
        name: &str,
        steps: &[Step],
        also: &BTreeSet<Ref>,
        steps_path: String,
        scope: &Scope<'_>,
        local: &BTreeSet<&str>,
        pipeline: &Pipeline,
    ) -> Value {
        let mut reads = reads(steps);
        reads.extend(also.iter().cloned());
        reads.extend(scope.inherited.iter().cloned());
        let mut channels = BTreeMap::new();
        let mut parent_inputs = Map::new();
        let mut depends: BTreeSet<String> = BTreeSet::new();
        let inner: BTreeSet<String> = task_names(steps);
        for r in &reads {
            match r {
                Ref::Param(p) => {
                    let Some(ty) = scope.params.get(p).copied() else { continue };
                    let channel = format!("pipelinechannel--{p}");
                    let from = match scope.channels.contains_key(&channel) {
                        true => json!({"componentInputParameter": channel}),
                        false => json!({"componentInputParameter": p}),
                    };
                    parent_inputs.insert(channel.clone(), from);
                    channels.insert(channel, ty);
                }
                Ref::Output { task, output } if !inner.contains(task) => {
                    let channel = format!("pipelinechannel--{task}-{output}");
                    let ty = self.output_type(pipeline, task, output).unwrap_or(ValueType::String);
                    let from = if local.contains(task.as_str()) {
                        depends.insert(task.clone());
                        json!({"taskOutputParameter": {"producerTask": task, "outputParameterKey": output}})
                    } else if scope.channels.contains_key(&channel) {
                        // from further out: through this DAG's own channel
                        json!({"componentInputParameter": channel})
                    } else {
                        // inside another group: refused where it is read
                        continue;
                    };
                    parent_inputs.insert(channel.clone(), from);
                    channels.insert(channel, ty);
                }
                _ => {}
            }
        }
        let mut inherited = scope.inherited.clone();
        inherited.extend(also.iter().cloned());
        let body_scope =
            Scope { params: scope.params, channels: channels.clone(), prefix: steps_path.clone(), inherited };
        let body = self.dag(steps, &body_scope, pipeline);
        let mut component = json!({"dag": {"tasks": body}});
        if !channels.is_empty() {
            let defs: Map<String, Value> = channels
                .iter()
                .filter_map(|(c, ty)| {
                    Some((c.clone(), json!({"parameterType": self.parameter_type(*ty, &steps_path)?})))
                })
                .collect();
            component["inputDefinitions"] = json!({"parameters": defs});
        }
        self.out_components.insert(format!("comp-{name}"), component);
        let mut group_task = json!({"componentRef": {"name": format!("comp-{name}")}, "taskInfo": {"name": name}});
        if !parent_inputs.is_empty() {
            group_task["inputs"] = json!({"parameters": parent_inputs});
        }
        if !depends.is_empty() {
            group_task["dependentTasks"] = json!(depends);
        }
        group_task
    }

    /// An exit-handler group: its body as a DAG component (a task of this DAG), and its exit
    /// task beside it, triggered when the body is done however it ended.
    fn exit_handler(
        &mut self,
        group: &crate::model::ExitHandler,
        path: &str,
        scope: &Scope<'_>,
        local: &BTreeSet<&str>,
        tasks: &mut Map<String, Value>,
        pipeline: &Pipeline,
    ) {
        let name = self.group_name(&group.name, "exit-handler");
        self.refuse_fail_fast(group.fail_fast, &format!("{path}.exit_handler.fail_fast"));
        let steps_path = format!("{path}.exit_handler.steps");
        let group_task = self.group(&name, &group.steps, &BTreeSet::new(), steps_path, scope, local, pipeline);
        tasks.insert(name.clone(), group_task);
        let exit_path = format!("{path}.exit_handler.exit");
        if let Some(spec) = self.task(&group.exit, &exit_path, scope, local, pipeline, Some(&name)) {
            tasks.insert(group.exit.task.clone(), spec);
        }
    }

    /// An `if` with no `elif` or `else` after it: a DAG component whose task in this DAG is
    /// triggered by the condition, in KFP's CEL over the condition's channels.
    fn branch(
        &mut self,
        branch: &crate::model::Branch,
        path: &str,
        scope: &Scope<'_>,
        local: &BTreeSet<&str>,
        tasks: &mut Map<String, Value>,
        pipeline: &Pipeline,
    ) {
        let name = self.group_name(&branch.name, "condition");
        self.refuse_fail_fast(branch.fail_fast, &format!("{path}.if.fail_fast"));
        let expr = match crate::model::condition::Expr::parse(&branch.condition) {
            Ok(expr) => expr,
            Err(e) => {
                self.refuse(&format!("{path}.if.condition"), e);
                return;
            }
        };
        let refs: BTreeSet<Ref> = expr.refs().into_iter().cloned().collect();
        let steps_path = format!("{path}.if.steps");
        let mut group_task = self.group(&name, &branch.steps, &refs, steps_path, scope, local, pipeline);
        match self.cel(&expr, pipeline) {
            Ok(cel) => group_task["triggerPolicy"] = json!({"condition": cel}),
            Err(e) => self.refuse(&format!("{path}.if.condition"), e),
        }
        tasks.insert(name, group_task);
    }

    /// A condition in KFP's CEL: each reference is the channel that carries it
    /// (`inputs.parameter_values['pipelinechannel--flip-Output']`), numbers cast as KFP casts
    /// them (`int(...)`, `double(...)`).
    fn cel(&self, expr: &crate::model::condition::Expr, pipeline: &Pipeline) -> Result<String, String> {
        use crate::model::condition::{Expr, Operand};
        let operand = |o: &Operand| -> Result<String, String> {
            match o {
                Operand::Literal(Value::String(s)) => Ok(format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))),
                Operand::Literal(v) => Ok(v.to_string()),
                Operand::Ref(r) => {
                    let (channel, ty) = match r {
                        Ref::Param(p) => (format!("pipelinechannel--{p}"), pipeline.params.get(p).map(|p| p.ty)),
                        Ref::Output { task, output } => {
                            (format!("pipelinechannel--{task}-{output}"), self.output_type(pipeline, task, output))
                        }
                        Ref::Item { .. } => return Err("loop items are not exported yet".into()),
                    };
                    let value = format!("inputs.parameter_values['{channel}']");
                    Ok(match ty {
                        Some(ValueType::Int) => format!("int({value})"),
                        Some(ValueType::Float) => format!("double({value})"),
                        _ => value,
                    })
                }
            }
        };
        Ok(match expr {
            Expr::And(parts) => parts
                .iter()
                .map(|p| Ok(format!("({})", self.cel(p, pipeline)?)))
                .collect::<Result<Vec<_>, String>>()?
                .join(" && "),
            Expr::Or(parts) => parts
                .iter()
                .map(|p| Ok(format!("({})", self.cel(p, pipeline)?)))
                .collect::<Result<Vec<_>, String>>()?
                .join(" || "),
            Expr::Not(inner) => format!("!({})", self.cel(inner, pipeline)?),
            Expr::Truth(o) => format!("{} == true", operand(o)?),
            Expr::Cmp(op, a, b) => {
                format!("{} {} {}", operand(a)?, op.text(), operand(b)?)
            }
        })
    }

    /// The type of output `output` of task `task` anywhere in the pipeline.
    fn output_type(&self, pipeline: &Pipeline, task: &str, output: &str) -> Option<ValueType> {
        let component = find_task(&pipeline.steps, task)?.component.clone();
        match self.components.get(&component)?.signature.output(output)?.ty {
            PortType::Value(ty) => Some(ty),
            _ => None,
        }
    }

    /// One task of a DAG: its component and executor (added to the document) and its task
    /// spec. `exit_of` names the group whose exit task it is.
    #[allow(clippy::too_many_arguments)]
    fn task(
        &mut self,
        task: &Task,
        path: &str,
        scope: &Scope<'_>,
        local: &BTreeSet<&str>,
        pipeline: &Pipeline,
        exit_of: Option<&str>,
    ) -> Option<Value> {
        let Some(info) = self.components.get(&task.component) else {
            self.refuse(&format!("{path}.component"), format!("component `{}` is not a task component with a known signature (sub-pipelines and commands are not exported yet)", task.component));
            return None;
        };
        for (field, set) in [
            ("dirs", !task.dirs.is_empty()),
            ("host_env", !task.host_env.is_empty()),
            ("network", task.network.is_some()),
            ("host", !task.host.is_empty()),
            ("ignore_upstream_failure", task.ignore_upstream_failure),
        ] {
            if set {
                self.refuse(
                    &format!("{path}.{field}"),
                    format!("`{field}` is not exported to KFP's IR yet; remove it to export the pipeline"),
                );
            }
        }
        let signature = &info.signature;
        let mut inputs = Map::new();
        let mut definitions = Map::new();
        let mut depends: BTreeSet<String> = task.after.iter().cloned().collect();
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
            let PortType::Value(ty) = &spec.ty else {
                self.refuse(&at, "artifact inputs are not exported yet");
                continue;
            };
            let Some(kfp_ty) = self.parameter_type(*ty, &at) else { continue };
            let mut definition = json!({"parameterType": kfp_ty});
            if !spec.required {
                definition["isOptional"] = json!(true);
            }
            let Some(value) = task.inputs.get(name) else {
                if !spec.required {
                    definitions.insert(name.clone(), definition);
                }
                continue;
            };
            definitions.insert(name.clone(), definition);
            let binding = match Binding::parse(value) {
                Ok(b) => b,
                Err(e) => {
                    self.refuse(&at, e);
                    continue;
                }
            };
            match binding {
                Binding::Literal(v) => {
                    inputs.insert(name.clone(), json!({"runtimeValue": {"constant": v}}));
                }
                Binding::Ref(r) => {
                    let Some(source) = self.source(&r, scope, local, exit_of, &at) else { continue };
                    if let Source::Sibling { task, .. } = &source {
                        depends.insert(task.clone());
                    }
                    inputs.insert(name.clone(), source_spec(&source));
                }
                Binding::Format(parts) => {
                    // KFP's form: the text with placeholders of extra inputs, filled in by the launcher.
                    let mut text = String::new();
                    for part in parts {
                        match part {
                            Part::Text(t) => text.push_str(&t),
                            Part::Ref(r) => {
                                let Some(source) = self.source(&r, scope, local, exit_of, &at) else { continue };
                                let channel = match &r {
                                    Ref::Param(p) => format!("pipelinechannel--{p}"),
                                    Ref::Output { task, output } => format!("pipelinechannel--{task}-{output}"),
                                    Ref::Item { .. } => unreachable!("refused by source"),
                                };
                                if let Source::Sibling { task, .. } = &source {
                                    depends.insert(task.clone());
                                }
                                text.push_str(&format!("{{{{$.inputs.parameters['{channel}']}}}}"));
                                inputs.insert(channel, source_spec(&source));
                            }
                        }
                    }
                    inputs.insert(name.clone(), json!({"runtimeValue": {"constant": text}}));
                }
                Binding::OneOf(_) => self.refuse(&at, "one_of is not exported yet"),
            }
        }
        let outputs: Map<String, Value> = signature
            .outputs
            .iter()
            .filter_map(|o| match &o.ty {
                PortType::Value(ty) => Some((o.name.clone(), *ty)),
                _ => {
                    self.refuse(
                        &format!("{path}.component"),
                        format!("component `{}` has artifact outputs, not exported yet", task.component),
                    );
                    None
                }
            })
            .collect::<Vec<_>>()
            .into_iter()
            .filter_map(|(n, ty)| Some((n.clone(), json!({"parameterType": self.parameter_type(ty, path)?}))))
            .collect();
        let comp = format!("comp-{}", task.task);
        let exec = format!("exec-{}", task.task);
        let mut component = json!({"executorLabel": exec});
        if !definitions.is_empty() {
            component["inputDefinitions"] = json!({"parameters": definitions});
        }
        if !outputs.is_empty() {
            component["outputDefinitions"] = json!({"parameters": outputs});
        }
        self.out_components.insert(comp.clone(), component);
        self.executors.insert(exec, self.executor(task, info));
        let mut spec = json!({"componentRef": {"name": comp}, "taskInfo": {"name": task.task}});
        if !inputs.is_empty() {
            spec["inputs"] = json!({"parameters": inputs});
        }
        let cached = exit_of.is_none() && task.cache.unwrap_or(pipeline.cache);
        spec["cachingOptions"] = json!({"enableCache": cached});
        if let Some(group) = exit_of {
            depends.insert(group.to_string());
            spec["triggerPolicy"] = json!({"strategy": "ALL_UPSTREAM_TASKS_COMPLETED"});
        }
        if !depends.is_empty() {
            spec["dependentTasks"] = json!(depends);
        }
        if let Some(retries) = task.retries.or(pipeline.retries).filter(|r| *r > 0) {
            let backoff = task.backoff.or(pipeline.backoff).unwrap_or_default();
            spec["retryPolicy"] = json!({
                "maxRetryCount": retries,
                "backoffDuration": format!("{}s", backoff.initial.0.as_secs()),
                "backoffFactor": backoff.factor,
                "backoffMaxDuration": format!("{}s", backoff.max.0.as_secs()),
            });
        }
        Some(spec)
    }

    /// Where reference `r`, read by a task of this DAG, comes from; None (refused) when KFP's
    /// IR has no way for it yet.
    fn source(
        &mut self,
        r: &Ref,
        scope: &Scope<'_>,
        local: &BTreeSet<&str>,
        exit_of: Option<&str>,
        at: &str,
    ) -> Option<Source> {
        match r {
            Ref::Param(p) => {
                let channel = format!("pipelinechannel--{p}");
                Some(if scope.channels.contains_key(&channel) {
                    Source::Channel(channel)
                } else {
                    Source::Param(p.clone())
                })
            }
            Ref::Output { task, output } => {
                if local.contains(task.as_str()) {
                    return Some(Source::Sibling { task: task.clone(), output: output.clone() });
                }
                let channel = format!("pipelinechannel--{task}-{output}");
                if scope.channels.contains_key(&channel) {
                    return Some(Source::Channel(channel));
                }
                self.refuse(
                    at,
                    if exit_of.is_some() {
                        "an exit task reading an output of its body is not exported (KFP gives an exit task no outputs of the body)"
                    } else {
                        "reading an output of a task inside a group from outside the group is not exported yet"
                    },
                );
                None
            }
            Ref::Item { .. } => {
                self.refuse(at, "loop items are not exported yet");
                None
            }
        }
    }

    /// The container of one task: `wasmpipe task-run` over its component in the image.
    fn executor(&self, task: &Task, info: &ComponentInfo) -> Value {
        let mut args = vec![
            "--executor-input".to_string(),
            "{{$}}".to_string(),
            "--component".to_string(),
            format!("{}/{}", self.options.components_dir.trim_end_matches('/'), info.file),
            "--digest".to_string(),
            info.digest.clone(),
        ];
        if let Some(t) = &task.timeout {
            args.extend(["--timeout".to_string(), format!("{}ms", t.0.as_millis())]);
        }
        if let Some(m) = &task.memory {
            args.extend(["--memory".to_string(), m.0.to_string()]);
        }
        if let Some(f) = task.fuel {
            args.extend(["--fuel".to_string(), f.to_string()]);
        }
        for (k, v) in &task.env {
            args.extend(["--env".to_string(), format!("{k}={v}")]);
        }
        json!({"container": {"image": self.options.image, "command": ["wasmpipe", "task-run"], "args": args}})
    }
}

/// A task spec's input of `source`.
fn source_spec(source: &Source) -> Value {
    match source {
        Source::Param(p) => json!({"componentInputParameter": p}),
        Source::Channel(c) => json!({"componentInputParameter": c}),
        Source::Sibling { task, output } => {
            json!({"taskOutputParameter": {"producerTask": task, "outputParameterKey": output}})
        }
    }
}
