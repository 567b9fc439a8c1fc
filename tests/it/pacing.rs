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
