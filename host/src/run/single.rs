//! One task outside a pipeline: a component run once with given input values and artifacts
//! (and, for an exit task, a final status), in the same sandbox, with the same limits and
//! failure kinds as a task of a run; its output artifacts published where the caller says. What `wasmpipe task-run` runs inside another engine's container.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::Value;

use super::Runner;
use super::bind::{artifact_to_wit, final_status_to_wit};
use crate::model::artifact;
use crate::model::{CommandSpec, OutputFrom};

use crate::model::component::{ComponentSource, PortType};
use crate::model::outcome::{Failure, FailureKind, FinalStatusRecord, LogLine};
use crate::model::policy::{Grants, Limits};
use crate::model::value::ValueType;
use crate::wasm::attempt_dirs::{AttemptDirs, OutputSlot};
use crate::wasm::capture::Capture;
use crate::wasm::engine::EngineKind;
use crate::wasm::executor::run_attempt;
use crate::wasm::sandbox::AttemptPolicy;
use crate::wasm::wit::types;
use crate::wasm::wit_value::to_wit;

/// How one task ended: its outputs or its failure, and what it wrote.
#[derive(Debug)]
pub struct TaskOutcome {
    /// The outputs, by name, or the failure (kind, message, trap code).
    pub result: Result<IndexMap<String, Value>, Failure>,
    /// Its stdout, stderr and `log` lines.
    pub logs: Vec<LogLine>,
}

/// What to run: the component, its inputs, the run and task it belongs to.
#[derive(Debug, Default)]
pub struct TaskCall<'a> {
    /// Input values by name (an int given as a float with no fraction, as KFP passes numbers,
    /// is an int again).
    pub inputs: Vec<(String, Value)>,
    /// Input values by name as text, as a command line gives them (Argo's parameters):
    /// parsed by the type the component declares, as `-p` values are (`ValueType::parse_cli`:
    /// a string as it is, an int, float or bool by its spelling, a list or dict as JSON).
    pub text_inputs: Vec<(String, String)>,
    /// For an exit task: the final status of its body.
    pub final_status: Option<&'a FinalStatusRecord>,
    /// The ids the guest sees in its context.
    pub run_id: String,
    /// See [`TaskCall::run_id`].
    pub task_id: String,
    /// The attempt number the guest sees (1 for the first; 0 is read as 1).
    pub attempt: u32,
    /// The limits of its attempt.
    pub limits: Limits,
    /// What it is granted.
    pub grants: Grants,
    /// Input artifacts by input name: where each is on the host, and its metadata; a `list`
    /// input takes every artifact given under its name (artifacts collected over a loop).
    pub artifacts: Vec<(String, PathBuf, Value)>,
    /// Where each output artifact goes when the task succeeds, by output name (one not listed
    /// stays under `work_dir`).
    pub artifact_outputs: Vec<(String, PathBuf)>,
    /// A directory for the attempt's sandbox directories, which a component with artifacts
    /// needs (its inputs laid out, its outputs staged, then published there).
    pub work_dir: Option<PathBuf>,
    /// For a WASI command: how it runs and its interface, as a pipeline declares them.
    pub command: Option<CommandSpec>,
}

