//! A task as a container template running `wasmpipe task-run` over its component: inputs as
//! parameters, value outputs as files, retries, memoization and deadlines.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::artifacts::{ARTIFACT_INPUTS_DIR, ARTIFACT_OUTPUTS_DIR};
use super::names::{parameter_name, quoted};
use super::policies::memo_key;
use super::reference::Source;
use super::{CACHE_CONFIG_MAP, OUTPUTS_DIR, POD_DEADLINE_SLACK_SECS, RETRY_EXPRESSION};
use super::{Exit, Exporter, Local, Scope};
use crate::export::{grants_set, task_limit_args};
use crate::model::Task;
use crate::model::binding::{Binding, Part, Ref};
use crate::model::component::PortType;
use crate::model::value::{ValueType, as_text};

/// What a task becomes: its container template (added to the document) and how a DAG calls it.
pub(super) struct Call {
    /// The container template's name.
    pub(super) template: String,
    /// Its arguments' parameters.
    pub(super) arguments: Vec<Value>,
    /// Its arguments' artifacts (`from`).
    pub(super) artifacts: Vec<Value>,
}

impl Call {
    /// The call's arguments, or None when it has none.
    pub(super) fn arguments(&self) -> Option<Value> {
        let mut arguments = json!({});
        if !self.arguments.is_empty() {
            arguments["parameters"] = json!(self.arguments);
        }
        if !self.artifacts.is_empty() {
            arguments["artifacts"] = json!(self.artifacts);
        }
        (!self.arguments.is_empty() || !self.artifacts.is_empty()).then_some(arguments)
    }
}

