//! The run directory's history (`wasmpipe runs`, `wasmpipe report`): the runs under a run
//! directory, each finished (it has its `record.json`), running (a process holds its lock) or
//! incomplete (neither: the process was killed, or the machine stopped, before the end); runs
//! found by id, `latest` or path; records read with bounded size and clear errors; runs removed
//! and pruned, never while they run.
//!
//! A run holds an exclusive `flock` on `RUN_DIR/<run-id>/.lock` from its start to its end
//! ([`lock`]); the kernel drops it when the process dies, however it dies, so a lock that can be
//! taken means that no process runs that run any more.
//!
//! May use: `record` and `model`.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::model::suggest::did_you_mean;
use crate::record::{RunRecord, RunState, TaskState};

/// The lock file of a run's directory.
pub const LOCK_FILE: &str = ".lock";

/// The largest record read (a 100,000-task record is about 90 MB).
const MAX_RECORD: u64 = 1 << 30;

/// A run's lock, held while it runs; dropped (or the process gone), the lock is free.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
    path: PathBuf,
}

impl RunLock {
    /// Ends a run whose record is written: removes the lock file (the lock goes with the last
    /// handle on it).
    pub fn finish(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Creates the run's directory `dir` and takes its lock.
pub fn lock(dir: &Path) -> io::Result<RunLock> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(LOCK_FILE);
    let file = File::create(&path)?;
    rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive)?;
    Ok(RunLock { _file: file, path })
}

/// Whether a process holds the lock of the run in `dir`.
pub fn is_running(dir: &Path) -> bool {
    let Ok(file) = File::open(dir.join(LOCK_FILE)) else { return false };
    rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockShared).is_err()
}

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// It ended, as its record says.
    Finished(RunState),
    /// A process runs it now.
    Running,
    /// No record and no process: it was stopped before its end (killed, or the machine
    /// stopped), or its record could not be written.
    Incomplete,
    /// It has a record that cannot be read (`wasmpipe report` says why).
    Unreadable,
}

impl Status {
    /// `succeeded`, `failed`, `cancelled`, `running` or `incomplete`.
    pub fn word(self) -> &'static str {
        match self {
            Status::Finished(RunState::Succeeded) => "succeeded",
            Status::Finished(RunState::Failed) => "failed",
            Status::Finished(RunState::Cancelled) => "cancelled",
            Status::Running => "running",
            Status::Incomplete => "incomplete",
            Status::Unreadable => "unreadable",
        }
    }
}

/// One run of a run directory.
#[derive(Clone, Debug)]
pub struct Run {
    /// Its id (the directory's name).
    pub id: String,
    /// Its directory.
    pub dir: PathBuf,
    /// Where it stands.
    pub status: Status,
    /// What its record says, for a finished run whose record could be read.
    pub summary: Option<Summary>,
}

/// The state of a task record, all else skipped unread.
#[derive(Deserialize)]
struct Glance {
    state: TaskState,
}

/// What a list shows of `run_started`.
#[derive(Deserialize)]
struct GlanceStart {
    pipeline: String,
    at: String,
}

/// The parts of a record that a list shows.
#[derive(Clone, Debug, Deserialize)]
pub struct Summary {
    /// The pipeline's name.
    pub pipeline: String,
    /// How it ended.
    pub state: RunState,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it ended (none for a run that has not, read from its journal).
    #[serde(default)]
    pub finished_at: Option<String>,
    /// Its tasks' states, in record order.
    #[serde(deserialize_with = "task_states")]
    pub tasks: Vec<TaskState>,
}

/// Reads only the `state` of each task entry (the rest of it is skipped, not kept).
fn task_states<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<TaskState>, D::Error> {
    #[derive(Deserialize)]
    struct Entry {
        state: TaskState,
    }
    Ok(Vec::<Entry>::deserialize(deserializer)?.into_iter().map(|e| e.state).collect())
}

