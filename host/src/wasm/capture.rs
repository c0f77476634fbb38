//! Bounded capture of what a guest writes: stdout and stderr keep their first `capacity` bytes
//! and count the rest, which is dropped. Unlike a pipe that errors when full, the guest's writes
//! always succeed, so a chatty guest is truncated, not crashed (a Rust guest panics when
//! `println!` fails). A [`Capture`] is shared with the runner, so the output of an attempt that
//! is cancelled (its store dropped mid-call) is still recorded.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::SystemTime;

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

use crate::model::outcome::LogLine;
use crate::model::time::rfc3339_micros;

/// The most `log` calls kept per attempt.
const MAX_LOG_CALLS: usize = 10_000;

/// What `log` calls an attempt has made: the lines kept, their bytes, and what was dropped.
#[derive(Debug, Default)]
struct Logs {
    lines: Vec<LogLine>,
    bytes: usize,
    dropped_calls: u64,
    dropped_bytes: u64,
}

/// Everything one attempt writes: stdout, stderr and `log` calls. Clones share it.
#[derive(Clone, Debug)]
pub struct Capture {
    /// The guest's stdout.
    pub(crate) stdout: CappedPipe,
    /// The guest's stderr.
    pub(crate) stderr: CappedPipe,
    logs: Arc<Mutex<Logs>>,
    /// Bytes of `log` text kept per attempt, like each stream's.
    capacity: usize,
}

impl Capture {
    /// A capture keeping up to `capacity` bytes of stdout, of stderr and of `log` calls.
    pub fn new(capacity: usize) -> Capture {
        Capture { stdout: CappedPipe::new(capacity), stderr: CappedPipe::new(capacity), logs: Arc::default(), capacity }
    }

    /// Records a `log` call: the first 10,000 calls, up to `capacity` bytes in all (a call
    /// that would go over is dropped whole and counted), so that a guest that logs without end
    /// cannot grow the host's memory.
    pub(crate) fn log(&self, source: &str, text: String) {
        let mut logs = self.logs.lock().unwrap();
        if logs.lines.len() < MAX_LOG_CALLS && logs.bytes + text.len() <= self.capacity {
            logs.bytes += text.len();
            logs.lines.push(LogLine { source: source.into(), text, at: Some(rfc3339_micros(SystemTime::now())) });
        } else {
            logs.dropped_calls += 1;
            logs.dropped_bytes += text.len() as u64;
        }
    }

    /// Everything written so far: log calls first, then stdout and stderr, line by line; a
    /// stream cut off at its capacity ends with a line that says how much was dropped.
    pub(crate) fn lines(&self) -> Vec<LogLine> {
        let mut lines = {
            let logs = self.logs.lock().unwrap();
            let mut lines = logs.lines.clone();
            if logs.dropped_calls > 0 {
                let text = format!(
                    "[wasmpipe: {} more log calls ({} bytes) dropped after {} calls and {} bytes]",
                    logs.dropped_calls,
                    logs.dropped_bytes,
                    logs.lines.len(),
                    logs.bytes
                );
                lines.push(LogLine { source: "wasmpipe".into(), text, at: None });
            }
            lines
        };
        for (source, pipe) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            let (bytes, dropped, starts) = pipe.contents();
            // Each line, as `str::lines` splits them, with the time of the write that began it.
            let mut offset = 0;
            let mut pieces: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
            if bytes.last().is_none_or(|&b| b == b'\n') {
                pieces.pop();
            }
            for piece in pieces {
                let line = piece.strip_suffix(b"\r").unwrap_or(piece);
                let at = starts.partition_point(|(start, _)| *start <= offset).checked_sub(1).map(|i| starts[i].1);
                lines.push(LogLine {
                    source: source.into(),
                    text: String::from_utf8_lossy(line).into_owned(),
                    at: at.map(rfc3339_micros),
                });
                offset += piece.len() + 1;
            }
            if dropped > 0 {
                let text =
                    format!("[wasmpipe: {source} truncated after {} bytes; {dropped} more bytes dropped]", bytes.len());
                lines.push(LogLine { source: source.into(), text, at: None });
            }
        }
        lines
    }
}

#[derive(Debug, Default)]
struct Buffer {
    kept: Vec<u8>,
    dropped: u64,
    /// Where each write that began a line began, and when (one entry per line at most).
    starts: Vec<(usize, SystemTime)>,
}

/// A capped in-memory sink for one output stream; clones share the buffer.
#[derive(Clone, Debug)]
pub(crate) struct CappedPipe {
    capacity: usize,
    buffer: Arc<Mutex<Buffer>>,
}

impl CappedPipe {
    /// A pipe that keeps at most `capacity` bytes.
    pub fn new(capacity: usize) -> CappedPipe {
        CappedPipe { capacity, buffer: Arc::default() }
    }

    /// The bytes kept, how many were dropped after them, and when the lines began.
    pub(crate) fn contents(&self) -> (Vec<u8>, u64, Vec<(usize, SystemTime)>) {
        let buffer = self.buffer.lock().unwrap();
        (buffer.kept.clone(), buffer.dropped, buffer.starts.clone())
    }

    fn write(&self, bytes: &[u8]) {
        let mut buffer = self.buffer.lock().unwrap();
        let room = self.capacity.saturating_sub(buffer.kept.len());
        let take = room.min(bytes.len());
        if take > 0 && buffer.kept.last().is_none_or(|&b| b == b'\n') {
            let at = buffer.kept.len();
            buffer.starts.push((at, SystemTime::now()));
        }
        buffer.kept.extend_from_slice(&bytes[..take]);
        buffer.dropped += (bytes.len() - take) as u64;
    }
}

impl AsyncWrite for CappedPipe {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, bytes: &[u8]) -> Poll<std::io::Result<usize>> {
        self.write(bytes);
        Poll::Ready(Ok(bytes.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for CappedPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedPipe {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ensures that stdout splits into lines as `str::lines` splits text (a final line without
    /// a newline kept, `\r\n` ends a line), each line stamped with the time of the write that
    /// began it, in order.
    #[test]
    fn lines_carry_the_time_of_the_write_that_began_them() {
        let capture = Capture::new(1 << 10);
        capture.stdout.write(b"one\ntw");
        std::thread::sleep(std::time::Duration::from_millis(2));
        capture.stdout.write(b"o\r\n");
        std::thread::sleep(std::time::Duration::from_millis(2));
        capture.stdout.write(b"three");
        let lines = capture.lines();
        let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["one", "two", "three"]);
        let at: Vec<&str> = lines.iter().map(|l| l.at.as_deref().unwrap()).collect();
        assert_eq!(at[0], at[1], "`two` began in the first write");
        assert!(at[1] < at[2], "{at:?}");
    }
}
