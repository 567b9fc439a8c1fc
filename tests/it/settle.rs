//! Apply against listings that lag the writes, as AWS's do: no false failures, no redundant
//! writes, the stale-token trap still healed, and apply returning only once the listings show
//! what it did, so a plan right after it finds nothing to do. Each test drives the binary
//! against the local catalog with `listing_lag` on.

use crate::faults::calls_of;
use crate::support::{Run, accounts_catalog, sc_assoc, start_catalog_with, write_file};
use crate::targets::{HUB_AND_SPOKES, as_hub};
use sc_assoc::local::{Faults, LocalCatalog};
use sc_assoc::triple::Triple;
use std::fmt::Write;
use std::time::{Duration, Instant};

const ASSOCIATE: &str = "AssociateServiceActionWithProvisioningArtifact";
const DISASSOCIATE: &str = "DisassociateServiceActionFromProvisioningArtifact";

/// 20 artifacts (10 products of two versions) and 10 actions: 200 triples when every artifact
/// gets every action. The first two actions are associated everywhere already (40), and the
/// last artifact carries one action the manifest leaves out, for prune.
fn seed() -> String {
    let mut seed = String::from("products:\n");
    for p in 0..10 {
        let _ = writeln!(
            seed,
            "  - {{id: prod-{p:02}, name: P{p:02}, artifacts: [{{id: pa-{p:02}a, name: v1}}, {{id: pa-{p:02}b, name: v2}}]}}"
        );
    }
    seed.push_str("actions:\n");
    for a in 0..11 {
        let _ = writeln!(seed, "  - {{id: act-{a:02}, name: A{a:02}}}");
    }
    seed.push_str("associations:\n");
    for p in 0..10 {
        for v in ["a", "b"] {
            for a in 0..2 {
                let _ = writeln!(
                    seed,
                    "  - {{product: prod-{p:02}, artifact: pa-{p:02}{v}, action: act-{a:02}}}"
                );
            }
        }
    }
    seed.push_str("  - {product: prod-09, artifact: pa-09b, action: act-10}\n");
    seed
}