impl Runner {
    /// Runs the component at `path` once, as a task of a run would run: one attempt (the
    /// engine that runs it retries, if any). A component that does not load fails with kind
    /// `load`, inputs that do not fit its signature with kind `input`.
    pub async fn run_task(&self, path: &Path, call: &TaskCall<'_>) -> anyhow::Result<TaskOutcome> {
        let failed = |kind, message: String| TaskOutcome { result: Err(Failure::new(kind, message)), logs: Vec::new() };
        let loader = self.loader_of(EngineKind { fuel: call.limits.fuel.is_some(), pooling: false })?;
        let source = ComponentSource { path: path.to_path_buf(), command: call.command.clone() };
        let component = match loader.load_source(&source).await {
            Ok(component) => component,
            Err(e) => return Ok(failed(FailureKind::Load, e.message)),
        };
        let mut inputs = Vec::new();
        let mut artifact_inputs = Vec::new();
        let given_names = call.inputs.iter().map(|(n, _)| n).chain(call.text_inputs.iter().map(|(n, _)| n));
        for name in given_names {
            if component.signature.input(name).is_none() {
                let known: Vec<&str> = component.signature.inputs.iter().map(|i| i.name.as_str()).collect();
                return Ok(failed(
                    FailureKind::Input,
                    format!("the component has no input `{name}`; its inputs: {}", known.join(", ")),
                ));
            }
        }
        for spec in &component.signature.inputs {
            let mut given = call.inputs.iter().find(|(n, _)| *n == spec.name).map(|(_, v)| v.clone());
            if let (PortType::Value(ty), Some((_, text))) =
                (&spec.ty, call.text_inputs.iter().find(|(n, _)| *n == spec.name))
            {
                match ty.parse_cli(text) {
                    Ok(value) => given = Some(value),
                    Err(e) => return Ok(failed(FailureKind::Input, format!("input `{}`: {e}", spec.name))),
                }
            }
            match (&spec.ty, given) {
                (PortType::FinalStatus, _) => {
                    if let Some(status) = call.final_status {
                        inputs.push((spec.name.clone(), types::InputValue::FinalStatus(final_status_to_wit(status))));
                    }
                }
                // Artifacts collected over a loop, for a `list` input: each laid out at
                // `/in/<input>/<i>`, the input a list of their descriptions.
                (PortType::Value(ValueType::List | ValueType::Any), None)
                    if call.artifacts.iter().any(|(n, _, _)| *n == spec.name) =>
                {
                    let mut seen = Vec::new();
                    for (i, (_, host, metadata)) in
                        call.artifacts.iter().filter(|(n, _, _)| *n == spec.name).enumerate()
                    {
                        let (kind, metadata) = own_metadata(metadata);
                        let mut artifact = match artifact::reference(&spec.name, host, &kind, None) {
                            Ok(artifact) => artifact,
                            Err(e) => return Ok(failed(FailureKind::Input, format!("input `{}`: {e}", spec.name))),
                        };
                        artifact.metadata = metadata;
                        let slot = format!("{}/{i}", spec.name);
                        seen.push(serde_json::json!({
                            "path": format!("{}/{slot}", artifact::GUEST_IN),
                            "name": artifact.name,
                            "kind": artifact.kind,
                            "directory": artifact.directory,
                            "size": artifact.size,
                            "digest": artifact.digest,
                            "metadata": artifact.metadata,
                        }));
                        artifact_inputs.push((slot, artifact));
                    }
                    inputs.push((spec.name.clone(), types::InputValue::Value(to_wit(&Value::Array(seen)))));
                }
                (PortType::Artifact { kind, directory }, _) => {
                    let Some((_, host, metadata)) = call.artifacts.iter().find(|(n, _, _)| *n == spec.name) else {
                        if spec.required {
                            return Ok(failed(
                                FailureKind::Input,
                                format!("input `{}` is an artifact, and none was given", spec.name),
                            ));
                        }
                        continue;
                    };
                    let mut artifact = match artifact::reference(&spec.name, host, kind, Some(*directory)) {
                        Ok(artifact) => artifact,
                        Err(e) => return Ok(failed(FailureKind::Input, format!("input `{}`: {e}", spec.name))),
                    };
                    artifact.metadata = own_metadata(metadata).1;
                    inputs
                        .push((spec.name.clone(), types::InputValue::Artifact(artifact_to_wit(&spec.name, &artifact))));
                    artifact_inputs.push((spec.name.clone(), artifact));
                }
                (PortType::Value(ty), Some(value)) => {
                    let value = match (ty, &value) {
                        (ValueType::Int, Value::Number(n))
                            if n.as_f64().is_some_and(|f| f.fract() == 0.0 && f.abs() < 9.0e15) && !n.is_i64() =>
                        {
                            Value::from(n.as_f64().unwrap_or_default() as i64)
                        }
                        _ => value,
                    };
                    match ty.coerce(value) {
                        Ok(value) => inputs.push((spec.name.clone(), types::InputValue::Value(to_wit(&value)))),
                        Err(e) => return Ok(failed(FailureKind::Input, format!("input `{}`: {e}", spec.name))),
                    }
                }
                (PortType::Value(_), None) if spec.required => {
                    return Ok(failed(
                        FailureKind::Input,
                        format!("input `{}` is required and has no value", spec.name),
                    ));
                }
                (PortType::Value(_), None) => {}
            }
        }
        let slots: Vec<OutputSlot> = component
            .signature
            .outputs
            .iter()
            .filter_map(|o| match &o.ty {
                PortType::Artifact { directory, .. } => {
                    Some(OutputSlot { name: o.name.clone(), directory: *directory })
                }
                _ => None,
            })
            .collect();
        let attempt = call.attempt.max(1);
        // A command's outputs are files it writes, read from its own directories.
        let command_files =
            component.command.as_ref().is_some_and(|c| c.outputs.values().any(|o| o.from == OutputFrom::File));
        let dirs = match (&call.work_dir, artifact_inputs.is_empty() && slots.is_empty() && !command_files) {
            (_, true) => None,
            (None, false) => {
                let message = "the component has artifacts: give the task a work directory".to_string();
                return Ok(failed(FailureKind::Input, message));
            }
            (Some(dir), false) => match AttemptDirs::prepare(dir, &call.task_id, attempt, &artifact_inputs, &slots) {
                Ok(dirs) => Some(dirs),
                Err(e) => {
                    let message =
                        format!("cannot lay out the task's artifact directories under {}: {e}", dir.display());
                    return Ok(failed(FailureKind::Input, message));
                }
            },
        };
        let ctx = types::Context { run_id: call.run_id.clone(), task_id: call.task_id.clone(), attempt };
        let policy = AttemptPolicy { limits: &call.limits, grants: &call.grants, run_data: None };
        let mut outcome =
            run_attempt(&component, ctx, &inputs, policy, dirs.as_ref(), Capture::new(call.limits.output)).await;
        if let (Some(dirs), Some(work_dir), Ok(outputs)) = (&dirs, &call.work_dir, &mut outcome.result)
            && let Err(e) = place_outputs(dirs, work_dir, &slots, &call.artifact_outputs, outputs)
        {
            outcome.result =
                Err(Failure::new(FailureKind::Error, format!("cannot publish the task's output artifacts: {e}")));
        }
        Ok(TaskOutcome { result: outcome.result, logs: outcome.logs })
    }
}

