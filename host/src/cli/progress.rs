//! The CLI's progress lines (part of the `wasmpipe` binary, not the library), written by a
//! thread of their own. The runner appends each line to a shared buffer and goes on; the thread
//! takes what has gathered, writes it in one go, then pauses a moment before looking again, so
//! a run of 10,000 microsecond tasks costs a few hundred writes and wake-ups instead of 20,000.
//! A line still shows at once when the writer is idle, since the first line into an empty
//! buffer wakes it.
//!
//! When stdout and stderr are the same file (a terminal, or `2>&1`), every line goes to stderr
//! in the order it came: a batch written stream by stream would show a `[start]` line of an
//! exit task above the `[ok]` lines of the body it waited for.
//!
//! On a terminal (stderr one, `--quiet` off) the writer also keeps a status area under the
//! lines: the elapsed time, tasks running and finished by state, a bar per loop under way
//! (its tasks finished of those it holds), and the longest-running tasks with their time. It is redrawn with each batch and every 100 ms, erased (cursor up, clear to
//! the end) before lines are written above it, and erased for good when the run ends.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the writer pauses after a write, gathering lines.
const PAUSE: Duration = Duration::from_millis(10);

/// Where a line goes.
#[derive(Clone, Copy)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// The lines not written yet, and the writer's state.
#[derive(Default)]
struct Buffer {
    /// Lines for stdout.
    stdout: String,
    /// Lines for stderr.
    stderr: String,
    /// The writer waits for lines (and wants a wake-up for the next one).
    idle: bool,
    /// No more lines will come.
    closed: bool,
    /// stdout and stderr are the same file: everything goes to stderr, in order.
    one_file: bool,
    /// The status area, on a terminal.
    live: Option<Live>,
}

/// What the status area shows.
struct Live {
    /// When the run started.
    started: Instant,
    /// Tasks running, since when.
    running: HashMap<String, Instant>,
    /// Tasks finished: ok (cached included), failed, cancelled.
    ok: usize,
    failed: usize,
    cancelled: usize,
    /// Loops under way, by id.
    loops: HashMap<String, LoopBar>,
    /// How many loops have been entered (orders the bars).
    entered: usize,
    /// How many lines of status are on the screen now.
    drawn: usize,
}

/// A loop's bar: how many of its task instances have finished.
struct LoopBar {
    /// When it was entered (the first is 0).
    seq: usize,
    /// Its task instances, inner loops' included once they are entered.
    total: usize,
    /// Those finished.
    done: usize,
}

/// The groups around task or group `id`, innermost first (`a/0/b/1/c`: `a/0/b/1`, `a/0/b`,
/// `a/0`, `a`): a loop's id is one of them for each of its tasks.
fn enclosing(id: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(id.rsplit_once('/').map(|(head, _)| head), |p| p.rsplit_once('/').map(|(head, _)| head))
}

/// The most loop bars the status area shows.
const SHOWN_LOOPS: usize = 3;

/// The width of a loop's bar, in characters.
const BAR: usize = 24;

/// How often the status area is redrawn when nothing else happens.
const REDRAW: Duration = Duration::from_millis(100);

/// The most running tasks the status area lists.
const SHOWN_RUNNING: usize = 5;

