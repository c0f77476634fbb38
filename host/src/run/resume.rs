//! Going on with a run that was stopped before its end (`wasmpipe resume`): what its journal
//! says becomes a [`Resume`] the runner starts from. A task whose `task_ended` reached the
//! journal is concluded as it ended, never run again (its artifacts checked first); a task that
//! was running runs again from a fresh sandbox, its cut attempt recorded as `interrupted`; a
//! cancellation under way goes on; the deadline stays absolute; everything after runs as it
//! would have, from the copies of its files the run kept.
//!
//! The records of the tasks that ended stay in the journal: a [`Resume`] knows where each one
//! is, and the runner reads it when it concludes the task, so resuming a run of a million tasks
//! does not hold a million records.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::journal::{Entry, StartOptions};
use crate::model::artifact::ArtifactRef;
use crate::model::policy::Limits;
use crate::record::{RunState, TaskRecord, TaskState};

/// A task that ended before the stop: where its record is in the journal, and what the resumed
/// run needs of it before it reads the record.
#[derive(Clone, Debug)]
pub struct EndedTask {
    /// Where its `task_ended` line starts in the journal, and its length.
    pub line: (u64, usize),
    /// Its state.
    pub state: TaskState,
    /// For an exit task that ran: the state of the body in its final status.
    pub body: Option<RunState>,
    /// For a task that succeeded: its artifact outputs (name and reference), checked before
    /// the run goes on.
    pub artifacts: Vec<(String, ArtifactRef)>,
}

/// A stopped run to go on with.
#[derive(Clone, Debug)]
pub struct Resume {
    /// The run's lock, taken before its journal was read (`wasmpipe resume` takes it first, so
    /// that no other process resumes or removes the run meanwhile); the runner keeps it until
    /// the record is written. None: the runner takes it.
    pub lock: Option<Arc<crate::history::RunLock>>,
    /// The pipeline file the run started from (the record names it, not the kept copy).
    pub pipeline_file: Option<String>,
    /// The run's id (the resumed run keeps it, and its directory).
    pub run_id: String,
    /// When it first started.
    pub started_at: String,
    /// The tasks that ended, by task id (their records stay in the journal).
    pub ended: HashMap<String, EndedTask>,
    /// The journal, to read those records from (opened when first needed).
    journal: Arc<std::sync::Mutex<Option<crate::journal::Lines>>>,
    /// The run's directory.
    dir: PathBuf,
    /// The tasks that started and had not ended when the run stopped: their groups had been
    /// entered.
    pub unfinished: Vec<String>,
    /// The groups with an exit task that had been entered (their exit tasks run).
    pub entered: Vec<String>,
    /// For those tasks: when they started, and the last time the journal knows of before the stop;
    /// a task that runs again records that attempt first, of kind `interrupted`.
    pub interrupted: HashMap<String, (String, String)>,
}

/// What resuming a run needs: the pipeline file, its parameters and options as the run began,
/// and the run's state.
#[derive(Debug)]
pub struct Plan {
    /// The pipeline file the run came from.
    pub pipeline_file: PathBuf,
    /// The parameters, as `-p NAME=VALUE` would give them.
    pub params: Vec<(String, String)>,
    /// Artifact parameters, as `-a NAME=PATH` would give them.
    pub artifacts: Vec<(String, PathBuf)>,
    /// The options the run began with (none from an older journal).
    pub options: Option<StartOptions>,
    /// The files the run read, by absolute path, with their digests when it started.
    pub inputs: indexmap::IndexMap<String, String>,
    /// What was cancelling the run when it stopped, if anything: a resume carries the
    /// cancellation on (body tasks that had not ended are skipped, exit handlers run).
    pub cancel: Option<String>,
    /// The directory the run's copies mirror.
    pub inputs_root: Option<PathBuf>,
    /// Where it stands.
    pub resume: Resume,
}

