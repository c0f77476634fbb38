//! Worker threads kept between runs. Starting a thread and its tokio runtime costs tens of
//! microseconds, as much as several tasks; a library that runs many short pipelines (or a
//! benchmark) would pay it on every run. A thread whose work is done parks here with its
//! runtime for [`PARK_FOR`], and the next run's worker starts on it; a thread parked longer
//! ends.

use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use tokio::runtime::Runtime;

/// How long a thread waits for new work before it ends.
pub(crate) const PARK_FOR: Duration = Duration::from_secs(10);

/// Work for a thread: it gets the thread's runtime.
pub(crate) type Work = Box<dyn FnOnce(&Runtime) + Send>;

/// The parked threads: an id each, and the sender of their work.
static PARKED: Mutex<Vec<(u64, Sender<Work>)>> = Mutex::new(Vec::new());

/// Runs `work` on a parked thread, or on a new one. Fails when no thread can be had (a new
/// thread or its runtime cannot start): the work is dropped and the caller carries on without.
pub(crate) fn run(mut work: Work) -> std::io::Result<()> {
    loop {
        let parked = PARKED.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let Some((_, thread)) = parked else { break };
        // A thread that ended after its wait has dropped its receiver: the work comes back.
        match thread.send(work) {
            Ok(()) => return Ok(()),
            Err(mpsc::SendError(back)) => work = back,
        }
    }
    if crate::faults::fault("worker-start") {
        return Err(std::io::Error::other("injected: worker threads cannot start"));
    }
    static IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let id = IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (sender, receiver) = mpsc::channel();
    sender.send(work).expect("the receiver is here");
    // Built here, so that a runtime that cannot start is an error for the caller, never a
    // thread that dies with its work (the run would wait for that work forever).
    let runtime = crate::run::small_runtime()?;
    std::thread::Builder::new().name("wasmpipe-worker".into()).spawn(move || serve(id, runtime, sender, receiver))?;
    Ok(())
}

/// A thread's life: work after work on its runtime, parking in between.
fn serve(id: u64, runtime: Runtime, sender: Sender<Work>, receiver: Receiver<Work>) {
    // The first work is already queued.
    loop {
        match receiver.recv_timeout(PARK_FOR) {
            Ok(work) => {
                work(&runtime);
                PARKED.lock().unwrap_or_else(|e| e.into_inner()).push((id, sender.clone()));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                // Leave only if no run has taken this thread meanwhile (its work is on the way).
                let mut parked = PARKED.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(i) = parked.iter().position(|(other, _)| *other == id) {
                    parked.swap_remove(i);
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    // Blocking work a guest started (file I/O) finishes on its own.
    runtime.shutdown_background();
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    /// Ensures that a thread whose work is done parks and takes the next work, with the same
    /// runtime, instead of a new thread starting.
    #[test]
    fn work_after_work_runs_on_the_parked_thread() {
        let (send, receive) = mpsc::channel();
        let first = send.clone();
        super::run(Box::new(move |runtime| {
            let id = runtime.block_on(async { std::thread::current().id() });
            first.send(id).unwrap();
        }))
        .unwrap();
        let first_thread = receive.recv().unwrap();
        // The thread parks right after its work; give it the moment it needs.
        let mut second_thread = None;
        for _ in 0..100 {
            std::thread::sleep(std::time::Duration::from_millis(5));
            let parked = !super::PARKED.lock().unwrap().is_empty();
            if parked {
                let again = send.clone();
                super::run(Box::new(move |_| again.send(std::thread::current().id()).unwrap())).unwrap();
                second_thread = Some(receive.recv().unwrap());
                break;
            }
        }
        assert_eq!(second_thread, Some(first_thread), "the second work ran on the parked thread");
    }
}
