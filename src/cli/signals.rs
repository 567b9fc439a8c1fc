//! Signals and `--deadline`, wired to a run's stop switch ([`RunControl`]) from before anything
//! is called, for every command that calls AWS.

use super::EXIT_INTERRUPTED;
use super::progress::CliReporter;
use sc_assoc::control::{RunControl, StopReason};
use sc_assoc::progress::Reporter;
use std::sync::Arc;
use std::time::Duration;

/// Wires SIGINT/SIGTERM and the deadline to a fresh [`RunControl`]. On the first signal no new
/// call is made and calls in flight get the control's grace; on the second, the process leaves
/// at once.
pub fn watch(reporter: Arc<CliReporter>, deadline: Option<Duration>) -> RunControl {
    let control = RunControl::default();
    let signalled = control.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        signalled.stop(StopReason::Interrupted);
        reporter.warn(
            "interrupted: no new calls; calls in flight get 2 s to finish (interrupt again to quit now)",
        );
        wait_for_signal().await;
        eprintln!("interrupted again: exiting now");
        std::process::exit(i32::from(EXIT_INTERRUPTED));
    });
    if let Some(limit) = deadline {
        control.stop_after(limit);
    }
    control
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
