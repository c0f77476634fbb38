//! A run's journal, `RUN_DIR/<run-id>/journal.jsonl`: what happened, appended as it happens,
//! so that a run killed before its end (kill -9, the OOM killer, a power cut) still says what
//! it did. One event per line, JSON, then a tab and a checksum of the JSON (the first 16 hex
//! digits of its BLAKE3 hash), so a reader keeps the lines before the first that was cut or
//! damaged and nothing after it.
//!
//! Events: `run_started` (the run, its pipeline, parameters and versions), `task_started`,
//! `task_ended` (the task's whole record: its line is the task's commit point), `loop_entered`,
//! `interrupted`, `run_finished`. The runner hands events to [`Journal::note`], which formats the
//! line into a buffer; a thread of the journal's own writes what has gathered at most a
//! millisecond later, one `write()` for many lines, so the file survives the death of the
//! process. With `--durable` ([`crate::run::RunOptions::durable`]) the writer also `fdatasync`s
//! the file after each batch, so the journal survives a power cut up to its last batch.
//!
//! [`Journal::note`] returns where each line starts, and a closed journal reads its lines back
//! ([`Lines`]): a run that writes its record keeps each finished task's record only there, and
//! writes `record.json` from it (`run::finished`). A batch the writer cannot write (a full
//! disk) is kept and written again later, so those places always hold.
//!
//! May use: `model` and `record`.

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::record::{RunState, TaskRecord};

/// The journal's file name in a run's directory.
pub const FILE: &str = "journal.jsonl";

/// How long the writer gathers lines after a write before it writes again.
const GATHER: Duration = Duration::from_millis(1);

/// One event of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Entry {
    /// The run began.
    RunStarted(Box<RunStart>),
    /// A task is about to start.
    TaskStarted {
        /// Its id.
        id: String,
        /// When (RFC 3339; none in a journal of an older wasmpipe).
        #[serde(default)]
        at: Option<String>,
    },
    /// A task reached its final state: its whole record.
    TaskEnded {
        /// Its record.
        task: Box<TaskRecord>,
    },
    /// A loop was entered, its iterations holding this many task instances.
    LoopEntered {
        /// The loop instance's id.
        id: String,
        /// Its task instances.
        tasks: usize,
    },
    /// A cancellation, the deadline or an abort changed the course of the run.
    Interrupted {
        /// What happened.
        message: String,
    },
    /// A group with an exit task was entered (a resumed run enters it again).
    GroupEntered {
        /// The group instance's id.
        id: String,
    },
    /// The run began to be cancelled; a resume carries the cancellation on.
    Cancelled {
        /// What cancelled it (`SIGINT`, `deadline`, ...).
        signal: String,
    },
    /// The run ended (its record follows in `record.json`).
    RunFinished {
        /// How.
        state: RunState,
        /// When (RFC 3339).
        at: String,
    },
}