/// Every artifact gets actions 0..9: 200 triples, 160 missing.
fn manifest(dir: &std::path::Path) -> String {
    let mut text = String::from("version: 1\nassociations:\n");
    for p in 0..10 {
        let _ = writeln!(
            text,
            "  - product: prod-{p:02}\n    artifacts: [pa-{p:02}a, pa-{p:02}b]\n    actions: [{}]",
            (0..10)
                .map(|a| format!("act-{a:02}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    write_file(dir, "m.yaml", &text)
        .to_string_lossy()
        .into_owned()
}

fn lag(millis: u64) -> Faults {
    Faults {
        listing_lag: Duration::from_millis(millis),
        listing_lag_jitter: Duration::from_millis(millis / 2),
        latency: Duration::from_millis(1),
        rng_seed: 3,
        ..Faults::default()
    }
}

/// `plan --detailed-exitcode` at once: 0 means the listings already show everything.
async fn plan_right_after(catalog: &LocalCatalog, manifest: &str, extra: &[&str]) -> Run {
    let mut args = vec!["plan", manifest, "--detailed-exitcode"];
    args.extend_from_slice(extra);
    sc_assoc(Some(&catalog.endpoint()), &args).await
}

#[tokio::test]
async fn an_apply_behind_lagging_listings_fails_nothing_writes_each_change_once_and_waits() {
    for (millis, strategy) in [(300, "single"), (1000, "single"), (1000, "batch")] {
        let catalog = start_catalog_with(&seed(), lag(millis)).await;
        let dir = tempfile::tempdir().unwrap();
        let manifest = manifest(dir.path());
        let run = sc_assoc(
            Some(&catalog.endpoint()),
            &[
                "apply",
                &manifest,
                "--strategy",
                strategy,
                "--output",
                "json",
            ],
        )
        .await;
        let case = format!("lag {millis} ms, {strategy}");
        assert_eq!(run.code, 0, "{case}: {run:?}");
        let report = run.json();
        let summary = &report["summary"];
        assert_eq!(summary["created"], 160, "{case}: {summary}");
        assert_eq!(summary["already_present"], 40, "{case}");
        assert_eq!(summary["failed"], 0, "{case}");
        assert_eq!(summary["healed"], 0, "{case}");
        assert_eq!(summary["not_visible"], 0, "{case}");
        let settle = &report["settle"];
        assert_eq!(settle["complete"], true, "{case}: {settle}");
        assert_eq!(
            settle["probes"], 0,
            "{case}: no write beyond the plan's: {settle}"
        );
        assert!(
            settle["waited_ms"].as_u64().unwrap_or_default() > 0,
            "{case}: it had to wait for the listings: {settle}"
        );
        let confirmed = report["outcomes"]
            .as_array()
            .expect("outcomes")
            .iter()
            .filter(|o| o["status"] == "created")
            .map(|o| o["confirmed_by"].as_str().unwrap_or("none").to_string())
            .collect::<std::collections::BTreeSet<_>>();
        let expected = if strategy == "batch" {
            "batch_reply"
        } else {
            "listing"
        };
        assert_eq!(
            confirmed,
            [expected.to_string()].into(),
            "{case}: how each was confirmed"
        );
        let write_calls = if strategy == "batch" {
            calls_of(
                &catalog,
                "BatchAssociateServiceActionWithProvisioningArtifact",
            )
        } else {
            calls_of(&catalog, ASSOCIATE)
        };
        let most = if strategy == "batch" { 4 } else { 168 };
        assert!(
            write_calls <= most,
            "{case}: {write_calls} write calls for 160 changes"
        );
        let plan = plan_right_after(&catalog, &manifest, &[]).await;
        assert_eq!(plan.code, 0, "{case}: the listings show it all: {plan:?}");
        catalog.shutdown().await;
    }
}

#[tokio::test]
async fn removals_behind_lagging_listings_wait_until_the_listings_no_longer_show_them() {
    let catalog = start_catalog_with(&seed(), lag(800)).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest(dir.path());
    let extra = Triple::new("prod-09", "pa-09b", "act-10");
    let run = sc_assoc(
        Some(&catalog.endpoint()),
        &["apply", &manifest, "--prune", "--yes", "--output", "json"],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let summary = &run.json()["summary"];
    assert_eq!(
        (summary["removed"].as_u64(), summary["failed"].as_u64()),
        (Some(1), Some(0))
    );
    assert!(!catalog.associations().contains(&extra));
    assert_eq!(calls_of(&catalog, DISASSOCIATE), 1, "one Disassociate");
    let plan = plan_right_after(&catalog, &manifest, &["--prune"]).await;
    assert_eq!(plan.code, 0, "{plan:?}");
    catalog.shutdown().await;
}

#[tokio::test]
async fn a_replayed_token_is_still_found_and_healed_with_the_listings_behind() {
    let catalog = start_catalog_with(&seed(), lag(500)).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest(dir.path());
    let first = sc_assoc(Some(&catalog.endpoint()), &["apply", &manifest, "-q"]).await;
    assert_eq!(first.code, 0, "{first:?}");
    let removed = Triple::new("prod-03", "pa-03a", "act-05");
    assert!(catalog.remove_association_out_of_band(&removed));

    // The re-run's Associate replays the first run's token: success, nothing made. The
    // listings show no other write of this run, so the lone write is sampled by a probe after
    // 2 s (half of this window) and healed.
    let started = Instant::now();
    let second = sc_assoc(
        Some(&catalog.endpoint()),
        &["apply", &manifest, "--settle", "4", "--output", "json"],
    )
    .await;
    let took = started.elapsed();
    assert_eq!(second.code, 0, "{second:?}");
    let report = second.json();
    assert_eq!(report["summary"]["healed"], 1, "{second:?}");
    assert_eq!(report["settle"]["probes"], 1, "{second:?}");
    assert!(catalog.associations().contains(&removed));
    let waited = report["settle"]["waited_ms"].as_u64().unwrap_or(u64::MAX);
    assert!(
        waited < 4000,
        "healed and shown within the window: {waited} ms"
    );
    assert!(took < Duration::from_secs(8), "{took:?}");
    let plan = plan_right_after(&catalog, &manifest, &[]).await;
    assert_eq!(plan.code, 0, "{plan:?}");
    catalog.shutdown().await;
}

#[tokio::test]
async fn listings_later_than_the_window_are_named_and_fail_the_run_with_a_hint() {
    let catalog = start_catalog_with(&seed(), lag(3000)).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(
        dir.path(),
        "m.yaml",
        "version: 1\nassociations:\n  - {product: prod-00, artifact: pa-00a, action: act-05}\n",
    );
    let started = Instant::now();
    let run = sc_assoc(
        Some(&catalog.endpoint()),
        &["apply", manifest.to_str().unwrap(), "--settle", "1"],
    )
    .await;
    let took = started.elapsed();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("Not yet visible")
            && run.stdout.contains("prod-00 / pa-00a / act-05")
            && run
                .stdout
                .contains("the service confirmed it to a fresh-token probe")
            && run.stdout.contains("hint:")
            && run.stdout.contains("--settle"),
        "{run:?}"
    );
    assert!(run.stdout.contains("1 not yet visible"), "{run:?}");
    assert!(
        took < Duration::from_secs(3),
        "bounded by --settle: {took:?}"
    );
    // The change is made; the next plan sees it once the listings catch up.
    assert!(
        catalog
            .associations()
            .contains(&Triple::new("prod-00", "pa-00a", "act-05"))
    );
    catalog.shutdown().await;
}

#[tokio::test]
async fn no_verify_neither_reads_back_nor_waits() {
    let catalog = start_catalog_with(&seed(), lag(5000)).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest(dir.path());
    let started = Instant::now();
    let run = sc_assoc(
        Some(&catalog.endpoint()),
        &["apply", &manifest, "--no-verify", "--output", "json"],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(started.elapsed() < Duration::from_secs(4));
    let report = run.json();
    assert!(report.get("settle").is_none(), "{report}");
    assert_eq!(report["summary"]["created"], 160);
    // Without the wait, the listings do not show it yet.
    let plan = plan_right_after(&catalog, &manifest, &[]).await;
    assert_eq!(plan.code, 2, "{plan:?}");
    catalog.shutdown().await;
}

#[tokio::test]
async fn every_target_of_a_run_and_of_a_saved_plan_waits_for_its_own_listings() {
    let catalog = accounts_catalog().await;
    catalog.set_faults(lag(700));
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "fleet.yaml", HUB_AND_SPOKES);
    let manifest = manifest.to_str().unwrap();
    let plan_file = dir.path().join("plan.json");
    let plan_file = plan_file.to_str().unwrap();
    let planned = as_hub(&catalog, &["plan", manifest, "--out", plan_file]).await;
    assert_eq!(planned.code, 0, "{planned:?}");
    let applied = as_hub(&catalog, &["apply", plan_file, "--output", "json"]).await;
    assert_eq!(applied.code, 0, "{applied:?}");
    let again = as_hub(&catalog, &["plan", manifest, "--detailed-exitcode"]).await;
    assert_eq!(again.code, 0, "every target's listings show it: {again:?}");

    // Straight from the manifest, after the spokes lost their associations out of band: the
    // same tokens again, so every spoke's writes are replays, found and healed per target.
    for (account, region) in [("222222222222", "us-east-1"), ("333333333333", "eu-west-1")] {
        for triple in catalog.associations_in(account, region).unwrap_or_default() {
            catalog.remove_association_out_of_band_in(account, region, &triple);
        }
    }
    let direct = as_hub(
        &catalog,
        &["apply", manifest, "--settle", "4", "--output", "json"],
    )
    .await;
    assert_eq!(direct.code, 0, "{direct:?}");
    let healed: u64 = direct.json()["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| {
            t["report"]["summary"]["healed"]
                .as_u64()
                .unwrap_or_default()
        })
        .sum();
    assert_eq!(healed, 3, "{direct:?}");
    let last = as_hub(&catalog, &["plan", manifest, "--detailed-exitcode"]).await;
    assert_eq!(last.code, 0, "{last:?}");
    catalog.shutdown().await;
}