impl Live {
    /// The status area's text (no final newline), its lines counted.
    fn text(&self) -> (String, usize) {
        let elapsed = self.started.elapsed().as_secs_f64();
        let mut text = format!(
            "[{elapsed:.1}s] {} running, {} ok, {} failed{}",
            self.running.len(),
            self.ok,
            self.failed,
            if self.cancelled > 0 { format!(", {} cancelled", self.cancelled) } else { String::new() }
        );
        // The loops with a task running now (a loop whose last tasks were skipped would
        // otherwise stay at its count until the run ends), in the order they were entered.
        let mut active: Vec<(&str, &LoopBar)> = self
            .running
            .keys()
            .flat_map(|id| enclosing(id))
            .filter_map(|g| self.loops.get_key_value(g).map(|(k, bar)| (k.as_str(), bar)))
            .collect();
        active.sort_by_key(|(_, bar)| bar.seq);
        active.dedup_by_key(|(_, bar)| bar.seq);
        for (name, bar) in active.iter().take(SHOWN_LOOPS) {
            let filled = (bar.done * BAR).checked_div(bar.total).unwrap_or(0).min(BAR);
            let (full, empty) = ("#".repeat(filled), "-".repeat(BAR - filled));
            text.push_str(&format!("\n  {name} [{full}{empty}] {}/{}", bar.done, bar.total));
        }
        if active.len() > SHOWN_LOOPS {
            text.push_str(&format!("\n  and {} more loops", active.len() - SHOWN_LOOPS));
        }
        let mut longest: Vec<(&String, &Instant)> = self.running.iter().collect();
        longest.sort_by(|a, b| a.1.cmp(b.1).then_with(|| a.0.cmp(b.0)));
        for (id, since) in longest.iter().take(SHOWN_RUNNING) {
            text.push_str(&format!("\n  {id} ({:.1}s)", since.elapsed().as_secs_f64()));
        }
        if longest.len() > SHOWN_RUNNING {
            text.push_str(&format!("\n  and {} more", longest.len() - SHOWN_RUNNING));
        }
        let lines = text.lines().count();
        (text, lines)
    }

    /// What erases the status area drawn last (the cursor is at the end of its last line).
    fn erase(&mut self) -> String {
        let up = match self.drawn {
            0 => return String::new(),
            1 => String::new(),
            n => format!("\x1b[{}A", n - 1),
        };
        self.drawn = 0;
        format!("\r{up}\x1b[J")
    }
}

/// The buffer, and what wakes the writer.
type Shared = (Mutex<Buffer>, Condvar);

/// The progress writer; [`Progress::finish`] waits until everything sent is written.
pub struct Progress {
    shared: Arc<Shared>,
    thread: JoinHandle<()>,
}

impl Progress {
    /// Starts the writer thread; `live`: keep a status area on stderr (a terminal).
    pub fn start(live: bool) -> Progress {
        let shared: Arc<Shared> = Arc::default();
        {
            let mut buffer = shared.0.lock().unwrap();
            buffer.one_file = same_file();
            buffer.live = live.then(|| Live {
                started: Instant::now(),
                running: HashMap::new(),
                ok: 0,
                failed: 0,
                cancelled: 0,
                loops: HashMap::new(),
                entered: 0,
                drawn: 0,
            });
        }
        let theirs = shared.clone();
        let thread = std::thread::spawn(move || write_lines(&theirs));
        Progress { shared, thread }
    }

    /// Queues `text` (whole lines) for `stream`.
    pub fn write(&self, stream: Stream, text: &str) {
        let (lock, wake) = &*self.shared;
        let mut buffer = lock.lock().unwrap();
        match stream {
            Stream::Stdout if !buffer.one_file => buffer.stdout.push_str(text),
            _ => buffer.stderr.push_str(text),
        }
        if buffer.idle {
            buffer.idle = false;
            wake.notify_one();
        }
    }

    /// Whether there is a status area.
    pub fn is_live(&self) -> bool {
        self.shared.0.lock().unwrap().live.is_some()
    }

    /// Counts task `id` as running in the status area.
    pub fn started(&self, id: &str) {
        if let Some(live) = &mut self.shared.0.lock().unwrap().live {
            live.running.insert(id.to_string(), Instant::now());
        }
    }

