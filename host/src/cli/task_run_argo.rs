//! `wasmpipe task-run --outputs-dir DIR`: the entrypoint of the containers `wasmpipe compile
//! --target argo` writes. Argo gives a container no executor input: each input comes as
//! `--input NAME=TEXT` (the text of an Argo parameter, parsed by the type the component
//! declares, as `-p` values are), an exit task's final status as `--final-status PHASE` (the
//! body's Argo phase, `{{tasks.GROUP.status}}`), and each value output goes to `DIR/NAME` (a
//! string as it is, any other value as JSON: the text another task's `--input` reads back).
//! Input artifacts come as `--artifact NAME=PATH` (where Argo put them; metadata `{}`: Argo
//! keeps none), and each output artifact is placed at its `--artifact-output NAME=PATH`, which
//! Argo uploads to its artifact repository.
//! Exits 0 when the task succeeded; 1 when it failed with a kind wasmpipe retries, 2 with one
//! it does not (`load`, `input`, `cancelled`, `internal`), so that the template's
//! `retryStrategy` retries exit code 1 only; the failure on stderr as one JSON line.

use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;
use serde_json::json;
use wasmpipe::model::outcome::{Failure, FailureKind, FinalStatusRecord, RunState};
use wasmpipe::model::value::as_text;

use super::args::TaskRunArgs;
use super::task_run::{WorkDir, check_component, final_status, report_failure, run, task_call, write};

/// The exit code of a failure wasmpipe does not retry (Argo's `retryStrategy` retries 1 only).
pub const NOT_RETRIED: u8 = 2;

/// Runs one task from Argo's parameters, its outputs to `outputs_dir`.
pub async fn task_run_argo(args: &TaskRunArgs, outputs_dir: &Path) -> anyhow::Result<ExitCode> {
    check_component(args)?;
    let mut call = task_call(args, "argo".into(), "task".into());
    let status = match &args.final_status {
        Some(phase) => match argo_final_status(phase, call.run_id.clone(), args.group.clone().unwrap_or_default()) {
            Some(status) => Some(status),
            None => {
                let message = format!(
                    "--final-status `{phase}` is not a phase Argo gives a finished task (`Succeeded`, `Failed` or `Error`)"
                );
                report_failure(&Failure::new(FailureKind::Input, message));
                return Ok(ExitCode::from(NOT_RETRIED));
            }
        },
        None => None,
    };
    call.text_inputs = args.inputs.clone();
    call.final_status = status.as_ref();
    // Artifacts: each input where Argo put it (no metadata: Argo keeps none), each output
    // where the template's `outputs.artifacts` reads it.
    call.artifacts = args.artifacts.iter().map(|(name, path)| (name.clone(), path.clone(), json!({}))).collect();
    call.artifact_outputs = args.artifact_outputs.clone();
    let work = WorkDir::new()?;
    call.work_dir = Some(work.0.clone());
    let outcome = run(args, &call).await?;
    match outcome.result {
        Ok(outputs) => {
            // An output artifact is where --artifact-output placed it, not a value file.
            for (name, value) in outputs.iter().filter(|(n, _)| !args.artifact_outputs.iter().any(|(a, _)| a == *n)) {
                if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
                    bail!("the component has an output named `{name}`, which cannot be a file name in --outputs-dir");
                }
                write(&outputs_dir.join(name), as_text(value).as_bytes())?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(failure) => {
            report_failure(&failure);
            Ok(ExitCode::from(if failure.kind.retried() { 1 } else { NOT_RETRIED }))
        }
    }
}

/// Argo's phase of an exit-handler body (`{{tasks.GROUP.status}}`) as wasmpipe's final
/// status: `Succeeded` is `succeeded`; `Failed` and `Error` are `failed`, with one failure
/// (kind `error`, task `group`) that says so: Argo's phase names no failed task. None for any
/// other text.
fn argo_final_status(phase: &str, run_id: String, group: String) -> Option<FinalStatusRecord> {
    let state = match phase {
        "Succeeded" => RunState::Succeeded,
        "Failed" | "Error" => RunState::Failed,
        _ => return None,
    };
    let message = format!("Argo reports the body of `{group}` as {phase} (see the workflow's nodes for which task)");
    Some(final_status(state, run_id, group, &message))
}
