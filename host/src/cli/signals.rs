//! Signal handling of `wasmpipe run`: SIGINT (Ctrl-C), SIGTERM, SIGHUP (a closed terminal, a
//! dropped ssh session) and SIGQUIT cancel the run, so that its exit handlers still run within
//! the grace period; the library aborts on the second signal. The handlers are installed before
//! the run does any work.

use tokio::signal::unix::{SignalKind, signal};
use wasmpipe::run::CancelHandle;

/// Handles SIGINT, SIGTERM, SIGHUP and SIGQUIT by cancelling the run (the second signal aborts
/// it), on a task of the current tokio runtime.
pub fn listen_for_signals(cancel: CancelHandle) -> anyhow::Result<()> {
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let mut quit = signal(SignalKind::quit())?;
    tokio::spawn(async move {
        loop {
            let name = tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
                _ = hangup.recv() => "SIGHUP",
                _ = quit.recv() => "SIGQUIT",
            };
            cancel.cancel(name);
        }
    });
    Ok(())
}