    /// Adds a bar for loop `id`, whose iterations hold `tasks` task instances (and adds them
    /// to the loops it is in).
    pub fn entered_loop(&self, id: &str, tasks: usize) {
        if let Some(live) = &mut self.shared.0.lock().unwrap().live {
            for group in enclosing(id) {
                if let Some(bar) = live.loops.get_mut(group) {
                    bar.total += tasks;
                }
            }
            if tasks > 0 {
                live.loops.insert(id.to_string(), LoopBar { seq: live.entered, total: tasks, done: 0 });
                live.entered += 1;
            }
        }
    }

    /// Counts task `id` as finished, `ok` or not (`failed`: failed rather than cancelled).
    pub fn finished(&self, id: &str, ok: bool, failed: bool) {
        if let Some(live) = &mut self.shared.0.lock().unwrap().live {
            live.running.remove(id);
            // A look-up per group around the task: many loops cost no more per task.
            for group in enclosing(id) {
                if let Some(bar) = live.loops.get_mut(group) {
                    bar.done += 1;
                    if bar.done >= bar.total {
                        live.loops.remove(group);
                    }
                }
            }
            match (ok, failed) {
                (true, _) => live.ok += 1,
                (false, true) => live.failed += 1,
                (false, false) => live.cancelled += 1,
            }
        }
    }

    /// Writes everything queued, then returns.
    pub fn finish(self) {
        let (lock, wake) = &*self.shared;
        lock.lock().unwrap().closed = true;
        wake.notify_one();
        let _ = self.thread.join();
    }
}

/// The writer thread: writes what has gathered, then pauses to gather more, until no more
/// lines will come.
fn write_lines(shared: &Shared) {
    let (lock, wake) = shared;
    loop {
        let (out, err, closed) = take_lines(lock, wake);
        // The status area: erased before the lines, drawn again after them (not once closed).
        let (erase, status) = match &mut lock.lock().unwrap().live {
            Some(live) => {
                let erase = live.erase();
                let status = if closed {
                    String::new()
                } else {
                    let (text, lines) = live.text();
                    live.drawn = lines;
                    text
                };
                (erase, status)
            }
            None => (String::new(), String::new()),
        };
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(erase.as_bytes());
        let _ = stderr.write_all(err.as_bytes());
        let _ = std::io::stdout().write_all(out.as_bytes());
        let _ = std::io::stdout().flush();
        let _ = stderr.write_all(status.as_bytes());
        let _ = stderr.flush();
        drop(stderr);
        if closed {
            return;
        }
        // Gather more lines; `finish` cuts the pause short.
        let buffer = lock.lock().unwrap();
        let _ = wake.wait_timeout_while(buffer, PAUSE, |b| !b.closed);
    }
}

/// Waits until there are lines to write or none will come any more (idle meanwhile), or, with
/// a status area, at most [`REDRAW`]; takes the lines for stdout and for stderr, and says
/// whether the buffer is closed.
fn take_lines(lock: &Mutex<Buffer>, wake: &Condvar) -> (String, String, bool) {
    let mut buffer = lock.lock().unwrap();
    while buffer.stdout.is_empty() && buffer.stderr.is_empty() && !buffer.closed {
        buffer.idle = true;
        if buffer.live.is_some() {
            let (waited, timeout) = wake.wait_timeout(buffer, REDRAW).unwrap();
            buffer = waited;
            if timeout.timed_out() {
                break;
            }
        } else {
            buffer = wake.wait(buffer).unwrap();
        }
    }
    buffer.idle = false;
    (std::mem::take(&mut buffer.stdout), std::mem::take(&mut buffer.stderr), buffer.closed)
}

/// Whether stdout and stderr are the same open file (same device and inode).
fn same_file() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let meta = |fd: std::os::fd::BorrowedFd<'_>| {
        fd.try_clone_to_owned().ok().and_then(|fd| std::fs::File::from(fd).metadata().ok()).map(|m| (m.dev(), m.ino()))
    };
    match (meta(std::io::stdout().as_fd()), meta(std::io::stderr().as_fd())) {
        (Some(out), Some(err)) => out == err,
        _ => false,
    }
}
