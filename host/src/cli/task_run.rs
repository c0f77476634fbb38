//! `wasmpipe task-run`: the entrypoint of the containers `wasmpipe compile --target kfp`
//! writes. Reads KFP's executor input (`{{$}}`), runs the task's component once in the same
//! sandbox and limits as `wasmpipe run`, writes each output where KFP's launcher reads it (the
//! parameter's `outputFile`, and the executor output `outputs.outputFile`), and exits 0, or 1
//! with the failure (kind, message, trap code) on stderr as one JSON line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde_json::{Map, Value, json};
use wasmpipe::model::outcome::{FailureKind, FinalStatusRecord, RunState, TaskFailureRecord};
use wasmpipe::model::policy::{Grants, Limits};
use wasmpipe::run::{Runner, TaskCall};

use super::args::TaskRunArgs;

/// Runs one task from KFP's executor input: exit code 0 when it succeeded, 1 when it failed.
pub async fn task_run(args: TaskRunArgs) -> anyhow::Result<ExitCode> {
    let input: Value = serde_json::from_str(&args.executor_input)
        .context("--executor-input is not JSON (KFP passes it as `{{$}}`)")?;
    let bytes = std::fs::read(&args.component)
        .with_context(|| format!("cannot read the component {}", args.component.display()))?;
    if let Some(digest) = &args.digest {
        let actual = format!("blake3:{}", blake3::hash(&bytes).to_hex());
        if &actual != digest {
            bail!(
                "the component {} is {actual}, not the {digest} the pipeline was compiled with: rebuild the runner image",
                args.component.display()
            );
        }
    }
    let parameters = input["inputs"]["parameterValues"].as_object().cloned().unwrap_or_default();
    // Channels (`pipelinechannel--...`) only fill the placeholders of formatted strings.
    let (channels, parameters): (Vec<_>, Vec<_>) =
        parameters.into_iter().partition(|(name, _)| name.starts_with(CHANNEL));
    let mut inputs = Vec::new();
    let mut final_status = None;
    for (name, value) in parameters {
        match kfp_final_status(&value) {
            Some(status) => final_status = Some(status),
            None => inputs.push((name, fill_placeholders(value, &channels))),
        }
    }
    let mut limits = Limits::default();
    if let Some(t) = args.timeout {
        limits.timeout = t.0;
    }
    if let Some(m) = args.memory {
        limits.memory = usize::try_from(m.0).unwrap_or(usize::MAX);
    }
    limits.fuel = args.fuel;
    let grants = Grants { env: args.env.clone(), ..Grants::default() };
    let task_id = std::env::var("KFP_POD_NAME").unwrap_or_else(|_| "task".into());
    let run_id = std::env::var("KFP_RUN_ID").unwrap_or_else(|_| "kfp".into());
    let call = TaskCall { inputs, final_status: final_status.as_ref(), run_id, task_id, limits, grants };
    let runner = Runner::new()?.without_pooling();
    let outcome = runner.run_task(&args.component, &call).await?;
    for line in &outcome.logs {
        eprintln!("[{}] {}", line.source, line.text);
    }
    match outcome.result {
        Ok(outputs) => {
            write_outputs(&input, &outputs)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(failure) => {
            eprintln!("{}", json!({"failure": failure}));
            Ok(ExitCode::from(1))
        }
    }
}

/// The prefix of the inputs KFP adds for the references of a formatted string.
const CHANNEL: &str = "pipelinechannel--";

/// A string with KFP's placeholders (`{{$.inputs.parameters['pipelinechannel--x']}}`, as the
/// export writes formatted strings) filled from `channels` (strings as they are, other values
/// as JSON); where KFP filled them already, the string is unchanged.
fn fill_placeholders(value: Value, channels: &[(String, Value)]) -> Value {
    let Value::String(mut text) = value else { return value };
    for (name, channel) in channels {
        let placeholder = format!("{{{{$.inputs.parameters['{name}']}}}}");
        if text.contains(&placeholder) {
            let with = match channel {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            text = text.replace(&placeholder, &with);
        }
    }
    Value::String(text)
}

/// KFP's `PipelineTaskFinalStatus` value (`{"state": "FAILED", "error": {...}, ...}`) as
/// wasmpipe's final status; None for any other value. KFP's status names one error: it becomes
/// the one failure listed (kind `error`; the body's own failures are not in KFP's status).
fn kfp_final_status(value: &Value) -> Option<FinalStatusRecord> {
    let map = value.as_object()?;
    let state = map.get("state")?.as_str()?;
    // KFP's backend writes camelCase keys, kfp.local snake_case ones.
    let field = |camel: &str, snake: &str| map.get(camel).or_else(|| map.get(snake)).and_then(Value::as_str);
    field("pipelineTaskName", "pipeline_task_name")?;
    let state = match state {
        "SUCCEEDED" => RunState::Succeeded,
        "CANCELED" | "CANCELLED" => RunState::Cancelled,
        _ => RunState::Failed,
    };
    let group = field("pipelineTaskName", "pipeline_task_name").unwrap_or_default().to_string();
    let message = map.get("error").and_then(|e| e.get("message")).and_then(Value::as_str).unwrap_or_default();
    let failures = if state == RunState::Failed {
        vec![TaskFailureRecord {
            task: group.clone(),
            kind: FailureKind::Error,
            message: message.to_string(),
            trap_code: None,
            cached: false,
            exit_handler: false,
        }]
    } else {
        Vec::new()
    };
    let run_id = field("pipelineJobResourceName", "pipeline_job_resource_name").unwrap_or_default().to_string();
    Some(FinalStatusRecord { state, run_id, group, failures })
}

/// Writes each output parameter KFP asks for to its `outputFile` (strings as they are, other
/// values as JSON, as KFP's launcher reads them), and all of them to the executor output file.
fn write_outputs(input: &Value, outputs: &indexmap::IndexMap<String, Value>) -> anyhow::Result<()> {
    let wanted = input["outputs"]["parameters"].as_object().cloned().unwrap_or_default();
    let mut values = Map::new();
    for (name, spec) in &wanted {
        let Some(value) = outputs.get(name) else {
            bail!("KFP asks for output `{name}`, which the component did not return")
        };
        if let Some(file) = spec["outputFile"].as_str() {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            write(Path::new(file), text.as_bytes())?;
        }
        values.insert(name.clone(), value.clone());
    }
    if let Some(file) = input["outputs"]["outputFile"].as_str() {
        write(Path::new(file), json!({"parameterValues": values}).to_string().as_bytes())?;
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot make {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", PathBuf::from(path).display()))
}
