//! Bounded capture of a guest's stdout and stderr: the first `capacity` bytes are kept, the
//! rest is counted and dropped. Unlike a pipe that errors when full, the guest's writes always
//! succeed, so a chatty guest is truncated, not crashed (a Rust guest panics when `println!`
//! fails).

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

#[derive(Debug, Default)]
struct Buffer {
    kept: Vec<u8>,
    dropped: u64,
}

/// A capped in-memory sink for one output stream; clones share the buffer.
#[derive(Clone, Debug)]
pub struct CappedPipe {
    capacity: usize,
    buffer: Arc<Mutex<Buffer>>,
}

impl CappedPipe {
    /// A pipe that keeps at most `capacity` bytes.
    pub fn new(capacity: usize) -> CappedPipe {
        CappedPipe { capacity, buffer: Arc::default() }
    }

    /// The bytes kept, and how many were dropped after them.
    pub fn contents(&self) -> (Vec<u8>, u64) {
        let buffer = self.buffer.lock().unwrap();
        (buffer.kept.clone(), buffer.dropped)
    }

    fn write(&self, bytes: &[u8]) {
        let mut buffer = self.buffer.lock().unwrap();
        let room = self.capacity.saturating_sub(buffer.kept.len());
        let take = room.min(bytes.len());
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
