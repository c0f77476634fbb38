//! `wasmpipe task-run`: the entrypoint of the containers `wasmpipe compile` writes. In KFP's
//! mode (`--executor-input`) it reads KFP's executor input (`{{$}}`), runs the task's component
//! once in the same sandbox and limits as `wasmpipe run`, writes each output where KFP's
//! launcher reads it (the parameter's `outputFile`, and the executor output
//! `outputs.outputFile`), and exits 0, or 1 with the failure (kind, message, trap code) on
//! stderr as one JSON line. Argo's mode is [`super::task_run_argo`]; what both do (check the
//! component, make the call, run it, report a failure, build a final status) is here.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde_json::{Map, Value, json};
use wasmpipe::model::outcome::{Failure, FailureKind, FinalStatusRecord, RunState, TaskFailureRecord};
use wasmpipe::model::policy::{Grants, Limits};
use wasmpipe::model::value::as_text;
use wasmpipe::run::{Runner, TaskCall, TaskOutcome};

use super::args::TaskRunArgs;
use super::task_failures::FailureBoard;

/// Runs one task, in KFP's mode (`--executor-input`) or Argo's (`--outputs-dir`, see
/// [`super::task_run_argo`]): exit code 0 when it succeeded, 1 (or, for Argo, 2) when it failed.
pub async fn task_run(args: TaskRunArgs) -> anyhow::Result<ExitCode> {
    match (&args.executor_input, &args.outputs_dir) {
        (Some(input), _) => kfp(&args, input).await,
        (None, Some(dir)) => super::task_run_argo::task_run_argo(&args, dir).await,
        (None, None) => bail!("give --executor-input (KFP) or --outputs-dir (Argo)"),
    }
}

