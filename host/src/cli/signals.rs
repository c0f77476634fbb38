//! Signal handling of `wasmpipe run`: SIGINT (Ctrl-C) and SIGTERM cancel the run, so that its
//! exit handlers still run within the grace period; the library aborts on the second signal.

use wasmpipe::run::CancelHandle;

/// Handles SIGINT and SIGTERM by cancelling the run (the second signal aborts it), on a task of
/// the current tokio runtime.
pub fn listen_for_signals(cancel: CancelHandle) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        loop {
            let name = tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            };
            cancel.cancel(name);
        }
    });
    Ok(())
}