impl Run {
    /// The run in `dir` (whose name is its id).
    pub fn at(dir: &Path) -> Run {
        let id = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let record = dir.join("record.json");
        if record.is_file() {
            let summary = read_json::<Summary>(&record).ok();
            let status = summary.as_ref().map_or(Status::Unreadable, |s| Status::Finished(s.state));
            return Run { id, dir: dir.to_path_buf(), status, summary };
        }
        let status = if is_running(dir) { Status::Running } else { Status::Incomplete };
        // What the journal says so far, read a line at a time: only the states are kept, and
        // of each line only the fields needed are decoded (a task's outputs may be megabytes).
        let (mut start, mut tasks) = (None, Vec::new());
        if let Ok(file) = std::fs::File::open(dir.join(crate::journal::FILE)) {
            crate::journal::scan_json(std::io::BufReader::with_capacity(1 << 16, file), &mut |_, json| {
                if json.starts_with(r#"{"event":"task_ended""#) {
                    let state = crate::journal::ended_task_json(json).and_then(crate::journal::decode_deep::<Glance>);
                    state.iter().for_each(|g| tasks.push(g.state));
                    return state.is_some();
                }
                if json.starts_with(r#"{"event":"run_started""#) {
                    let Ok(s) = serde_json::from_str::<GlanceStart>(json) else { return false };
                    start = Some((s.pipeline, s.at));
                }
                true
            });
        }
        let summary = start.map(|(pipeline, started_at)| Summary {
            pipeline,
            state: RunState::Failed,
            started_at,
            finished_at: None,
            tasks,
        });
        Run { id, dir: dir.to_path_buf(), status, summary }
    }

    /// The time it started: its record's, else the one its id is made of (`20261205-114152`
    /// as `2026-12-05T11:41:52Z`).
    pub fn started(&self) -> String {
        if let Some(s) = &self.summary {
            return s.started_at.clone();
        }
        let d: Vec<char> = self.id.chars().collect();
        if d.len() >= 15 && d[8] == '-' && d[..8].iter().chain(&d[9..15]).all(char::is_ascii_digit) {
            let s = |r: std::ops::Range<usize>| d[r].iter().collect::<String>();
            format!("{}-{}-{}T{}:{}:{}Z", s(0..4), s(4..6), s(6..8), s(9..11), s(11..13), s(13..15))
        } else {
            String::new()
        }
    }
}

/// What the journal of a run that has no record says: the tasks that ended (their records),
/// those that started and did not, and the interruptions.
#[derive(Debug, Default)]
pub struct Progress {
    /// The pipeline's name (none: no journal, or no `run_started` in it).
    pub pipeline: Option<String>,
    /// When the run started.
    pub started_at: Option<String>,
    /// The records of the tasks that ended, in the order they ended.
    pub ended: Vec<crate::record::TaskRecord>,
    /// The tasks that started and did not end.
    pub unfinished: Vec<String>,
    /// Cancellations, deadlines and aborts, as they were reported.
    pub interruptions: Vec<String>,
    /// The first line of the journal that was cut or damaged (the rest is not read).
    pub bad_line: Option<usize>,
    /// What `run_started` said: the run's id, file and parameters.
    pub start: Option<crate::journal::RunStart>,
}

impl Progress {
    /// The progress the journal in `dir` records.
    pub fn of(dir: &Path) -> Progress {
        use crate::journal::Entry;
        let mut progress = Progress::default();
        let scanned = crate::journal::scan_dir(dir, &mut |entry| match entry {
            Entry::RunStarted(start) => {
                progress.pipeline = Some(start.pipeline.clone());
                progress.started_at = Some(start.at.clone());
                progress.start = Some(*start);
            }
            Entry::TaskStarted { id, .. } => progress.unfinished.push(id),
            Entry::TaskEnded { task } => {
                progress.unfinished.retain(|id| *id != task.id);
                progress.ended.push(*task);
            }
            Entry::Interrupted { message } => progress.interruptions.push(message),
            Entry::LoopEntered { .. }
            | Entry::GroupEntered { .. }
            | Entry::Cancelled { .. }
            | Entry::RunFinished { .. } => {}
        });
        progress.bad_line = scanned.bad_line;
        progress
    }
}

impl Progress {
    /// A record of what the journal says (for a page of a run that has none): the tasks that
    /// ended, in the order they ended, its state `failed` (it has not succeeded), and its end
    /// the last end of a task that the journal knows; none without a `run_started`.
    pub fn partial_record(&self) -> Option<RunRecord> {
        let start = self.start.as_ref()?;
        let last_end = self.ended.iter().flat_map(|t| t.attempts.last()).map(|a| a.finished_at.clone()).max();
        Some(RunRecord {
            run_id: start.run_id.clone(),
            pipeline: start.pipeline.clone(),
            pipeline_file: start.pipeline_file.clone(),
            state: RunState::Failed,
            params: start.params.clone(),
            outputs: Default::default(),
            missing_outputs: Default::default(),
            started_at: start.at.clone(),
            finished_at: last_end.unwrap_or_else(|| start.at.clone()),
            aborted: false,
            cancel: None,
            compile: Default::default(),
            tasks: self.ended.clone(),
            templates: Vec::new(),
        })
    }
}