/// Runs one task from KFP's executor input: exit code 0 when it succeeded, 1 when it failed.
async fn kfp(args: &TaskRunArgs, executor_input: &str) -> anyhow::Result<ExitCode> {
    let input: Value =
        serde_json::from_str(executor_input).context("--executor-input is not JSON (KFP passes it as `{{$}}`)")?;
    check_component(args)?;
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
    let run_id = std::env::var("KFP_RUN_ID").unwrap_or_else(|_| "kfp".into());
    let task_id = std::env::var("KFP_POD_NAME").unwrap_or_else(|_| "task".into());
    let id = args.task_id.as_deref().unwrap_or(&task_id);
    let board = FailureBoard::new(args, args.run_id.as_deref().unwrap_or(&run_id), id, &input, local_path);
    // An exit task's final status lists every failed task of its body that left its failure.
    // The items of the loops around the task (channels `...-loop-item...`): its iteration.
    let items: Map<String, Value> = channels.iter().filter(|(name, _)| name.contains("loop-item")).cloned().collect();
    if let (Some(status), Some(board), Some(body)) = (&mut final_status, &board, &args.exit_of) {
        let left = board.collect(body, &items);
        if !left.is_empty() {
            status.failures = left;
        }
    }
    let mut call = task_call(args, run_id, task_id);
    // KFP gives a container no attempt number: the runner counts them where it can.
    if let (Some(board), None) = (&board, args.retry) {
        call.attempt = board.attempt();
    }
    call.inputs = inputs;
    call.final_status = final_status.as_ref();
    // Artifacts: each input where KFP's launcher put it, each output where KFP reads it.
    let first = |side: &str, name: &str| input[side]["artifacts"][name]["artifacts"][0].clone();
    // A list of artifacts (collected over a loop) is every one given under the input's name.
    for (name, given) in input["inputs"]["artifacts"].as_object().cloned().unwrap_or_default() {
        for artifact in given["artifacts"].as_array().cloned().unwrap_or_default() {
            let uri = artifact["uri"].as_str().unwrap_or_default();
            call.artifacts.push((name.clone(), local_path(uri), artifact["metadata"].clone()));
        }
    }
    for name in
        input["outputs"]["artifacts"].as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default()
    {
        let uri = first("outputs", &name)["uri"].as_str().unwrap_or_default().to_string();
        call.artifact_outputs.push((name, local_path(&uri)));
    }
    let work = WorkDir::new()?;
    call.work_dir = Some(work.0.clone());
    let outcome = run(args, &call).await?;
    match outcome.result {
        Ok(outputs) => {
            write_outputs(&input, &outputs)?;
            if let Some(board) = &board {
                board.clear();
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(failure) => {
            if let Some(board) = &board {
                board.leave(&call.task_id, &args.groups, &items, args.exit_of.is_some(), &failure);
            }
            report_failure(&failure);
            Ok(ExitCode::from(1))
        }
    }
}

/// Refuses a component that cannot be read, or whose content is not the `--digest` the
/// pipeline was compiled with.
pub(super) fn check_component(args: &TaskRunArgs) -> anyhow::Result<()> {
    if args.command.is_some() {
        command_spec(args)?;
    }
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
    Ok(())
}

/// The command declaration `--command` gives: JSON, or `hex:` and the JSON's bytes in hex
/// (as the Argo export writes it: Argo would read the declaration's `{{inputs.NAME}}` as its
/// own placeholders).
fn command_spec(args: &TaskRunArgs) -> anyhow::Result<Option<wasmpipe::model::CommandSpec>> {
    let Some(text) = &args.command else { return Ok(None) };
    let json = match text.strip_prefix("hex:") {
        Some(hex) => {
            let bytes: Option<Vec<u8>> = (0..hex.len())
                .step_by(2)
                .map(|i| hex.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
                .collect();
            String::from_utf8(bytes.context("--command hex:... is not hex")?)
                .context("--command hex:... is not UTF-8")?
        }
        None => text.clone(),
    };
    serde_json::from_str(&json)
        .map(Some)
        .context("--command is not a command component's declaration (JSON, as `wasmpipe compile` writes it)")
}

/// The call of the task with no inputs yet: its ids (`--run-id`, `--task-id`, else the
/// engine's `run_id` and `task_id`), attempt (`--retry`), limits and environment.
pub(super) fn task_call<'a>(args: &TaskRunArgs, run_id: String, task_id: String) -> TaskCall<'a> {
    let mut limits = Limits::default();
    if let Some(t) = args.timeout {
        limits.timeout = t.0;
    }
    if let Some(m) = args.memory {
        limits.memory = usize::try_from(m.0).unwrap_or(usize::MAX);
    }
    limits.fuel = args.fuel;
    TaskCall {
        command: command_spec(args).ok().flatten(),
        run_id: args.run_id.clone().unwrap_or(run_id),
        task_id: args.task_id.clone().unwrap_or(task_id),
        attempt: args.retry.map_or(1, |r| r.saturating_add(1)),
        limits,
        grants: Grants { env: args.env.clone(), ..Grants::default() },
        ..TaskCall::default()
    }
}

/// Runs the call once over `--component`, its logs to stderr as `[source] text` lines.
pub(super) async fn run(args: &TaskRunArgs, call: &TaskCall<'_>) -> anyhow::Result<TaskOutcome> {
    let runner = Runner::new()?.without_pooling();
    let outcome = runner.run_task(&args.component, call).await?;
    for line in &outcome.logs {
        eprintln!("[{}] {}", line.source, line.text);
    }
    Ok(outcome)
}

/// The failure on stderr, as one JSON line (`{"failure": {kind, message, trap_code?}}`).
pub(super) fn report_failure(failure: &Failure) {
    eprintln!("{}", json!({"failure": failure}));
}

/// The final status an exit task gets from an engine that tells only the body's state and at
/// most one error: that error (or `message`) as the one failure listed, of kind `error` and
/// task `group`, when the body failed.
pub(super) fn final_status(state: RunState, run_id: String, group: String, message: &str) -> FinalStatusRecord {
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
    FinalStatusRecord { state, run_id, group, failures }
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
            text = text.replace(&placeholder, &as_text(channel));
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
    // Only KFP's states: a dict input that merely has these keys is a value.
    let state = match state {
        "SUCCEEDED" => RunState::Succeeded,
        "CANCELED" | "CANCELLED" => RunState::Cancelled,
        "FAILED" | "SYSTEM_ERROR" | "NOT_TRIGGERED" | "RUNTIME_STATE_UNSPECIFIED" => RunState::Failed,
        _ => return None,
    };
    let group = field("pipelineTaskName", "pipeline_task_name").unwrap_or_default().to_string();
    let message = map.get("error").and_then(|e| e.get("message")).and_then(Value::as_str).unwrap_or_default();
    let run_id = field("pipelineJobResourceName", "pipeline_job_resource_name").unwrap_or_default().to_string();
    Some(final_status(state, run_id, group, message))
}

/// Writes each output parameter KFP asks for to its `outputFile` (strings as they are, other
/// values as JSON, as KFP's launcher reads them), and all of them and the output artifacts
/// (KFP's uri, wasmpipe's metadata and what the artifact is: kind, size, digest) to the
/// executor output file.
fn write_outputs(input: &Value, outputs: &indexmap::IndexMap<String, Value>) -> anyhow::Result<()> {
    let wanted = input["outputs"]["parameters"].as_object().cloned().unwrap_or_default();
    let mut values = Map::new();
    for (name, spec) in &wanted {
        let Some(value) = outputs.get(name) else {
            bail!("KFP asks for output `{name}`, which the component did not return")
        };
        if let Some(file) = spec["outputFile"].as_str() {
            write(Path::new(file), as_text(value).as_bytes())?;
        }
        values.insert(name.clone(), value.clone());
    }
    let mut artifacts = Map::new();
    for (name, spec) in input["outputs"]["artifacts"].as_object().cloned().unwrap_or_default() {
        let Some(made) = outputs.get(&name) else {
            bail!("KFP asks for output artifact `{name}`, which the component did not write")
        };
        let mut artifact = spec["artifacts"][0].clone();
        // KFP's metadata is an object: other metadata is kept under `value`.
        let mut metadata = match &made["metadata"] {
            Value::Object(m) => m.clone(),
            Value::Null => Map::new(),
            other => Map::from_iter([("value".to_string(), other.clone())]),
        };
        for key in ["kind", "size", "digest", "directory"] {
            metadata.insert(format!("wasmpipe.{key}"), made[key].clone());
        }
        artifact["metadata"] = Value::Object(metadata);
        artifacts.insert(name, json!({"artifacts": [artifact]}));
    }
    if let Some(file) = input["outputs"]["outputFile"].as_str() {
        let mut output = json!({"parameterValues": values});
        if !artifacts.is_empty() {
            output["artifacts"] = Value::Object(artifacts);
        }
        write(Path::new(file), output.to_string().as_bytes())?;
    }
    Ok(())
}

/// Whether `name` can name a file: letters, digits, `-`, `_` and `.` (not `..` alone).
pub(super) fn plain(name: &str) -> bool {
    !name.is_empty()
        && name != ".."
        && name != "."
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Where KFP's launcher has an artifact of `uri` on the container's disk: `gs://B/P` at
/// `/gcs/B/P`, `s3://` at `/s3/`, `minio://` at `/minio/`; a path as it is (kfp.local).
fn local_path(uri: &str) -> PathBuf {
    for (scheme, mount) in [("gs://", "/gcs/"), ("s3://", "/s3/"), ("minio://", "/minio/")] {
        if let Some(rest) = uri.strip_prefix(scheme) {
            return PathBuf::from(format!("{mount}{rest}"));
        }
    }
    PathBuf::from(uri)
}

/// A directory of the task's own for its sandbox directories, removed when dropped.
pub(super) struct WorkDir(pub(super) PathBuf);

impl WorkDir {
    pub(super) fn new() -> anyhow::Result<WorkDir> {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("wasmpipe-task-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot make {}", dir.display()))?;
        Ok(WorkDir(dir))
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes `bytes` to `path`, making its directory first.
pub(super) fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot make {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", PathBuf::from(path).display()))
}
