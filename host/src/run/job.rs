//! One task's way through a run: getting it ready (its component for the engine it runs on,
//! its inputs bound, its artifact directories, its output-cache key), then its attempts, with
//! retries and backoff, in a [`Job`] that can run on any worker thread.

use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::Value;

use super::bind::{Bound, Outputs, bind_inputs};
use super::quotas::{self, Spent};
use super::{RunCtx, RunData};
use crate::model::artifact::{ArtifactRef, measure};
use crate::model::component::PortType;
use crate::model::policy::{Grants, Limits};
use crate::model::{Backoff, OutputFrom};
use crate::plan::tree::Tree;
use crate::plan::{Idx, TaskInstIdx};
use crate::record::{Attempt, Failure, FailureKind, FinalStatusRecord, LogLine, now};
use crate::wasm::attempt_dirs::{AttemptDirs, OutputSlot};
use crate::wasm::capture::Capture;
use crate::wasm::executor;
use crate::wasm::loader::LoadedComponent;
use crate::wasm::sandbox::AttemptPolicy;
use crate::wasm::verdict::AttemptOutcome;
use crate::wasm::wit::types;

/// Gets task `t` ready to run: its component and its inputs. Fails at once (kind `load` or
/// `input`) when either is missing. Also returns the notes for the task's log.
pub(super) fn prepare_task(
    ctx: &RunCtx,
    tree: &Tree,
    t: TaskInstIdx,
    outputs: &Outputs,
    final_status: Option<&FinalStatusRecord>,
) -> (Result<Start, Failure>, Vec<LogLine>) {
    let (prepared, options) = (&*ctx.prepared, &ctx.options);
    let instance = &tree.tasks[t];
    crate::faults::panic_point("prepare", &instance.id);
    let task = &prepared.plan.tasks[instance.template];
    let slot = &prepared.tasks[instance.template.index()];
    let logs: Vec<LogLine> =
        slot.notes.iter().map(|n| LogLine { source: "wasmpipe".into(), text: n.clone(), at: Some(now()) }).collect();
    let component = match &slot.component {
        Ok(component) => component,
        Err(e) => return (Err(Failure::new(FailureKind::Load, e.message.clone())), logs),
    };
    let limits = quotas::task_limits(task, options);
    let Bound { inputs, values, artifacts } =
        match bind_inputs(prepared, tree, t, component, outputs, final_status, limits.values) {
            Ok(bound) => bound,
            Err(failure) => return (Err(failure), logs),
        };
    let artifact_outputs: Vec<OutputSlot> = component
        .signature
        .outputs
        .iter()
        .filter_map(|o| match &o.ty {
            PortType::Artifact { directory, .. } => Some(OutputSlot { name: o.name.clone(), directory: *directory }),
            _ => None,
        })
        .collect();
    // A task granted host interfaces computes from the embedder's state, which no key covers.
    let cached = !task.is_exit && task.grants.host.is_empty() && task.cache.unwrap_or(options.cache);
    // The worker looks the key up, with the run's lock released (it reads files).
    let cache_key = match (&ctx.disk, cached) {
        (Some(_), true) => Some(output_cache_key(component, &values, &task.grants)),
        _ => None,
    };
    let job = Job {
        component: component.clone(),
        run_id: ctx.run_id.clone(),
        task_id: instance.id.clone(),
        inputs,
        limits,
        grants: task.grants.clone(),
        run_data: options.run_data.clone(),
        run_root: ctx.run_root.clone(),
        needs_dirs: !artifacts.is_empty()
            || !artifact_outputs.is_empty()
            || component.command.as_ref().is_some_and(|c| c.outputs.values().any(|o| o.from == OutputFrom::File)),
        artifact_inputs: artifacts,
        artifact_outputs,
        retries: task.retries,
        backoff: task.backoff,
        progress: Arc::default(),
        durable: options.durable,
        spent: ctx.spent.clone(),
        artifact_budget_note: None,
    };
    (Ok((Box::new(job), cache_key)), logs)
}

/// What a task produced: outputs or a failure.
pub(super) type TaskResult = Result<IndexMap<String, Value>, Failure>;

