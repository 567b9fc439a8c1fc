//! The library's read → plan → apply cycle against the local catalog, where the test needs to
//! act between the steps (an association made by someone else mid-run) or to inspect the catalog.

use crate::support::{SMALL_SEED, client, start_catalog, start_catalog_with};
use sc_assoc::apply::Status;
use sc_assoc::local::Faults;
use sc_assoc::observe::Direction;
use sc_assoc::progress::NoProgress;
use sc_assoc::run::{Target, execute, prepare_target};
use sc_assoc::settings::{Settings, Strategy, Verify};
use sc_assoc::triple::Triple;
use std::collections::BTreeSet;

fn desired() -> BTreeSet<Triple> {
    ["pa-web-v1", "pa-web-v2"]
        .into_iter()
        .flat_map(|a| ["act-restart", "act-patch"].map(|x| Triple::new("prod-web", a, x)))
        .collect()
}

#[tokio::test]
async fn pre_existing_associations_are_adopted_without_calls() {
    let catalog = start_catalog(SMALL_SEED).await;
    let sdk = client(&catalog).await;
    let prepared = prepare_target(&sdk, &Target::of(&desired()), 4, &NoProgress)
        .await
        .unwrap();
    assert_eq!(
        prepared.plan.present,
        vec![Triple::new("prod-web", "pa-web-v1", "act-restart")]
    );
    assert_eq!(prepared.plan.to_add.len(), 3);
}

#[tokio::test]
async fn an_association_created_between_plan_and_apply_counts_as_success() {
    let catalog = start_catalog(SMALL_SEED).await;
    let sdk = client(&catalog).await;
    let prepared = prepare_target(&sdk, &Target::of(&desired()), 4, &NoProgress)
        .await
        .unwrap();
    let raced = Triple::new("prod-web", "pa-web-v2", "act-patch");
    catalog.insert_association_out_of_band(&raced);

    let report = execute(
        &sdk,
        &prepared,
        &Settings {
            verify: Verify::Off,
            ..Settings::default()
        },
        &NoProgress,
    )
    .await;
    assert!(report.converged(), "{report:?}");
    let outcome = report.outcomes.iter().find(|o| o.triple == raced).unwrap();
    assert_eq!(outcome.status, Status::Adopted);
    assert_eq!(report.summary.created, 2);
    assert_eq!(report.summary.adopted, 1);
    assert_eq!(report.summary.already_present, 1);
}

#[tokio::test]
async fn batch_mode_converges_and_counts_duplicates_as_success() {
    let catalog = start_catalog(SMALL_SEED).await;
    let sdk = client(&catalog).await;
    let prepared = prepare_target(&sdk, &Target::of(&desired()), 4, &NoProgress)
        .await
        .unwrap();
    catalog.insert_association_out_of_band(&Triple::new("prod-web", "pa-web-v2", "act-patch"));
    let options = Settings {
        strategy: Strategy::Batch,
        verify: Verify::Off,
        ..Settings::default()
    };
    let report = execute(&sdk, &prepared, &options, &NoProgress).await;
    assert!(report.converged(), "{report:?}");
    assert_eq!((report.summary.created, report.summary.adopted), (2, 1));
    assert_eq!(
        catalog
            .stats()
            .calls
            .get("BatchAssociateServiceActionWithProvisioningArtifact"),
        Some(&1)
    );
}

#[tokio::test]
async fn batch_items_answered_throttling_are_retried_until_they_land() {
    let faults = Faults {
        batch_item_throttle_rate: 0.5,
        rng_seed: 11,
        ..Faults::default()
    };
    let catalog = start_catalog_with(SMALL_SEED, faults).await;
    let sdk = client(&catalog).await;
    let wanted: BTreeSet<Triple> = ["pa-db-v1", "pa-db-v2"]
        .into_iter()
        .flat_map(|a| {
            ["act-restart", "act-patch", "act-backup", "act-stop"]
                .map(|x| Triple::new("prod-db", a, x))
        })
        .collect();
    let prepared = prepare_target(&sdk, &Target::of(&wanted), 4, &NoProgress)
        .await
        .unwrap();
    let options = Settings {
        strategy: Strategy::Batch,
        verify: Verify::Off,
        ..Settings::default()
    };
    let report = execute(&sdk, &prepared, &options, &NoProgress).await;
    assert!(report.converged(), "{report:?}");
    assert_eq!(report.summary.created, 8);
    let batch_calls = catalog.stats().calls["BatchAssociateServiceActionWithProvisioningArtifact"];
    assert!(
        batch_calls > 1,
        "some items should have needed a retry round"
    );
    assert_eq!(catalog.associations().len(), 1 + 8);
}

#[tokio::test]
async fn few_actions_over_many_artifacts_are_read_per_action() {
    let mut seed = String::from("products:\n  - id: prod-fleet\n    name: Fleet\n    artifacts:\n");
    for i in 0..60 {
        seed.push_str(&format!("      - {{id: pa-{i:03}, name: v{i}}}\n"));
    }
    seed.push_str(
        "actions:\n  - {id: act-restart, name: Restart}\n  - {id: act-patch, name: Patch}\n",
    );
    let catalog = start_catalog(&seed).await;
    let sdk = client(&catalog).await;
    let wanted: BTreeSet<Triple> = (0..60)
        .flat_map(|i| {
            ["act-restart", "act-patch"].map(|x| Triple::new("prod-fleet", format!("pa-{i:03}"), x))
        })
        .collect();
    let prepared = prepare_target(&sdk, &Target::of(&wanted), 8, &NoProgress)
        .await
        .unwrap();
    assert_eq!(
        prepared.direction.map(|d| d.direction),
        Some(Direction::ByAction)
    );
    // Two actions, each on no artifact yet: one page each.
    assert_eq!(prepared.read_calls, 2);
    let report = execute(
        &sdk,
        &prepared,
        &Settings {
            verify: Verify::Off,
            ..Settings::default()
        },
        &NoProgress,
    )
    .await;
    assert!(report.converged());
    // Now each action is on 60 artifacts: three pages of 20 each.
    catalog.reset_stats();
    let again = prepare_target(&sdk, &Target::of(&wanted), 8, &NoProgress)
        .await
        .unwrap();
    assert!(!again.plan.has_changes());
    assert_eq!(
        catalog.stats().calls["ListProvisioningArtifactsForServiceAction"],
        6
    );
}

#[tokio::test]
async fn a_plan_past_the_quota_is_flagged_before_any_write() {
    let mut seed = String::from(SMALL_SEED);
    seed.push_str("  # 26 more actions\n");
    let mut actions = String::new();
    for i in 0..26 {
        actions.push_str(&format!("  - {{id: act-extra-{i:02}, name: Extra {i}}}\n"));
    }
    let seed = seed.replace("actions:\n", &format!("actions:\n{actions}"));
    let catalog = start_catalog(&seed).await;
    let sdk = client(&catalog).await;
    let wanted: BTreeSet<Triple> = (0..26)
        .map(|i| Triple::new("prod-db", "pa-db-v1", format!("act-extra-{i:02}")))
        .collect();
    let prepared = prepare_target(&sdk, &Target::of(&wanted), 4, &NoProgress)
        .await
        .unwrap();
    assert_eq!(prepared.quota_violations.len(), 1);
    assert_eq!(prepared.quota_violations[0].total, 26);
}