/// Publishes the output artifacts `slots` of a successful attempt (under `work_dir`), then
/// moves each one `to` names where it goes; `outputs` then give their paths there.
fn place_outputs(
    dirs: &AttemptDirs,
    work_dir: &Path,
    slots: &[OutputSlot],
    to: &[(String, PathBuf)],
    outputs: &mut IndexMap<String, Value>,
) -> std::io::Result<()> {
    dirs.publish(slots.iter().map(|o| o.name.as_str()), false)?;
    for (name, dest) in to {
        let Some(value) = outputs.get_mut(name) else { continue };
        let Some(published) = value.get("path").and_then(Value::as_str).map(|p| work_dir.join(p)) else { continue };
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if std::fs::symlink_metadata(dest).is_ok() {
            artifact::remove(dest)?;
        }
        if std::fs::rename(&published, dest).is_err() {
            artifact::copy(&published, dest)?;
        }
        value["path"] = Value::String(dest.display().to_string());
    }
    Ok(())
}

/// An artifact's kind and its own metadata, from metadata an engine carried (where `task-run`
/// added `wasmpipe.kind`, `wasmpipe.size`... for it: those are not the artifact's).
fn own_metadata(metadata: &Value) -> (String, Value) {
    let kind = metadata.get("wasmpipe.kind").and_then(Value::as_str).unwrap_or("Artifact").to_string();
    match metadata {
        Value::Object(fields) => {
            let own = fields.iter().filter(|(k, _)| !k.starts_with("wasmpipe.")).map(|(k, v)| (k.clone(), v.clone()));
            (kind, Value::Object(own.collect()))
        }
        other => (kind, other.clone()),
    }
}