/// The attempts of a task so far, shared between its job and the runner, so that an
/// interrupted task (mid-attempt or in a backoff) is recorded as far as it got.
#[derive(Default)]
pub(super) struct Progress {
    pub(super) attempts: Vec<Attempt>,
    pub(super) logs: Vec<LogLine>,
    /// The attempt running now: when it started, and what it writes.
    pub(super) current: Option<(String, Capture)>,
    /// Set by the task's worker when its attempts are over and it records the task itself: an
    /// interrupt arriving now leaves the task to it.
    pub(super) done: bool,
}

/// A task's attempts, owning all they need, so that they can run on any thread of the runtime.
pub(super) struct Job {
    pub(super) component: Arc<LoadedComponent>,
    pub(super) run_id: Arc<str>,
    pub(super) task_id: String,
    pub(super) inputs: Vec<(String, types::InputValue)>,
    pub(super) limits: Limits,
    pub(super) grants: Grants,
    /// What the run hands the embedder's host interfaces.
    pub(super) run_data: Option<RunData>,
    /// The run's directory, where artifacts live.
    pub(super) run_root: Arc<Path>,
    /// Whether attempts need directories of their own (artifacts, or a command's output files).
    pub(super) needs_dirs: bool,
    /// Input artifacts, by input name.
    pub(super) artifact_inputs: Vec<(String, ArtifactRef)>,
    /// The component's output artifacts.
    pub(super) artifact_outputs: Vec<OutputSlot>,
    pub(super) retries: u32,
    pub(super) backoff: Backoff,
    pub(super) progress: Arc<std::sync::Mutex<Progress>>,
    /// Sync published artifacts to disk before the task counts as ended (`--durable`).
    pub(super) durable: bool,
    /// What the run has spent of its budgets (log text, artifact bytes).
    pub(super) spent: Arc<Spent>,
    /// Why the task's artifact limit is lower than it set, when the run's artifact budget
    /// lowered it (added to an `output_limit` failure).
    pub(super) artifact_budget_note: Option<String>,
}

impl Job {
    /// One attempt, in artifact directories of its own when it has artifacts; its output
    /// artifacts are published only when it succeeds.
    pub(super) async fn attempt(&self, ctx: types::Context, capture: Capture) -> AttemptOutcome {
        let dirs = if !self.needs_dirs {
            None
        } else {
            match AttemptDirs::prepare(
                &self.run_root,
                &self.task_id,
                ctx.attempt,
                &self.artifact_inputs,
                &self.artifact_outputs,
            ) {
                Ok(dirs) => Some(dirs),
                Err(e) => {
                    let message = format!(
                        "cannot lay out the task's artifact directories under {}: {e}",
                        self.run_root.display()
                    );
                    return AttemptOutcome { result: Err(Failure::new(FailureKind::Input, message)), logs: Vec::new() };
                }
            }
        };
        let mut outcome = executor::run_attempt(
            &self.component,
            ctx,
            &self.inputs,
            AttemptPolicy { limits: &self.limits, grants: &self.grants, run_data: self.run_data.as_ref() },
            dirs.as_ref(),
            capture,
        )
        .await;
        if let (Some(dirs), Ok(_)) = (&dirs, &outcome.result)
            && let Err(e) = dirs.publish(self.artifact_outputs.iter().map(|o| o.name.as_str()), self.durable)
        {
            outcome.result =
                Err(Failure::new(FailureKind::Error, format!("cannot publish the task's output artifacts: {e}")));
        }
        if let (Some(dirs), Err(failure)) = (&dirs, &mut outcome.result)
            && let Some(note) = dirs.full_disk_note()
        {
            failure.message = format!("{}; {note}", failure.message);
        }
        match &mut outcome.result {
            Err(failure) if failure.kind == FailureKind::OutputLimit => {
                if let Some(note) = &self.artifact_budget_note {
                    failure.message = format!("{} ({note})", failure.message);
                }
            }
            Ok(outputs) if dirs.is_some() => self.spent.keep_artifacts_of(outputs),
            _ => {}
        }
        self.spent.keep_logs(&mut outcome.logs);
        outcome
    }

