//! Client-side pacing against a rate-limited catalog: a run paced under the server's rate is
//! never throttled, where the same run unpaced is.

use crate::support::{client_options, start_catalog_with};
use sc_assoc::aws::AwsCatalog;
use sc_assoc::local::Faults;
use sc_assoc::pace::Pacer;
use sc_assoc::progress::NoProgress;
use sc_assoc::run::{Target, execute, prepare_target};
use sc_assoc::settings::{Settings, Verify};
use sc_assoc::triple::Triple;
use std::collections::BTreeSet;
use std::sync::Arc;

fn fleet_seed(artifacts: usize) -> String {
    let mut seed = String::from("products:\n  - id: prod-fleet\n    name: Fleet\n    artifacts:\n");
    for i in 0..artifacts {
        seed.push_str(&format!("      - {{id: pa-{i:03}, name: v{i}}}\n"));
    }
    seed.push_str("actions:\n  - {id: act-restart, name: Restart}\n");
    seed
}

async fn throttled_replies(pacer: Option<Arc<Pacer>>) -> u64 {
    let faults = Faults {
        rate: Some(25.0),
        burst: 3,
        ..Faults::default()
    };
    let catalog = start_catalog_with(&fleet_seed(30), faults).await;
    let sdk = AwsCatalog::connect(&sc_assoc::aws::AwsOptions {
        pacer,
        ..client_options(&catalog)
    })
    .await
    .unwrap();
    let desired: BTreeSet<Triple> = (0..30)
        .map(|i| Triple::new("prod-fleet", format!("pa-{i:03}"), "act-restart"))
        .collect();
    let prepared = prepare_target(&sdk, &Target::of(&desired), 8, &NoProgress)
        .await
        .unwrap();
    let options = Settings {
        concurrency: 8,
        verify: Verify::Off,
        ..Settings::default()
    };
    let report = execute(&sdk, &prepared, &options, &NoProgress).await;
    assert!(report.converged(), "{report:?}");
    catalog.stats().throttled
}

#[tokio::test]
async fn a_run_paced_under_the_servers_rate_is_never_throttled() {
    assert_eq!(
        throttled_replies(Some(Arc::new(Pacer::fixed(20.0)))).await,
        0
    );
}

#[tokio::test]
async fn the_same_run_unpaced_is_throttled_and_still_converges() {
    assert!(throttled_replies(None).await > 0);
}

/// A manifest of the fleet's 30 triples.
fn fleet_manifest(dir: &std::path::Path) -> std::path::PathBuf {
    let mut text = String::from("version: 1\nassociations:\n");
    for i in 0..30 {
        text.push_str(&format!(
            "  - {{product: prod-fleet, artifact: pa-{i:03}, action: act-restart}}\n"
        ));
    }
    crate::support::write_file(dir, "fleet.yaml", &text)
}

/// The rate cache, as a pipeline meets it: a run with the default `--rate auto` leaves what it
/// learned of the account (keyed by endpoint, account and region) for the next, which starts
/// from it; `off`, and a machine that says it is CI, keep nothing; a home that cannot be
/// written is no error.
#[tokio::test]
async fn a_run_leaves_the_accounts_rate_for_the_next_and_ci_keeps_nothing() {
    use crate::support::sc_assoc_env;
    let faults = Faults {
        rate: Some(25.0),
        burst: 3,
        ..Faults::default()
    };
    let catalog = start_catalog_with(&fleet_seed(30), faults.clone()).await;
    let endpoint = catalog.endpoint();
    let dir = tempfile::tempdir().unwrap();
    let manifest = fleet_manifest(dir.path());
    let manifest = manifest.to_str().unwrap();
    let cache = dir.path().join("kept/rates.json");
    let cache_arg = cache.to_str().unwrap();

    let first = sc_assoc_env(
        Some(&endpoint),
        &[
            "apply",
            manifest,
            "--rate-cache",
            cache_arg,
            "--no-progress",
        ],
        &[],
    )
    .await;
    assert_eq!(first.code, 0, "{first:?}");
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cache).expect("the cache is written"))
            .unwrap();
    let rates = kept["rates"].as_object().unwrap();
    assert_eq!(rates.len(), 1, "{kept}");
    let (key, entry) = rates.iter().next().unwrap();
    assert!(
        key.contains(&endpoint) && key.ends_with("us-east-1"),
        "{key}"
    );
    let rate = entry["rate"].as_f64().unwrap();
    assert!(rate > 5.0 && rate < 60.0, "{kept}");

    // The next run starts from it.
    let second = sc_assoc_env(
        Some(&endpoint),
        &[
            "plan",
            manifest,
            "--rate-cache",
            cache_arg,
            "-vv",
            "--no-progress",
        ],
        &[],
    )
    .await;
    assert_eq!(second.code, 0, "{second:?}");
    assert!(
        second.stderr.contains("rate cache read") && second.stderr.contains("prior=Some("),
        "{second:?}"
    );

    // By default the cache is in the user's cache directory, unless the machine is CI's or
    // the run says `off` (each run against a fresh account, so each has the same to learn).
    for (env, kept) in [
        (vec![], true),
        (vec![("CI", "true")], false),
        (vec![("SC_ASSOC_RATE_CACHE", "off")], false),
    ] {
        let fresh = start_catalog_with(&fleet_seed(30), faults.clone()).await;
        let home = tempfile::tempdir().unwrap();
        let mut env = env;
        env.push(("HOME", home.path().to_str().unwrap()));
        let run = sc_assoc_env(
            Some(&fresh.endpoint()),
            &["apply", manifest, "--no-progress"],
            &env,
        )
        .await;
        assert_eq!(run.code, 0, "{run:?}");
        let file = home.path().join(".cache/sc-assoc/rates.json");
        assert_eq!(file.exists(), kept, "{env:?}: {run:?}");
    }

    // A cache that cannot be written costs nothing but the cache.
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let unwritable = blocker.join("rates.json");
    let run = sc_assoc_env(
        Some(&endpoint),
        &[
            "plan",
            manifest,
            "--rate-cache",
            unwritable.to_str().unwrap(),
            "--no-progress",
        ],
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.is_empty(), "{run:?}");
}
