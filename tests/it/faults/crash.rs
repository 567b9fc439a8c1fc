//! Stopping a run from outside. SIGKILL (a crashed runner, an OOM kill) leaves no chance to
//! clean up; SIGINT/SIGTERM (Ctrl-C, a CI cancel) stop dispatching, let calls in flight finish,
//! print the partial report and exit 130. Either way the next run must finish the job.
//!
//! Kill points are drawn from a seed and expressed as progress the catalog has seen ("after the
//! k-th Associate request"), so each seed stops the run at the same place on any machine.

use super::{
    calls_of, catalog_drift, finish, grid_catalog, grid_manifest, send_signal, spawn_sc_assoc,
    wait_until,
};
use crate::faults::grid::{Drift, Grid};
use crate::support::sc_assoc;
use sc_assoc::local::SplitMix64;
use sc_assoc::local::{Faults, LocalCatalog};
use sc_assoc::triple::Triple;
use serde_json::Value;
use std::time::Duration;

const ASSOCIATE: &str = "AssociateServiceActionWithProvisioningArtifact";
const BATCH_ASSOCIATE: &str = "BatchAssociateServiceActionWithProvisioningArtifact";

/// Slow enough that a run is always mid-flight when the kill point is reached. The kill itself
/// makes the lost replies: writes in flight land in the catalog, their answers go nowhere. The
/// listings lag the writes, so the re-run plans some of what the killed run made.
fn crash_faults(rng_seed: u64) -> Faults {
    Faults {
        latency: Duration::from_millis(5),
        jitter: Duration::from_millis(10),
        listing_lag: Duration::from_millis(300),
        listing_lag_jitter: Duration::from_millis(200),
        rng_seed,
        ..Faults::default()
    }
}

/// Where a seed stops a run, as progress the catalog has seen.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// After this many read requests: the run is still reading, nothing written yet.
    Reads(u64),
    /// After this many Associate requests (retries included).
    Writes(u64),
}

impl KillPoint {
    /// Every fourth seed kills during the read; the others after a number of writes short of
    /// the last `max_writes` (so the apply is never over yet).
    fn from_seed(seed: u64, max_writes: u64) -> Self {
        let mut rng = SplitMix64::new(seed);
        if seed.is_multiple_of(4) {
            KillPoint::Reads(1 + rng.next_u64() % 8)
        } else {
            KillPoint::Writes(1 + rng.next_u64() % max_writes)
        }
    }

    fn reached(self, catalog: &LocalCatalog) -> bool {
        match self {
            KillPoint::Reads(n) => catalog.stats().total_calls - catalog.stats().write_calls() >= n,
            KillPoint::Writes(n) => calls_of(catalog, ASSOCIATE) >= n,
        }
    }
}

/// The re-run after a stop: exit 0, nothing failed, the state exactly as declared.
async fn rerun_converges(
    catalog: &LocalCatalog,
    manifest: &str,
    grid: &Grid,
    extra: &[&str],
) -> Value {
    let mut args = vec!["apply", manifest, "--output", "json"];
    args.extend_from_slice(extra);
    let rerun = sc_assoc(Some(&catalog.endpoint()), &args).await;
    assert_eq!(rerun.code, 0, "{rerun:?}");
    let summary = rerun.json()["summary"].clone();
    assert_eq!(summary["failed"], 0, "{summary}");
    assert_eq!(summary["not_attempted"], 0, "{summary}");
    assert_eq!(catalog_drift(catalog, grid), Drift::default(), "{summary}");
    summary
}

#[tokio::test]
async fn an_apply_killed_at_seeded_points_is_finished_by_the_rerun() {
    let grid = Grid::for_triples(300);
    let to_add = (grid.declared() - grid.pre_existing().len() / 2) as u64;
    for seed in 1..=6u64 {
        let catalog = grid_catalog(&grid, crash_faults(seed)).await;
        let (_dir, manifest) = grid_manifest(&grid);
        let manifest = manifest.to_str().unwrap();
        let endpoint = catalog.endpoint();
        // 32: twice the default concurrency, so the kill always precedes the last write.
        let point = KillPoint::from_seed(seed, to_add - 32);

        let mut child = spawn_sc_assoc(&endpoint, &["apply", manifest, "-q"]);
        wait_until(&format!("{point:?}"), || point.reached(&catalog)).await;
        child.start_kill().expect("SIGKILL is delivered");
        let killed = finish(child).await;
        assert_eq!(
            killed.code, -1,
            "ended by the signal, not by itself: {killed:?}"
        );
        let left = catalog_drift(&catalog, &grid);
        assert!(
            left.missing > 0 && left.extra == 0,
            "seed {seed}: killed mid-run, nothing undeclared made: {left:?}"
        );

        rerun_converges(&catalog, manifest, &grid, &[]).await;
    }
}