impl<'a> Exporter<'a> {
    /// One task: its container template (added to the document), and how a DAG (or, for the
    /// exit task of `exit`, the exit hook of its group) calls it.
    pub(super) fn task(
        &mut self,
        task: &Task,
        path: &str,
        scope: &Scope,
        local: &Local<'_>,
        exit: Option<&Exit<'_>>,
    ) -> Option<Call> {
        let doc = self.doc;
        if let Some(sub) = doc.subs.get(&task.component) {
            if exit.is_some() {
                self.refuse(&format!("{path}.component"), "an exit task that runs a sub-pipeline is not exported to Argo yet (an exit hook calls one template, and its final status would have to reach the sub-pipeline's tasks)");
                return None;
            }
            return self.sub_task(task, sub, path, scope, local);
        }
        let Some(info) = self.components.get(&task.component) else {
            let why = match doc.pipeline.components.get(&task.component) {
                Some(c) if c.pipeline.is_some() => {
                    "is a pipeline that runs itself (`max_depth`): not exported to Argo. Argo's templates could call themselves, but the depth bound would be a parameter counted down through each call with a `when` that stops it, and every use's task ids and outputs would come from a template that does not know its depth; unroll it into sub-pipelines"
                }
                _ => "has no known signature",
            };
            self.refuse(&format!("{path}.component"), format!("component `{}` {why}", task.component));
            return None;
        };
        let limits = [
            ("artifact_limit", task.artifact_limit.is_some()),
            ("value_limit", task.value_limit.is_some()),
            ("loop_item_limit", task.loop_item_limit.is_some()),
        ];
        for (field, set) in grants_set(task).into_iter().chain(limits) {
            if set {
                self.refuse(
                    &format!("{path}.{field}"),
                    format!("`{field}` is not exported to Argo yet; remove it to export the pipeline"),
                );
            }
        }
        let mut args: Vec<String> = vec![
            "--component".into(),
            format!("{}/{}", self.options.components_dir.trim_end_matches('/'), info.file),
            "--digest".into(),
            info.digest.clone(),
            "--run-id".into(),
            "{{workflow.name}}".into(),
            "--task-id".into(),
            format!("{}{}", scope.id, task.task),
            "--outputs-dir".into(),
            OUTPUTS_DIR.into(),
        ];
        let mut inputs = Vec::new();
        let mut arguments = Vec::new();
        let (mut input_artifacts, mut artifacts) = (Vec::new(), Vec::new());
        for spec in &info.signature.inputs {
            let name = &spec.name;
            let at = format!("{path}.inputs.{name}");
            if !parameter_name(name) {
                self.refuse(
                    &at,
                    format!("input `{name}` cannot be an Argo parameter name (letters, digits, `-` and `_`)"),
                );
                continue;
            }
            let ty = match &spec.ty {
                PortType::FinalStatus => {
                    let Some(exit) = exit else {
                        self.refuse(&at, "a final status is given only to an exit task");
                        continue;
                    };
                    inputs.push(json!({"name": name}));
                    arguments.push(json!({"name": name, "value": format!("{{{{tasks.{}.status}}}}", exit.argo)}));
                    args.extend([
                        "--final-status".into(),
                        format!("{{{{inputs.parameters.{name}}}}}"),
                        "--group".into(),
                        exit.group.to_string(),
                    ]);
                    continue;
                }
                PortType::Value(ty) => *ty,
                PortType::Artifact { .. } => {
                    if task.ignore_upstream_failure {
                        self.refuse(&at, "an artifact input of a task with `ignore_upstream_failure` is not exported to Argo (a producer that did not succeed leaves no artifact to give)");
                        continue;
                    }
                    let Some((declared, argument)) =
                        self.artifact_input(name, task.inputs.get(name), &at, scope, local)
                    else {
                        continue;
                    };
                    args.extend(["--artifact".into(), format!("{name}={ARTIFACT_INPUTS_DIR}/{name}")]);
                    input_artifacts.push(declared);
                    artifacts.push(argument);
                    continue;
                }
            };
            // An input left unbound takes the component's default (or fails with kind `input`).
            let Some(value) = task.inputs.get(name) else {
                self.value_type(ty, &at);
                continue;
            };
            if self.artifact_list(value, &at) {
                continue;
            }
            // task-run reads an `any` input as JSON: a literal is written so, and so is the
            // text of a reference of a known type other than string; a string is made JSON.
            let mut quote = false;
            if ty == ValueType::Any {
                match self.any_input(value, scope, local, &at) {
                    Some(q) => quote = q,
                    None => continue,
                }
            } else if !self.value_type(ty, &at) {
                continue;
            }
            // With `ignore_upstream_failure`, an input from a task of this DAG that did not
            // succeed is left out: the component's default (Argo cannot leave out an argument).
            let producers: BTreeSet<String> = if task.ignore_upstream_failure {
                Binding::parse(value)
                    .map(|b| b.refs().into_iter().cloned().collect::<Vec<_>>())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|r| match (r, self.reference(r, scope, local, exit)) {
                        (Ref::Output { .. }, Ok(Source::Sibling { task, .. })) => Some(task),
                        _ => None,
                    })
                    .collect()
            } else {
                BTreeSet::new()
            };
            if !producers.is_empty() {
                let Some(default) = spec.default.as_ref().filter(|d| !d.is_null()) else {
                    self.refuse(&at, "with `ignore_upstream_failure`, an input read from another task is exported to Argo only when the component declares a default for it (what the task gets when its producer did not succeed: Argo cannot leave an argument out, and task-run's Argo mode has no form for a missing input yet)");
                    continue;
                };
                let fallback = quoted(&if ty == ValueType::Any { default.to_string() } else { as_text(default) });
                let mut pieces = Vec::new();
                match Binding::parse(value) {
                    Ok(Binding::Ref(r)) => {
                        if let Ok(source) = self.reference(&r, scope, local, exit) {
                            pieces.push(if quote { format!("toJson({})", source.expr()) } else { source.expr() });
                        }
                    }
                    Ok(Binding::Format(parts)) => {
                        for part in parts {
                            match part {
                                Part::Text(t) => pieces.push(quoted(&t)),
                                Part::Ref(r) => match self.reference(&r, scope, local, exit) {
                                    Ok(source) => pieces.push(source.expr()),
                                    Err(e) => self.refuse(&at, e),
                                },
                            }
                        }
                    }
                    _ => {}
                }
                let ok: Vec<String> =
                    producers.iter().map(|p| format!("tasks[{}].status == 'Succeeded'", quoted(p))).collect();
                let text = format!("{{{{=({}) ? ({}) : {fallback}}}}}", ok.join(" && "), pieces.join(" + "));
                inputs.push(json!({"name": name}));
                arguments.push(json!({"name": name, "value": text}));
                args.extend(["--input".into(), format!("{name}={{{{inputs.parameters.{name}}}}}")]);
                continue;
            }
            let text = match Binding::parse(value) {
                Ok(Binding::Literal(v)) if ty == ValueType::Any => v.to_string(),
                Ok(Binding::Literal(v)) => as_text(&v),
                Ok(Binding::Ref(r)) => match self.reference(&r, scope, local, exit) {
                    Ok(source) if quote => format!("{{{{=toJson({})}}}}", source.expr()),
                    Ok(source) => source.tag(),
                    Err(e) => {
                        self.refuse(&at, e);
                        continue;
                    }
                },
                Ok(Binding::Format(parts)) => {
                    // For an `any` input, the string made JSON: `toJson('text' + value + ...)`.
                    let (mut text, mut pieces) = (String::new(), Vec::new());
                    for part in parts {
                        match part {
                            Part::Text(t) => {
                                text.push_str(&t);
                                pieces.push(quoted(&t));
                            }
                            Part::Ref(r) => match self.reference(&r, scope, local, exit) {
                                Ok(source) => {
                                    text.push_str(&source.tag());
                                    pieces.push(source.expr());
                                }
                                Err(e) => self.refuse(&at, e),
                            },
                        }
                    }
                    if quote { format!("{{{{=toJson({})}}}}", pieces.join(" + ")) } else { text }
                }
                Ok(Binding::OneOf(refs)) => {
                    let refused = if exit.is_some() {
                        Err("one_of read by an exit task is not exported to Argo (an exit hook has no `depends`)"
                            .to_string())
                    } else if task.ignore_upstream_failure {
                        Err("one_of read by a task with `ignore_upstream_failure` is not exported to Argo".to_string())
                    } else {
                        self.one_of_plan(&refs, scope, local)
                    };
                    match refused {
                        Ok(plan) if quote => format!("{{{{=toJson({})}}}}", plan.expr),
                        Ok(plan) => format!("{{{{={}}}}}", plan.expr),
                        Err(e) => {
                            self.refuse(&at, e);
                            continue;
                        }
                    }
                }
                Err(e) => {
                    self.refuse(&at, e);
                    continue;
                }
            };
            inputs.push(json!({"name": name}));
            arguments.push(json!({"name": name, "value": text}));
            args.extend(["--input".into(), format!("{name}={{{{inputs.parameters.{name}}}}}")]);
        }
        let (mut outputs, mut output_artifacts) = (Vec::new(), Vec::new());
        for spec in &info.signature.outputs {
            let at = format!("{path}.component");
            match &spec.ty {
                PortType::Value(ty) if self.value_type(*ty, &at) => {
                    if !parameter_name(&spec.name) {
                        self.refuse(&at, format!("output `{}` cannot be an Argo parameter name", spec.name));
                    }
                    outputs.push(
                        json!({"name": spec.name, "valueFrom": {"path": format!("{OUTPUTS_DIR}/{}", spec.name)}}),
                    );
                }
                PortType::Value(_) | PortType::FinalStatus => {}
                PortType::Artifact { .. } => {
                    let name = &spec.name;
                    if !parameter_name(name) {
                        self.refuse(&at, format!("output `{name}` cannot be an Argo artifact name"));
                    }
                    let place = format!("{ARTIFACT_OUTPUTS_DIR}/{name}");
                    args.extend(["--artifact-output".into(), format!("{name}={place}")]);
                    output_artifacts.push(json!({"name": name, "path": place}));
                }
            }
        }
        let mut template = json!({"name": format!("{}task-{}", self.template_prefix, task.task.replace('_', "-"))});
        if let Some(retries) = task.retries.or(self.pipeline.retries).filter(|r| *r > 0) {
            let (backoff, at) = match task.backoff {
                Some(b) => (b, format!("{path}.backoff")),
                None => (self.pipeline.backoff.unwrap_or_default(), "backoff".to_string()),
            };
            if let Some(backoff) = self.backoff(&backoff, &at) {
                template["retryStrategy"] = json!({
                    "limit": retries,
                    "retryPolicy": "Always",
                    "expression": RETRY_EXPRESSION,
                    "backoff": backoff,
                });
            }
            args.extend(["--retry".into(), "{{retries}}".into()]);
        }
        args.extend(task_limit_args(task));
        // A WASI command's interface and arguments are the pipeline's declaration, in hex: Argo
        // would take its `{{inputs.NAME}}` for its own placeholders.
        if let Some(command) = &info.command {
            let json = serde_json::to_string(command).expect("a command spec serialises");
            let hex: String = json.bytes().map(|b| format!("{b:02x}")).collect();
            args.extend(["--command".into(), format!("hex:{hex}")]);
        }
        // Argo's memoization keeps output parameters only, and its key cannot read an input
        // artifact's content: a task with artifacts is not memoized (it runs each time).
        let with_artifacts = !input_artifacts.is_empty() || !output_artifacts.is_empty();
        if exit.is_none() && !with_artifacts && task.cache.unwrap_or(self.pipeline.cache) {
            template["memoize"] = json!({
                "key": memo_key(info, task, !inputs.is_empty()),
                "maxAge": "",
                "cache": {"configMap": {"name": CACHE_CONFIG_MAP}},
            });
        }
        if let Some(timeout) = &task.timeout {
            template["activeDeadlineSeconds"] = json!(timeout.0.as_secs_f64().ceil() as u64 + POD_DEADLINE_SLACK_SECS);
        }
        if !inputs.is_empty() {
            template["inputs"]["parameters"] = json!(inputs);
        }
        if !input_artifacts.is_empty() {
            template["inputs"]["artifacts"] = json!(input_artifacts);
        }
        if !outputs.is_empty() {
            template["outputs"]["parameters"] = json!(outputs);
        }
        if !output_artifacts.is_empty() {
            template["outputs"]["artifacts"] = json!(output_artifacts);
        }
        template["container"] = json!({"image": self.options.image, "command": ["wasmpipe", "task-run"], "args": args});
        let name = template["name"].as_str().unwrap_or_default().to_string();
        self.templates.push(template);
        Some(Call { template: name, arguments, artifacts })
    }

    /// How the binding `value` of an input of type `any` is exported: Some(false) when its
    /// text is JSON (a literal, a reference to a value of a known type other than string),
    /// Some(true) when it is a string made JSON (`toJson`); None (refused at `at`) when its
    /// type is not known before the run (task-run reads an `any` input as JSON).
    pub(super) fn any_input(&mut self, value: &Value, scope: &Scope, local: &Local<'_>, at: &str) -> Option<bool> {
        let ty = match Binding::parse(value) {
            Ok(Binding::Literal(_)) => return Some(false),
            Ok(Binding::Format(_)) => Some(ValueType::String),
            // The outputs of a `one_of` have one type (validation checks it).
            Ok(Binding::OneOf(refs)) => match refs.first() {
                Some(Ref::Output { task, output }) => self.output_type(task, output),
                _ => None,
            },
            Ok(Binding::Ref(r @ Ref::Output { .. })) if self.fan_in(&r, scope, local) => Some(ValueType::List),
            Ok(Binding::Ref(Ref::Param(p))) => self.pipeline.params.get(&p).map(|p| p.ty),
            Ok(Binding::Ref(Ref::Output { task, output })) => self.output_type(&task, &output),
            // The item of a loop over a literal list (a field of it): the type all items give it.
            Ok(Binding::Ref(Ref::Item { var, field })) => scope.literal_items.get(&var).and_then(|items| {
                let values: Vec<Value> = items
                    .iter()
                    .map(|i| match &field {
                        None => i.clone(),
                        Some(f) => i.get(f).cloned().unwrap_or(Value::Null),
                    })
                    .collect();
                let first = values.first().map(ValueType::of)?;
                values.iter().all(|v| ValueType::of(v) == first).then_some(first)
            }),
            _ => None,
        };
        match ty {
            Some(ValueType::Int | ValueType::Float | ValueType::Bool | ValueType::List | ValueType::Dict) => {
                Some(false)
            }
            Some(ValueType::String) => Some(true),
            _ => {
                self.refuse(at, "an input of type `any` is exported to Argo only bound to a literal or to a value whose type is known before the run (task-run reads it as JSON)");
                None
            }
        }
    }
}