    /// Runs attempts until one succeeds, one fails in a way not worth retrying, or the retries
    /// are used up; waits out the backoff between them.
    pub(super) async fn run(&self) -> TaskResult {
        let mut attempt = 1;
        loop {
            let capture = Capture::new(self.limits.output);
            self.progress.lock().unwrap().current = Some((now(), capture.clone()));
            let ctx = types::Context { run_id: self.run_id.to_string(), task_id: self.task_id.clone(), attempt };
            let outcome = self.attempt(ctx, capture).await;
            let retry_in = {
                let mut progress = self.progress.lock().unwrap();
                let (started_at, _) = progress.current.take().expect("set above");
                let failure = outcome.result.as_ref().err().cloned();
                progress.attempts.reserve_exact(1);
                progress.attempts.push(Attempt { started_at, finished_at: now(), failure: failure.clone() });
                progress.logs.extend(outcome.logs);
                match failure {
                    Some(f) if f.kind.retried() && attempt <= self.retries => {
                        let delay = self.backoff.delay(attempt);
                        let kind = serde_json::to_value(f.kind).ok().and_then(|v| v.as_str().map(String::from));
                        progress.logs.push(LogLine {
                            source: "wasmpipe".into(),
                            text: format!(
                                "attempt {attempt} failed ({}); retry {attempt} of {} in {}",
                                kind.unwrap_or_default(),
                                self.retries,
                                humantime::format_duration(delay)
                            ),
                            at: Some(now()),
                        });
                        Some(delay)
                    }
                    _ => None,
                }
            };
            match retry_in {
                Some(delay) => {
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                None => return outcome.result,
            }
        }
    }
}

/// A task ready to run, with the output-cache key to look up and store its outputs under
/// (when caching is on for it).
pub(super) type Start = (Box<Job>, Option<String>);

/// The output-cache key of a task: its component's content, its resolved inputs and what it
/// is granted of the host (which can change what it computes); granted directories by path
/// here, by content in [`with_granted_contents`], which the worker adds with the run's lock
/// released (it reads the directories).
pub(super) fn output_cache_key(component: &LoadedComponent, inputs: &[(String, Value)], grants: &Grants) -> String {
    let host_env: Vec<(&String, Option<String>)> =
        grants.host_env.iter().map(|name| (name, std::env::var(name).ok())).collect();
    let mut material = serde_json::json!({
        "version": 1,
        "component": component.digest,
        "command": component.command,
        "inputs": inputs,
        "env": grants.env,
        "host_env": host_env,
        "dirs": grants.dirs,
    });
    // Only when granted: keys of tasks without a network stay what they were.
    if !grants.network.is_empty() {
        material["network"] = serde_json::json!(grants.network);
    }
    blake3::hash(material.to_string().as_bytes()).to_hex().to_string()
}

/// `key` extended with the digest of each directory in `grants`, so that a change to a granted
/// directory misses; None (the task is not cached) when one cannot be measured (it holds a
/// symlink or a special file, or cannot be read).
pub(super) fn with_granted_contents(key: String, grants: &Grants) -> Option<String> {
    if grants.dirs.is_empty() {
        return Some(key);
    }
    let mut hasher = blake3::Hasher::new();
    hasher.update(key.as_bytes());
    for (_, host) in &grants.dirs {
        hasher.update(measure(host).ok()?.1.as_bytes());
    }
    Some(hasher.finalize().to_hex().to_string())
}

/// A task that has started.
#[derive(Clone)]
pub(super) struct Started {
    /// Its attempts, when it got as far as running (None when it failed before: load, input).
    pub(super) progress: Option<Arc<std::sync::Mutex<Progress>>>,
    /// When it was handed to a worker (formatted only for a task that never got to run).
    pub(super) started_at: std::time::SystemTime,
    pub(super) final_status: Option<FinalStatusRecord>,
    /// Lines for the task's log from wasmpipe itself.
    pub(super) logs: Vec<LogLine>,
}