#[tokio::test]
async fn a_batch_apply_killed_between_batches_is_finished_by_the_rerun() {
    let grid = Grid::for_triples(1_000);
    for seed in 1..=3u64 {
        let catalog = grid_catalog(&grid, crash_faults(100 + seed)).await;
        let (_dir, manifest) = grid_manifest(&grid);
        let manifest = manifest.to_str().unwrap();
        let endpoint = catalog.endpoint();
        let point = 1 + SplitMix64::new(seed).next_u64() % 3;

        let mut child = spawn_sc_assoc(
            &endpoint,
            &[
                "apply",
                manifest,
                "-q",
                "--strategy",
                "batch",
                "--concurrency",
                "2",
            ],
        );
        wait_until("batch requests", || {
            calls_of(&catalog, BATCH_ASSOCIATE) >= point
        })
        .await;
        child.start_kill().expect("SIGKILL is delivered");
        assert_eq!(finish(child).await.code, -1);
        assert!(catalog_drift(&catalog, &grid).missing > 0);

        rerun_converges(&catalog, manifest, &grid, &["--strategy", "batch"]).await;
    }
}

fn triples_with_status(report: &Value, status: &str) -> Vec<Triple> {
    report["outcomes"]
        .as_array()
        .expect("outcomes")
        .iter()
        .filter(|o| o["status"] == status)
        .map(|o| {
            Triple::new(
                o["product"].as_str().unwrap(),
                o["artifact"].as_str().unwrap(),
                o["action"].as_str().unwrap(),
            )
        })
        .collect()
}

/// SIGINT and SIGTERM mean the same: stop dispatching, finish what is in flight, report, 130.
async fn interrupted_apply_reports_partially_and_the_rerun_finishes(signal: &str) {
    let grid = Grid::for_triples(400);
    let faults = Faults {
        latency: Duration::from_millis(10),
        rng_seed: 5,
        ..Faults::default()
    };
    let catalog = grid_catalog(&grid, faults).await;
    let (_dir, manifest) = grid_manifest(&grid);
    let manifest = manifest.to_str().unwrap();
    let endpoint = catalog.endpoint();

    let child = spawn_sc_assoc(
        &endpoint,
        &["apply", manifest, "--output", "json", "--concurrency", "4"],
    );
    wait_until("40 Associate requests", || {
        calls_of(&catalog, ASSOCIATE) >= 40
    })
    .await;
    send_signal(&child, signal);
    let stopped = finish(child).await;
    assert_eq!(stopped.code, 130, "{stopped:?}");
    assert!(
        stopped
            .stderr
            .contains("interrupted: the report above is partial"),
        "{stopped:?}"
    );
    let report = stopped.json();
    let summary = &report["summary"];
    assert_eq!(summary["failed"], 0, "in-flight calls finished: {summary}");
    let created = triples_with_status(&report, "created");
    let not_attempted = triples_with_status(&report, "not_attempted");
    assert!(
        !created.is_empty() && !not_attempted.is_empty(),
        "{summary}"
    );

    // The report tells the truth: what it calls created is there (calls in flight were let
    // finish), what it calls not attempted was never sent.
    let state = catalog.associations();
    assert!(created.iter().all(|t| state.contains(t)));
    assert!(not_attempted.iter().all(|t| !state.contains(t)));
    assert_eq!(
        calls_of(&catalog, ASSOCIATE),
        created.len() as u64,
        "no call after the report"
    );

    let summary = rerun_converges(&catalog, manifest, &grid, &[]).await;
    assert_eq!(summary["created"], not_attempted.len(), "{summary}");
}

#[tokio::test]
async fn sigint_stops_dispatching_reports_partially_exits_130_and_the_rerun_finishes() {
    interrupted_apply_reports_partially_and_the_rerun_finishes("INT").await;
}

#[tokio::test]
async fn sigterm_stops_dispatching_reports_partially_exits_130_and_the_rerun_finishes() {
    interrupted_apply_reports_partially_and_the_rerun_finishes("TERM").await;
}

/// An interrupt before any target (here while AWS Organizations is slow to list the units) is
/// an interrupt as in any other phase: one message saying what was under way, nothing applied,
/// exit 130.
#[tokio::test]
async fn an_interrupt_while_units_are_expanded_exits_130_with_nothing_applied() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let seed =
        sc_assoc::local::SeedFile::from_file(&root.join("examples/hub-and-spoke-catalog.yaml"))
            .expect("the demo seed parses");
    let mut config = sc_assoc::local::CatalogConfig::from_seed_file(seed);
    config.faults.latency = Duration::from_secs(30);
    let catalog = crate::support::start_config(config).await;
    let manifest = root.join("examples/manifests/hub-and-spoke.yaml");
    let child = crate::support::command(
        Some(&catalog.endpoint()),
        &["apply", manifest.to_str().expect("utf-8")],
    )
    .env("AWS_ACCESS_KEY_ID", "AKIDLOCALDEMO")
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .kill_on_drop(true)
    .spawn()
    .expect("the binary starts");
    wait_until("an Organizations listing", || {
        !catalog.organization_calls().is_empty()
    })
    .await;
    send_signal(&child, "INT");
    let stopped = finish(child).await;
    assert_eq!(stopped.code, 130, "{stopped:?}");
    assert!(
        stopped.stderr.contains(
            "error: interrupted while expanding the organizational units; nothing was applied"
        ),
        "{stopped:?}"
    );
    assert_eq!(catalog.stats().total_calls, 0, "no Service Catalog call");
    catalog.shutdown().await;
}