impl Plan {
    /// Reads the journal of the run in `dir`; refuses a run that has a record (it ended) or
    /// whose journal has no start.
    pub fn load(dir: &Path) -> Result<Plan, String> {
        if dir.join("record.json").is_file() {
            return Err(format!("run {} ended (it has its record); there is nothing to resume", dir.display()));
        }
        let mut start = None;
        let mut cancel = None;
        let mut started: Vec<(String, Option<String>)> = Vec::new();
        let mut entered = Vec::new();
        let mut ended = HashMap::new();
        // RFC 3339 times of one format compare as text.
        let mut last_seen = String::new();
        let journal = std::fs::File::open(dir.join(crate::journal::FILE));
        let mut each = |at: u64, json: &str| {
            let Some(entry) = crate::journal::decode_deep::<Entry>(json) else { return false };
            match entry {
                Entry::RunStarted(s) if start.is_none() => start = Some(*s),
                Entry::GroupEntered { id } => entered.push(id),
                Entry::TaskStarted { id, at } => {
                    if let Some(at) = at.as_ref().filter(|at| **at > last_seen) {
                        last_seen.clone_from(at);
                    }
                    started.push((id, at));
                }
                Entry::TaskEnded { task } => {
                    if let Some(a) = task.attempts.last().filter(|a| a.finished_at > last_seen) {
                        last_seen.clone_from(&a.finished_at);
                    }
                    let artifacts = match task.state {
                        TaskState::Succeeded => task
                            .outputs
                            .iter()
                            .filter_map(|(name, value)| Some((name.clone(), ArtifactRef::from_value(value).ok()?)))
                            .collect(),
                        _ => Vec::new(),
                    };
                    let body = task.final_status.as_ref().map(|s| s.state);
                    // The line's length: its JSON, a tab, 16 hex digits and a newline.
                    let line = (at, json.len() + 18);
                    ended.insert(task.id, EndedTask { line, state: task.state, body, artifacts });
                }
                // The deadline is kept absolute on its own (it fires again as a deadline).
                Entry::Cancelled { signal } if signal != "deadline" => {
                    cancel.get_or_insert(signal);
                }
                _ => {}
            }
            true
        };
        if let Ok(file) = journal {
            crate::journal::scan_json(std::io::BufReader::with_capacity(1 << 16, file), &mut each);
        }
        let Some(start) = start else {
            return Err(format!(
                "run {} has no journal to resume from (nothing of it was recorded); run its pipeline again with `wasmpipe run`",
                dir.display()
            ));
        };
        let Some(file) = start.pipeline_file.clone() else {
            return Err(format!("run {} was not started from a pipeline file; it cannot be resumed", dir.display()));
        };
        let mut params = Vec::new();
        let mut artifacts = Vec::new();
        // `-p` text is parsed by the declared type: a string parameter takes its text as it is,
        // any other (an `any` one too) takes JSON, so a string value goes quoted.
        let declared = crate::model::load::load_file(Path::new(&file)).ok().map(|l| l.pipeline.params);
        let is_string = |name: &str| {
            declared.as_ref().and_then(|d| d.get(name)).is_none_or(|p| p.ty == crate::model::value::ValueType::String)
        };
        for (name, value) in &start.params {
            match value {
                // An artifact parameter: the host file it was given.
                Value::Object(_) if ArtifactRef::from_value(value).is_ok() => {
                    let artifact = ArtifactRef::from_value(value).expect("checked");
                    artifacts.push((name.clone(), PathBuf::from(artifact.path)));
                }
                Value::String(s) if is_string(name) => params.push((name.clone(), s.clone())),
                Value::Null => {}
                other => params.push((name.clone(), other.to_string())),
            }
        }
        Ok(Plan {
            pipeline_file: PathBuf::from(file),
            params,
            artifacts,
            options: start.options.clone(),
            inputs: start.inputs.clone(),
            cancel,
            inputs_root: start.inputs_root.clone().map(PathBuf::from),
            resume: {
                let unfinished: Vec<(String, Option<String>)> =
                    started.into_iter().filter(|(id, _)| !ended.contains_key(id)).collect();
                let last_seen = last_seen.max(start.at.clone());
                Resume {
                    lock: None,
                    pipeline_file: start.pipeline_file.clone(),
                    run_id: start.run_id,
                    started_at: start.at,
                    interrupted: unfinished
                        .iter()
                        .filter_map(|(id, at)| at.clone().map(|at| (id.clone(), (at, last_seen.clone()))))
                        .collect(),
                    unfinished: unfinished.into_iter().map(|(id, _)| id).collect(),
                    entered,
                    ended,
                    journal: Arc::default(),
                    dir: dir.to_path_buf(),
                }
            },
        })
    }

