//! The report tells what happened: what the calls cost on the wire (attempts, retries,
//! throttled and 5xx answers), and a write whose answer was lost but that verification finds
//! made counts as created, not failed.

use crate::support::{SMALL_SEED, client_options, start_catalog_with};
use sc_assoc::aws::AwsCatalog;
use sc_assoc::local::Faults;
use sc_assoc::progress::NoProgress;
use sc_assoc::run::{execute, plan_manifest};
use sc_assoc::settings::{Settings, Verify};
use std::time::Duration;

/// A catalog where every write is made and its answer lost, retries included, and a client with
/// two quick attempts per call.
async fn losing_every_reply() -> (sc_assoc::local::LocalCatalog, AwsCatalog) {
    losing_every_reply_behind(Duration::ZERO).await
}

/// [`losing_every_reply`], with the listings `lag` behind the writes.
async fn losing_every_reply_behind(lag: Duration) -> (sc_assoc::local::LocalCatalog, AwsCatalog) {
    let catalog = start_catalog_with(
        SMALL_SEED,
        Faults {
            lost_reply_rate: 1.0,
            listing_lag: lag,
            ..Faults::default()
        },
    )
    .await;
    let mut options = client_options(&catalog);
    options.max_attempts = 2;
    options.max_backoff = Duration::from_millis(10);
    let client = AwsCatalog::connect(&options).await.expect("connects");
    (catalog, client)
}

async fn apply(client: &AwsCatalog, verify: Verify) -> sc_assoc::run::Report {
    let desired = sc_assoc::manifest::parse_str(
        std::path::Path::new("m.yaml"),
        "version: 1\nassociations:\n  - product: prod-web\n    artifacts: [pa-web-v1, pa-web-v2]\n    actions: [act-patch, act-backup]\n",
    )
    .expect("valid");
    let settings = Settings {
        verify,
        ..Settings::default()
    };
    let planned = plan_manifest(client, &desired, &settings, &NoProgress)
        .await
        .expect("plans");
    assert_eq!(planned.prepared.plan.to_add.len(), 4);
    execute(client, &planned.prepared, &settings, &NoProgress).await
}

#[tokio::test]
async fn a_lost_reply_that_verification_finds_made_counts_as_created() {
    let (catalog, client) = losing_every_reply().await;
    let report = apply(&client, Verify::default()).await;
    assert_eq!(report.summary.failed, 0, "{:?}", report.outcomes);
    assert_eq!(report.summary.created, 4, "{:?}", report.outcomes);
    assert_eq!(catalog.associations().len(), 5);
}

#[tokio::test]
async fn a_lost_reply_behind_lagging_listings_counts_as_created_once_they_show_it() {
    // The probe's answer is lost too, so only the listing can settle it, after the lag.
    let (catalog, client) = losing_every_reply_behind(Duration::from_millis(600)).await;
    let report = apply(&client, Verify::default()).await;
    assert_eq!(report.summary.failed, 0, "{:?}", report.outcomes);
    assert_eq!(report.summary.created, 4, "{:?}", report.outcomes);
    let settle = report.settle.expect("settled");
    assert_eq!(
        settle.probes, 4,
        "each lost answer probed at once: {settle:?}"
    );
    assert!(settle.waited_ms >= 500, "{settle:?}");
    assert_eq!(catalog.associations().len(), 5);
}

#[tokio::test]
async fn without_verification_a_lost_reply_stays_failed() {
    let (catalog, client) = losing_every_reply().await;
    let report = apply(&client, Verify::Off).await;
    assert_eq!(report.summary.failed, 4, "{:?}", report.outcomes);
    assert_eq!(catalog.associations().len(), 5, "made all the same");
}

#[tokio::test]
async fn the_report_counts_what_the_server_saw_on_the_wire() {
    let catalog = start_catalog_with(
        SMALL_SEED,
        Faults {
            throttle_rate: 0.3,
            error_rate: 0.1,
            rng_seed: 11,
            ..Faults::default()
        },
    )
    .await;
    let mut options = client_options(&catalog);
    options.max_backoff = Duration::from_millis(10);
    let client = AwsCatalog::connect(&options).await.expect("connects");
    let report = apply(&client, Verify::Off).await;
    let stats = catalog.stats();
    let wire = report.calls.wire;
    assert!(stats.throttled > 0, "the seed throttles some calls");
    assert_eq!(wire.attempts, stats.total_calls, "{wire:?} vs {stats:?}");
    assert_eq!(wire.throttled, stats.throttled, "{wire:?} vs {stats:?}");
    assert_eq!(
        wire.server_errors, stats.injected_errors,
        "{wire:?} vs {stats:?}"
    );
    assert_eq!(
        wire.retries,
        wire.attempts - report.calls.reads - report.calls.writes,
        "{wire:?}"
    );
}
