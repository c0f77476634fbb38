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

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

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
}

/// The buffer, and what wakes the writer.
type Shared = (Mutex<Buffer>, Condvar);

/// The progress writer; [`Progress::finish`] waits until everything sent is written.
pub struct Progress {
    shared: Arc<Shared>,
    thread: JoinHandle<()>,
}

impl Progress {
    /// Starts the writer thread.
    pub fn start() -> Progress {
        let shared: Arc<Shared> = Arc::default();
        shared.0.lock().unwrap().one_file = same_file();
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
        let _ = std::io::stderr().write_all(err.as_bytes());
        let _ = std::io::stdout().write_all(out.as_bytes());
        let _ = std::io::stdout().flush();
        if closed {
            return;
        }
        // Gather more lines; `finish` cuts the pause short.
        let buffer = lock.lock().unwrap();
        let _ = wake.wait_timeout_while(buffer, PAUSE, |b| !b.closed);
    }
}

/// Waits until there are lines to write or none will come any more (idle meanwhile); takes
/// the lines for stdout and for stderr, and says whether the buffer is closed.
fn take_lines(lock: &Mutex<Buffer>, wake: &Condvar) -> (String, String, bool) {
    let mut buffer = lock.lock().unwrap();
    while buffer.stdout.is_empty() && buffer.stderr.is_empty() && !buffer.closed {
        buffer.idle = true;
        buffer = wake.wait(buffer).unwrap();
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
