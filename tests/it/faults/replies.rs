//! Replies that lie or never come: a write the catalog made but whose answer was lost (HTTP 500
//! after the change), and the stale-token trap (a replayed success for an association removed
//! out of band since). Both must end as success — never reported failed while associated, never
//! reported done while absent.

use super::{apply_in_process, catalog_drift, grid_catalog};
use crate::faults::grid::{Drift, Grid};
use crate::support::{SMALL_SEED, sc_assoc, start_catalog, write_file};
use sc_assoc::apply::Status;
use sc_assoc::local::Faults;
use sc_assoc::settings::Strategy;
use sc_assoc::triple::Triple;

async fn lost_replies_end_as_success(strategy: Strategy, rng_seed: u64) {
    let grid = Grid::for_triples(300);
    let faults = Faults {
        lost_reply_rate: 0.3,
        rng_seed,
        ..Faults::default()
    };
    let catalog = grid_catalog(&grid, faults).await;
    let report = apply_in_process(&catalog, &grid, strategy).await;
    for outcome in &report.outcomes {
        assert!(
            matches!(
                outcome.status,
                Status::Created | Status::AlreadyPresent | Status::Adopted | Status::Healed
            ),
            "{outcome:?}"
        );
    }
    assert_eq!(report.outcomes.len(), grid.declared());
    assert!(catalog.stats().lost_replies > 0);
    assert_eq!(catalog_drift(&catalog, &grid), Drift::default());
}

#[tokio::test]
async fn lost_replies_in_single_mode_replay_the_success_and_nothing_fails() {
    // The SDK retries the lost reply with the same idempotency token; the catalog replays the
    // answer it gave the first time.
    lost_replies_end_as_success(Strategy::Single, 21).await;
}

#[tokio::test]
async fn lost_replies_in_batch_mode_come_back_as_duplicates_and_count_as_success() {
    // A batch carries no token: its retry meets DUPLICATE_RESOURCE for every item it made.
    lost_replies_end_as_success(Strategy::Batch, 22).await;
}

const TWO: &str = "version: 1\nassociations:\n  - {product: prod-db, artifact: pa-db-v1, action: act-stop}\n  - {product: prod-db, artifact: pa-db-v2, action: act-stop}\n";

fn removed() -> Triple {
    Triple::new("prod-db", "pa-db-v1", "act-stop")
}

#[tokio::test]
async fn healing_under_lost_replies_ends_healed_not_failed() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", TWO);
    let path = manifest.to_str().unwrap();
    let endpoint = catalog.endpoint();
    assert_eq!(
        sc_assoc(Some(&endpoint), &["apply", path, "-q"]).await.code,
        0
    );
    assert!(catalog.remove_association_out_of_band(&removed()));

    // Every other write's reply is lost, the heal's included: its retry must replay the heal's
    // own success rather than count as a second failure.
    catalog.set_faults(Faults {
        lost_reply_rate: 0.5,
        rng_seed: 4,
        ..Faults::default()
    });
    let run = sc_assoc(Some(&endpoint), &["apply", path, "--output", "json"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.json()["summary"]["healed"], 1, "{run:?}");
    assert_eq!(run.json()["summary"]["failed"], 0, "{run:?}");
    assert!(catalog.associations().contains(&removed()));
}

#[tokio::test]
async fn a_triple_removed_out_of_band_again_after_healing_is_healed_again() {
    // A pipeline re-runs within seconds: the second heal must not replay the first heal's token
    // (which would answer success and associate nothing, then fail as NotPersisted).
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", TWO);
    let path = manifest.to_str().unwrap();
    let endpoint = catalog.endpoint();
    assert_eq!(
        sc_assoc(Some(&endpoint), &["apply", path, "-q"]).await.code,
        0
    );
    for round in 1..=2 {
        assert!(catalog.remove_association_out_of_band(&removed()));
        let run = sc_assoc(Some(&endpoint), &["apply", path, "--output", "json"]).await;
        assert_eq!(run.code, 0, "round {round}: {run:?}");
        assert_eq!(run.json()["summary"]["healed"], 1, "round {round}: {run:?}");
        assert!(catalog.associations().contains(&removed()), "round {round}");
    }
}

#[tokio::test]
async fn batch_mode_sends_no_token_so_an_out_of_band_removal_is_simply_recreated() {
    let catalog = start_catalog(SMALL_SEED).await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = write_file(dir.path(), "m.yaml", TWO);
    let path = manifest.to_str().unwrap();
    let endpoint = catalog.endpoint();
    let batch = ["apply", path, "--output", "json", "--strategy", "batch"];
    assert_eq!(sc_assoc(Some(&endpoint), &batch).await.code, 0);
    assert!(catalog.remove_association_out_of_band(&removed()));

    let run = sc_assoc(Some(&endpoint), &batch).await;
    assert_eq!(run.code, 0, "{run:?}");
    let summary = &run.json()["summary"];
    assert_eq!(
        (&summary["created"], &summary["healed"]),
        (&1.into(), &0.into())
    );
    assert!(catalog.associations().contains(&removed()));
}