    /// The pipeline file to run: the copy the run kept when it started, else the original.
    pub fn kept_pipeline_file(&self, dir: &Path) -> PathBuf {
        let original = super::keep::normalized(
            &std::path::absolute(&self.pipeline_file).unwrap_or_else(|_| self.pipeline_file.clone()),
        );
        let Some(root) = &self.inputs_root else { return self.pipeline_file.clone() };
        let mirror = super::keep::mirror_of(dir, root, &original);
        if self.inputs.contains_key(&original.display().to_string()) && mirror.is_file() {
            mirror
        } else {
            self.pipeline_file.clone()
        }
    }

    /// The files the run read that are different now (or gone), for a note: resume goes on with
    /// the copies the run kept.
    pub fn changed_inputs(&self) -> Vec<String> {
        self.inputs
            .iter()
            .filter(|(path, digest)| {
                std::fs::read(path).map(|bytes| blake3::hash(&bytes).to_hex().to_string() != **digest).unwrap_or(true)
            })
            .map(|(path, _)| path.clone())
            .collect()
    }

    /// Checks that every artifact a task that ended published is still there as it was (by
    /// digest): a resumed run must not give readers other data than the task made.
    pub fn check_artifacts(&self, dir: &Path) -> Result<(), String> {
        let mut ids: Vec<&String> = self.resume.ended.keys().collect();
        ids.sort();
        for id in ids {
            for (output, artifact) in &self.resume.ended[id].artifacts {
                let path = dir.join(&artifact.path);
                let problem = match crate::model::artifact::measure(&path) {
                    Ok((_, digest)) if digest == artifact.digest => continue,
                    Ok(_) => "changed since the task made it",
                    Err(_) => "missing",
                };
                return Err(format!(
                    "artifact `{output}` of task `{id}` ({}) is {problem}: resuming would give its readers other data than the task made; restore it, or run the pipeline again with `wasmpipe run`",
                    path.display()
                ));
            }
        }
        Ok(())
    }
}

impl StartOptions {
    /// The options of a run, for its journal.
    pub(crate) fn of(options: &super::RunOptions) -> StartOptions {
        let l = &options.limits;
        StartOptions {
            timeout_ms: l.timeout.as_millis() as u64,
            memory: l.memory,
            output: l.output,
            fuel: l.fuel,
            artifacts: l.artifacts,
            values: l.values,
            loop_items: l.loop_items,
            deadline_ms: options.deadline.map(|d| d.as_millis() as u64),
            grace_ms: options.grace.as_millis() as u64,
            jobs: options.jobs,
            cache: options.cache,
            durable: options.durable,
            export: options.export.as_ref().map(|e| e.display().to_string()),
            quotas: (options.quotas != crate::model::policy::Quotas::default()).then_some(options.quotas),
        }
    }

    /// Applies these options to `options` (the run directory and the rest stay).
    pub fn apply(&self, options: &mut super::RunOptions) {
        options.limits = Limits {
            timeout: Duration::from_millis(self.timeout_ms),
            memory: self.memory,
            output: self.output,
            fuel: self.fuel,
            artifacts: self.artifacts,
            values: self.values,
            loop_items: self.loop_items,
        };
        options.deadline = self.deadline_ms.map(Duration::from_millis);
        options.grace = Duration::from_millis(self.grace_ms);
        options.jobs = self.jobs;
        options.cache = self.cache;
        options.durable = self.durable;
        options.export = self.export.as_ref().map(PathBuf::from);
        options.quotas = self.quotas.unwrap_or_default();
    }
}

impl Resume {
    /// The record of task `id`, which ended before the stop, read from the journal.
    pub(crate) fn record(&self, id: &str) -> Result<TaskRecord, String> {
        let at = self.ended.get(id).ok_or_else(|| format!("task `{id}` did not end before the stop"))?.line.0;
        let unreadable = |why: String| format!("the record of task `{id}` cannot be read back from the journal: {why}");
        let mut journal = self.journal.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if journal.is_none() {
            *journal = Some(crate::journal::Lines::open(&self.dir).map_err(|e| unreadable(e.to_string()))?);
        }
        let json = journal.as_mut().expect("opened").task_at(at, id).map_err(|e| unreadable(e.to_string()))?;
        crate::journal::decode_deep(&json).ok_or_else(|| unreadable("its record does not decode".into()))
    }
}