/// An event as the runner writes it: [`Entry`]'s shape, borrowing what it can (a task's record
/// is serialized where it is, never copied).
#[derive(Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub(crate) enum Note<'a> {
    RunStarted(&'a RunStart),
    TaskStarted { id: &'a str, at: String },
    TaskEnded { task: &'a TaskRecord },
    LoopEntered { id: &'a str, tasks: usize },
    Interrupted { message: &'a str },
    Cancelled { signal: &'a str },
    GroupEntered { id: &'a str },
    RunFinished { state: RunState, at: &'a str },
}

/// What `run_started` says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunStart {
    /// The run's id.
    pub run_id: String,
    /// The pipeline's name.
    pub pipeline: String,
    /// The pipeline file, when the run came from one.
    pub pipeline_file: Option<String>,
    /// The parameters it runs with.
    pub params: indexmap::IndexMap<String, Value>,
    /// When (RFC 3339).
    pub at: String,
    /// The wasmpipe and wasmtime versions that run it.
    pub versions: indexmap::IndexMap<String, String>,
    /// The options it runs with (none in a journal of an older wasmpipe).
    #[serde(default)]
    pub options: Option<StartOptions>,
    /// The files it read (pipeline files and components), by absolute path, with their
    /// BLAKE3 digests; the run keeps copies of them (`run::keep`).
    #[serde(default)]
    pub inputs: indexmap::IndexMap<String, String>,
    /// The directory the kept copies mirror (under the run's `inputs/`).
    #[serde(default)]
    pub inputs_root: Option<String>,
}

/// The options of a run, as `wasmpipe resume` needs them to go on as the run began.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StartOptions {
    /// Default limits of tasks: timeout (ms), memory, captured output, fuel, artifacts, values,
    /// loop items.
    pub timeout_ms: u64,
    /// Bytes of linear memory.
    pub memory: usize,
    /// Bytes of stdout and stderr kept.
    pub output: usize,
    /// Fuel per attempt.
    pub fuel: Option<u64>,
    /// Bytes of output artifacts per attempt.
    pub artifacts: u64,
    /// Bytes of value outputs per attempt.
    pub values: u64,
    /// Items an output may give a loop.
    pub loop_items: u64,
    /// The run's deadline (ms), when `--deadline` set one.
    pub deadline_ms: Option<u64>,
    /// The grace period (ms).
    pub grace_ms: u64,
    /// `--jobs`.
    pub jobs: usize,
    /// `--cache`.
    pub cache: bool,
    /// `--durable`.
    pub durable: bool,
    /// `--export DIR`.
    #[serde(default)]
    pub export: Option<String>,
    /// The run's budgets (`RunOptions::quotas`), when it had any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quotas: Option<crate::model::policy::Quotas>,
}

/// The lines not written yet, and the writer's state.
#[derive(Default)]
struct Pending {
    text: String,
    closed: bool,
    /// Where the next line starts: the file's length when it was opened, plus every line
    /// handed to [`Journal::note`] since (written or not yet).
    end: u64,
}

/// A run's journal, open for appending.
pub(crate) struct Journal {
    shared: Arc<(Mutex<Pending>, Condvar)>,
    writer: Option<JoinHandle<Unwritten>>,
    /// The file, open for reading from the start: lines are read back through it even when
    /// the run's directory has gone since.
    reader: Option<std::fs::File>,
}

/// What a closed journal could not write (a full disk): the lines from byte `from` on, which
/// the file does not have. Empty when every line reached the file.
#[derive(Debug, Default)]
struct Unwritten {
    /// The length of the file's whole lines: where `text` would have started.
    from: u64,
    /// The lines the file lacks.
    text: String,
}

/// How long the writer waits before it tries again after a failed write (a full disk).
const RETRY: Duration = Duration::from_millis(100);

impl Journal {
    /// Creates `dir/journal.jsonl` and starts its writer; `durable`: `fdatasync` after each
    /// batch of lines.
    pub(crate) fn create(dir: &Path, durable: bool) -> std::io::Result<Journal> {
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(dir.join(FILE))?;
        let reader = std::fs::File::open(dir.join(FILE)).ok();
        // The length of the whole lines written so far (a resumed run appends to a journal).
        let mut whole = file.metadata()?.len();
        let shared: Arc<(Mutex<Pending>, Condvar)> =
            Arc::new((Mutex::new(Pending { end: whole, ..Pending::default() }), Condvar::new()));
        let theirs = shared.clone();
        let writer = std::thread::Builder::new().name("wasmpipe-journal".into()).spawn(move || {
            let (lock, wake) = &*theirs;
            // Lines a failed write left over, written again before newer ones.
            let mut failed = String::new();
            loop {
                let (text, closed) = {
                    let mut pending = lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    while pending.text.is_empty() && !pending.closed {
                        pending = wake.wait(pending).unwrap_or_else(std::sync::PoisonError::into_inner);
                    }
                    (std::mem::take(&mut pending.text), pending.closed)
                };
                let text = if failed.is_empty() { text } else { std::mem::take(&mut failed) + &text };
                // A journal that cannot be written does not stop the run. A batch written in
                // part (a full disk) is cut off again and kept, to be written whole once there
                // is room: the lines are where `note` said, and none is lost.
                let pause = match file.write_all(text.as_bytes()) {
                    Ok(()) => {
                        whole += text.len() as u64;
                        GATHER
                    }
                    Err(_) => {
                        let _ = file.set_len(whole);
                        failed = text;
                        RETRY
                    }
                };
                if durable {
                    // One sync for every line gathered since the last (group commit).
                    let _ = file.sync_data();
                }
                if closed {
                    return Unwritten { from: whole, text: failed };
                }
                // Gather lines a moment; closing cuts the pause short.
                let pending = lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let _ = wake.wait_timeout_while(pending, pause, |p| !p.closed);
            }
        })?;
        Ok(Journal { shared, writer: Some(writer), reader })
    }

    /// Appends `entry` (written within about a millisecond); returns where its line starts in
    /// the file and its length (None if it could not be serialized).
    pub(crate) fn note(&self, entry: &Note<'_>) -> Option<(u64, usize)> {
        let json = serde_json::to_string(entry).ok()?;
        let sum = checksum(&json);
        let (lock, wake) = &*self.shared;
        let mut pending = lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let wake_writer = pending.text.is_empty();
        pending.text.reserve(json.len() + 18);
        pending.text.push_str(&json);
        pending.text.push('\t');
        pending.text.push_str(&sum);
        pending.text.push('\n');
        let (at, len) = (pending.end, json.len() + 18);
        pending.end += len as u64;
        if wake_writer {
            wake.notify_one();
        }
        Some((at, len))
    }

    /// Writes what is left and closes the journal; returns its lines to read back (None: its
    /// file could not be opened for reading).
    pub(crate) fn close(mut self) -> Option<Lines> {
        let unwritten = self.stop();
        let file = std::io::BufReader::with_capacity(1 << 16, self.reader.take()?);
        Some(Lines { file, at: 0, unwritten })
    }

    fn stop(&mut self) -> Unwritten {
        let (lock, wake) = &*self.shared;
        lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner).closed = true;
        wake.notify_one();
        self.writer.take().and_then(|w| w.join().ok()).unwrap_or_default()
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Reads a journal's lines back at the places [`Journal::note`] gave, after it was closed:
/// from the file, or from what the writer could not write.
#[derive(Debug)]
pub(crate) struct Lines {
    file: std::io::BufReader<std::fs::File>,
    /// Where the reader stands in the file.
    at: u64,
    unwritten: Unwritten,
}

impl Lines {
    /// The lines of the journal of the run in `dir`, as they are on disk.
    pub(crate) fn open(dir: &Path) -> std::io::Result<Lines> {
        let file = std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(dir.join(FILE))?);
        Ok(Lines { file, at: 0, unwritten: Unwritten { from: u64::MAX, text: String::new() } })
    }

    /// The JSON of the record in the `task_ended` line of task `id` that starts at `at`.
    pub(crate) fn task_at(&mut self, at: u64, id: &str) -> std::io::Result<String> {
        let line = self.json_at(at)?;
        task_json(&line, id).map(str::to_string).ok_or_else(|| {
            std::io::Error::other(format!("the journal's line at byte {at} is not the end of task `{id}`"))
        })
    }

    /// The JSON of the line that starts at `at`, its checksum checked.
    pub(crate) fn json_at(&mut self, at: u64) -> std::io::Result<String> {
        use std::io::{BufRead, Seek};
        let mut line = Vec::new();
        if at >= self.unwritten.from {
            let rest = usize::try_from(at - self.unwritten.from).ok().and_then(|i| self.unwritten.text.get(i..));
            let rest =
                rest.ok_or_else(|| std::io::Error::other(format!("no line of the journal starts at byte {at}")))?;
            line.extend_from_slice(rest.split_inclusive('\n').next().unwrap_or("").as_bytes());
        } else {
            // Lines are mostly read in the order they were written: no seek between them.
            if self.at != at {
                self.file.seek(std::io::SeekFrom::Start(at))?;
            }
            let n = self.file.read_until(b'\n', &mut line)?;
            self.at = at + n as u64;
        }
        let bad = || std::io::Error::other(format!("the journal's line at byte {at} is cut or damaged"));
        if line.pop() != Some(b'\n') {
            return Err(bad());
        }
        // The line's JSON, then a tab and its checksum: split in place, no copy.
        let tab = line.iter().rposition(|&b| b == b'\t').ok_or_else(bad)?;
        let sum = line.split_off(tab);
        let json = String::from_utf8(line).map_err(|_| bad())?;
        if checksum(&json).as_bytes() != &sum[1..] {
            return Err(bad());
        }
        Ok(json)
    }
}

/// The checksum of a line's JSON: 16 hex digits of its BLAKE3 hash.
fn checksum(json: &str) -> String {
    blake3::hash(json.as_bytes()).to_hex()[..16].to_string()
}

/// What a journal holds: its entries up to the first line that is cut or damaged, and the
/// number of that line (1-based) when there is one.
#[derive(Debug, Default)]
pub struct Read {
    /// The entries of the good lines, in order.
    pub entries: Vec<Entry>,
    /// The first bad line, if any (everything from it on is left out).
    pub bad_line: Option<usize>,
    /// The length of the good lines, in bytes.
    pub good_bytes: usize,
}

/// Reads the journal `text`.
pub fn parse(text: &[u8]) -> Read {
    let mut entries = Vec::new();
    let scanned = scan(text, &mut |entry| entries.push(entry));
    Read { entries, bad_line: scanned.bad_line, good_bytes: scanned.good_bytes }
}

/// How far [`scan`] read: the first bad line, if any, and the length of the good lines.
#[derive(Debug, Default)]
pub struct Scanned {
    /// The first line that was cut or damaged (nothing after it was read).
    pub bad_line: Option<usize>,
    /// The length of the good lines, in bytes.
    pub good_bytes: usize,
}

/// Reads a journal from `input` one line at a time, handing each good line's entry to `each`
/// and stopping at the first bad one: memory for one line, whatever the journal's length.
pub fn scan(input: impl std::io::BufRead, each: &mut dyn FnMut(Entry)) -> Scanned {
    scan_json(input, &mut |_, json| match decode(json) {
        Some(entry) => {
            each(entry);
            true
        }
        None => false,
    })
}

/// Like [`scan`], handing `each` where each line whose checksum holds starts, and its JSON; a
/// line `each` refuses (false) is a bad line. For readers that need a few fields of each event,
/// or where it is, not its entry (a task's whole record may hold megabytes of values).
pub(crate) fn scan_json(mut input: impl std::io::BufRead, each: &mut dyn FnMut(u64, &str) -> bool) -> Scanned {
    let mut scanned = Scanned::default();
    let mut line = Vec::new();
    for n in 1.. {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(_) => {
                scanned.bad_line = Some(n);
                break;
            }
        }
        let good = line
            .strip_suffix(b"\n")
            .and_then(|l| std::str::from_utf8(l).ok())
            .and_then(|l| l.rsplit_once('\t'))
            .filter(|(json, sum)| checksum(json) == *sum)
            .is_some_and(|(json, _)| each(scanned.good_bytes as u64, json));
        if !good {
            scanned.bad_line = Some(n);
            break;
        }
        scanned.good_bytes += line.len();
    }
    scanned
}

/// Scans the journal of the run in `dir` (see [`scan`]; none: nothing is scanned).
pub fn scan_dir(dir: &Path, each: &mut dyn FnMut(Entry)) -> Scanned {
    match std::fs::File::open(dir.join(FILE)) {
        Ok(file) => scan(std::io::BufReader::with_capacity(1 << 16, file), each),
        Err(_) => Scanned::default(),
    }
}

/// The most levels of nesting a journal line may have: a guest value may nest 256 deep, inside
/// the few levels of a task's record. Deeper is refused without being parsed, so a hostile
/// journal cannot exhaust the stack.
pub(crate) const MAX_DEPTH: usize = 300;

/// Decodes one line's JSON.
fn decode(json: &str) -> Option<Entry> {
    decode_deep(json)
}

/// Decodes JSON that may nest as deep as a guest's values inside a record ([`MAX_DEPTH`];
/// serde_json's own limit of 128 levels would refuse them).
pub(crate) fn decode_deep<T: serde::de::DeserializeOwned>(json: &str) -> Option<T> {
    if depth(json) > MAX_DEPTH {
        return None;
    }
    let mut deserializer = serde_json::Deserializer::from_str(json);
    deserializer.disable_recursion_limit();
    T::deserialize(&mut deserializer).ok()
}

/// The JSON of the task record in the JSON of a `task_ended` line (None: another event).
pub(crate) fn ended_task_json(line: &str) -> Option<&str> {
    line.strip_prefix(r#"{"event":"task_ended","task":"#)?.strip_suffix('}')
}

/// The JSON of the record of task `id` in the JSON of its `task_ended` line (None: the line is
/// another event, or another task's).
fn task_json<'a>(line: &'a str, id: &str) -> Option<&'a str> {
    let task = ended_task_json(line)?;
    let id = serde_json::to_string(id).ok()?;
    task.strip_prefix(r#"{"id":"#)?.strip_prefix(id.as_str())?.starts_with(',').then_some(task)
}

/// The deepest nesting of arrays and objects in `json`, strings skipped.
pub(crate) fn depth(json: &str) -> usize {
    let mut nesting = Nesting::default();
    json.bytes().for_each(|b| nesting.feed(b));
    nesting.max
}

/// The nesting of JSON read so far, a byte at a time (strings skipped).
#[derive(Default)]
struct Nesting {
    depth: usize,
    max: usize,
    in_string: bool,
    escaped: bool,
}

impl Nesting {
    fn feed(&mut self, b: u8) {
        match (self.in_string, self.escaped, b) {
            (true, true, _) => self.escaped = false,
            (true, false, b'\\') => self.escaped = true,
            (true, false, b'"') => self.in_string = false,
            (true, false, _) => {}
            (false, _, b'"') => self.in_string = true,
            (false, _, b'[' | b'{') => {
                self.depth += 1;
                self.max = self.max.max(self.depth);
            }
            (false, _, b']' | b'}') => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
    }
}

/// A reader of JSON that fails once the JSON nests deeper than [`MAX_DEPTH`]: a parser with
/// serde_json's recursion limit lifted may read through it without risk to its stack, and
/// the JSON is never held whole.
pub(crate) struct DepthGuard<R> {
    inner: R,
    nesting: Nesting,
}

impl<R: std::io::Read> DepthGuard<R> {
    /// Guards `inner`.
    pub(crate) fn new(inner: R) -> DepthGuard<R> {
        DepthGuard { inner, nesting: Nesting::default() }
    }
}

impl<R: std::io::Read> std::io::Read for DepthGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        buf[..n].iter().for_each(|&b| self.nesting.feed(b));
        if self.nesting.max > MAX_DEPTH {
            return Err(std::io::Error::other(format!("it nests more than {MAX_DEPTH} levels deep")));
        }
        Ok(n)
    }
}

/// Cuts the journal of the run in `dir` after its last good line, so that what a resumed run
/// appends follows it (a reader stops at the first bad line, and would never see it).
pub(crate) fn cut_bad_tail(dir: &Path) -> std::io::Result<()> {
    let path = dir.join(FILE);
    let scanned = scan(std::io::BufReader::new(std::fs::File::open(&path)?), &mut |_| {});
    if scanned.bad_line.is_some() {
        std::fs::OpenOptions::new().write(true).open(&path)?.set_len(scanned.good_bytes as u64)?;
    }
    Ok(())
}

/// Reads the journal of the run in `dir` (none: no entries).
pub fn read(dir: &Path) -> Read {
    std::fs::read(dir.join(FILE)).map(|text| parse(&text)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let entries = [
            Note::TaskStarted { id: "a", at: "2026-12-05T00:00:00.000000Z".into() },
            Note::Interrupted { message: "SIGINT: \t cancelling" },
            Note::RunFinished { state: RunState::Cancelled, at: "2026-12-05T00:00:00Z" },
        ];
        let mut text = Vec::new();
        for e in &entries {
            let json = serde_json::to_string(e).unwrap();
            text.extend_from_slice(format!("{json}\t{}\n", checksum(&json)).as_bytes());
        }
        text
    }

    /// Ensures that the depth guard lets JSON as deep as a record may be through, whole, and
    /// fails deeper JSON without its parser recursing past the limit.
    #[test]
    fn the_depth_guard_stops_json_nested_too_deep() {
        use std::io::Read;
        for (depth, passes) in [(MAX_DEPTH, true), (MAX_DEPTH + 1, false)] {
            let json = format!("{}\"[{{\"{}", "[".repeat(depth), "]".repeat(depth));
            let mut read = String::new();
            let result = DepthGuard::new(json.as_bytes()).read_to_string(&mut read);
            assert_eq!(result.is_ok(), passes, "depth {depth}");
            if passes {
                assert_eq!(read, json);
                let mut parser = serde_json::Deserializer::from_reader(DepthGuard::new(json.as_bytes()));
                parser.disable_recursion_limit();
                assert!(serde_json::Value::deserialize(&mut parser).is_ok());
            }
        }
    }

    /// Ensures that a journal cut at any byte gives the entries of its whole lines and no more,
    /// and that a damaged byte ends the reading at its line.
    #[test]
    fn a_cut_or_damaged_journal_keeps_its_whole_lines() {
        let text = sample();
        let whole = parse(&text);
        assert_eq!((whole.entries.len(), whole.bad_line), (3, None));
        let ends: Vec<usize> = text.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1).collect();
        for cut in 0..text.len() {
            let read = parse(&text[..cut]);
            let complete = ends.iter().filter(|&&e| e <= cut).count();
            assert_eq!(read.entries, whole.entries[..complete], "cut at {cut}");
        }
        for at in 0..text.len() {
            let mut damaged = text.clone();
            damaged[at] ^= 0x20;
            let read = parse(&damaged);
            let line = ends.iter().position(|&e| e > at).unwrap();
            assert!(read.entries.len() <= line, "damage at {at} kept line {}", line + 1);
            assert_eq!(read.entries[..], whole.entries[..read.entries.len()]);
        }
    }
}
