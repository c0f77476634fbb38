//! One task outside a pipeline: a component run once with given input values (and, for an
//! exit task, a final status), in the same sandbox, with the same limits and failure kinds as
//! a task of a run. What `wasmpipe task-run` runs inside another engine's container.

use std::path::Path;

use indexmap::IndexMap;
use serde_json::Value;

use super::Runner;
use super::bind::final_status_to_wit;
use crate::model::component::PortType;
use crate::model::outcome::{Failure, FailureKind, FinalStatusRecord, LogLine};
use crate::model::policy::{Grants, Limits};
use crate::model::value::ValueType;
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
}

impl Runner {
    /// Runs the component at `path` once, as a task of a run would run: one attempt (the
    /// engine that runs it retries, if any). A component that does not load fails with kind
    /// `load`, inputs that do not fit its signature with kind `input`.
    pub async fn run_task(&self, path: &Path, call: &TaskCall<'_>) -> anyhow::Result<TaskOutcome> {
        let failed = |kind, message: String| TaskOutcome { result: Err(Failure::new(kind, message)), logs: Vec::new() };
        let loader = self.loader_of(EngineKind { fuel: call.limits.fuel.is_some(), pooling: false })?;
        let component = match loader.load(path).await {
            Ok(component) => component,
            Err(e) => return Ok(failed(FailureKind::Load, e.message)),
        };
        let mut inputs = Vec::new();
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
                (PortType::Artifact { .. }, _) => {
                    return Ok(failed(
                        FailureKind::Input,
                        format!(
                            "input `{}` is an artifact: a task run on its own takes values only, for now",
                            spec.name
                        ),
                    ));
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
        let ctx =
            types::Context { run_id: call.run_id.clone(), task_id: call.task_id.clone(), attempt: call.attempt.max(1) };
        let policy = AttemptPolicy { limits: &call.limits, grants: &call.grants, run_data: None };
        let outcome = run_attempt(&component, ctx, &inputs, policy, None, Capture::new(call.limits.output)).await;
        Ok(TaskOutcome { result: outcome.result, logs: outcome.logs })
    }
}