/// Every run under `run_dir` (directories holding a record or a lock), oldest first: by the
/// start its record gives to the microsecond, else the one its id gives to the second (two runs
/// of one second differ only in the random end of their ids).
pub fn list(run_dir: &Path) -> Vec<Run> {
    let Ok(entries) = std::fs::read_dir(run_dir) else { return Vec::new() };
    let mut runs: Vec<Run> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("record.json").is_file() || p.join(LOCK_FILE).is_file())
        .map(|d| Run::at(&d))
        .collect();
    runs.sort_by_cached_key(|r| (humantime::parse_rfc3339(&r.started()).ok(), r.id.clone()));
    runs
}

/// The directory of the run `name` names: a run id under `run_dir`, `latest` (the newest
/// there), a run's directory, or its `record.json`.
pub fn find(run_dir: &Path, name: &str) -> Result<PathBuf, String> {
    let given = Path::new(name);
    if given.is_file() && given.file_name().is_some_and(|f| f == "record.json") {
        return Ok(given.parent().unwrap_or(Path::new(".")).to_path_buf());
    }
    if given.join("record.json").is_file() || given.join(LOCK_FILE).is_file() {
        return Ok(given.to_path_buf());
    }
    // A run id names its directory: found without reading every run (a killed run's journal
    // may be large).
    let by_id = run_dir.join(name);
    if name != "latest" && (by_id.join("record.json").is_file() || by_id.join(LOCK_FILE).is_file()) {
        return Ok(by_id);
    }
    let runs = list(run_dir);
    if name == "latest" {
        return runs.last().map(|r| r.dir.clone()).ok_or_else(|| {
            format!("no run in {} yet; give `--run-dir DIR`, a run's directory or its record.json", run_dir.display())
        });
    }
    if let Some(run) = runs.iter().find(|r| r.id == name) {
        return Ok(run.dir.clone());
    }
    Err(format!(
        "no run `{name}`: neither a run in {}{} nor a run's directory or record (`wasmpipe runs list` shows the runs; `latest` is the newest)",
        run_dir.display(),
        did_you_mean(name, runs.iter().map(|r| r.id.as_str())),
    ))
}

/// Reads the run record `file`, saying where it is not one.
pub fn read_record(file: &Path) -> Result<RunRecord, String> {
    read_json(file)
}

/// Reads JSON of type `T` from `file`, at most [`MAX_RECORD`] bytes, naming the place of a
/// problem.
fn read_json<T: serde::de::DeserializeOwned>(file: &Path) -> Result<T, String> {
    let size = std::fs::metadata(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?.len();
    if size > MAX_RECORD {
        return Err(format!(
            "{} is {size} bytes, more than the 1 GiB a run record may be; is it a run record?",
            file.display()
        ));
    }
    let text = std::fs::File::open(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    // A guest value may nest 256 deep, past serde_json's own limit of 128: the limit is lifted,
    // and the guard bounds the nesting instead. Read as it is parsed: never whole in memory.
    let guarded = crate::journal::DepthGuard::new(std::io::BufReader::with_capacity(1 << 16, text));
    let mut parser = serde_json::Deserializer::from_reader(guarded);
    parser.disable_recursion_limit();
    serde_path_to_error::deserialize(&mut parser).map_err(|e| {
        format!(
            "{} is not a wasmpipe run record: at `{}`: {} (a record is the `record.json` of a run directory, or `wasmpipe run --output json`)",
            file.display(),
            e.path(),
            crate::model::suggest::in_serde_message(&e.inner().to_string())
        )
    })
}

/// Removes the run in `dir`, with its artifacts; refuses a run that is running. Holds the
/// run's lock while it removes it, so that no run or resume can start on it meanwhile.
pub fn remove(dir: &Path) -> Result<(), String> {
    let _held =
        lock(dir).map_err(|_| format!("run {} is running (a process holds its lock); stop it first", dir.display()))?;
    std::fs::remove_dir_all(dir).map_err(|e| format!("cannot remove {}: {e}", dir.display()))
}
