//! Surviving faults, read as a spec: whatever the catalog or the operator does mid-run —
//! throttling, 5xx, replies lost after the write, SIGKILL, SIGINT/SIGTERM, an endpoint that never
//! answers, refused credentials — a re-run converges: nothing declared is missing, nothing
//! undeclared appears, nothing is reported failed that is in fact associated.
//!
//! This file holds the harness: a catalog holding the soak [`grid`], the real binary spawned so a
//! test can signal it mid-run, and waiting on the catalog's counters (so kill points are chosen
//! by progress, not by the clock). The tests are in the submodules by fault.

mod crash;
mod credentials;
pub mod grid;
mod hung;
mod replies;
mod soak;

use crate::support::{Run, client_options, start_config, write_file};
use grid::{Drift, Grid, drift};
use sc_assoc::aws::{AwsCatalog, AwsOptions};
use sc_assoc::local::{CatalogConfig, Faults, LocalCatalog};
use sc_assoc::progress::NoProgress;
use sc_assoc::run::{self, Report, Target};
use sc_assoc::settings::{Settings, Strategy};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Child;

/// Long enough for any of these runs on a loaded machine; only a hang ever reaches it.
const GUARD: Duration = Duration::from_secs(60);

/// A catalog seeded with `grid`, faulting as told.
async fn grid_catalog(grid: &Grid, faults: Faults) -> LocalCatalog {
    start_config(CatalogConfig {
        faults,
        ..CatalogConfig::new(grid.seed())
    })
    .await
}

/// The grid's manifest written to a temp dir (kept alive by the returned guard).
fn grid_manifest(grid: &Grid) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write_file(dir.path(), "soak.yaml", &grid.manifest());
    (dir, path)
}

/// How far the catalog is from the grid's expected state.
fn catalog_drift(catalog: &LocalCatalog, grid: &Grid) -> Drift {
    drift(&grid.expected(), &catalog.associations())
}

/// Requests of one operation the catalog has seen, retries included.
pub fn calls_of(catalog: &LocalCatalog, operation: &str) -> u64 {
    catalog
        .stats()
        .calls
        .get(operation)
        .copied()
        .unwrap_or_default()
}

/// One `apply` through the library — the same read, plan, apply and verify the binary runs —
/// for the tests that fault hundreds of calls. The only difference is the SDK's backoff, capped
/// at 50 ms instead of 20 s: its full-jitter exponential backoff would otherwise spend tens of
/// seconds on the rare call that is faulted five times running, which is waiting, not
/// behaviour.
async fn apply_in_process(catalog: &LocalCatalog, grid: &Grid, strategy: Strategy) -> Report {
    let options = AwsOptions {
        max_backoff: Duration::from_millis(50),
        ..client_options(catalog)
    };
    let client = AwsCatalog::connect(&options).await.expect("client");
    let prepared = run::prepare_target(&client, &Target::of(&grid.desired()), 32, &NoProgress)
        .await
        .expect("the state is read");
    let settings = Settings {
        concurrency: 32,
        strategy,
        ..Settings::default()
    };
    run::execute(&client, &prepared, &settings, &NoProgress).await
}

/// Starts `sc-assoc ARGS` against `endpoint` in the same clean environment as
/// [`crate::support::sc_assoc`], but returns the child so the test can signal it.
fn spawn_sc_assoc(endpoint: &str, args: &[&str]) -> Child {
    crate::support::command(Some(endpoint), args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts")
}

/// Waits for a spawned run to end (bounded by [`GUARD`]) and collects what it printed.
async fn finish(child: Child) -> Run {
    let output = tokio::time::timeout(GUARD, child.wait_with_output())
        .await
        .expect("the run ends within the guard")
        .expect("the run's output is readable");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Polls until `ready` holds. The run's progress as the catalog sees it decides when a test
/// acts, so the same seed acts at the same point however fast the machine is.
async fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    while !ready() {
        assert!(started.elapsed() < GUARD, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Sends `signal` (`INT`, `TERM`) the way an operator or a CI runner would.
fn send_signal(child: &Child, signal: &str) {
    let pid = child.id().expect("the child is running").to_string();
    let status = std::process::Command::new("kill")
        .args([format!("-{signal}").as_str(), pid.as_str()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} {pid} failed");
}
