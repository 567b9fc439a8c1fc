//! The soak, small enough for every `cargo test`: a few hundred triples while a fifth of all
//! calls are throttled, one in twenty fails with HTTP 500, every answer is jittered and the
//! listings lag the writes. The full
//! 10k-triple run is `examples/soak.rs`; both check the same promise on the same [`Grid`]: the
//! first run converges, the state is exactly the manifest plus what was there before, and a
//! second run makes no write call at all.

use super::{apply_in_process, catalog_drift, grid_catalog};
use crate::faults::grid::{Drift, Grid};
use sc_assoc::local::Faults;
use sc_assoc::settings::Strategy;
use std::time::Duration;

fn soak_faults(rng_seed: u64) -> Faults {
    Faults {
        latency: Duration::from_millis(1),
        jitter: Duration::from_millis(4),
        throttle_rate: 0.20,
        error_rate: 0.05,
        // Listings behind the writes, as AWS's are: the first run waits for them, and the
        // second still finds nothing to write.
        listing_lag: Duration::from_millis(200),
        listing_lag_jitter: Duration::from_millis(200),
        rng_seed,
        ..Faults::default()
    }
}

/// Applies a grid of `triples` under `faults`, then applies it again.
async fn soak(triples: usize, faults: Faults, strategy: Strategy) {
    let grid = Grid::for_triples(triples);
    let catalog = grid_catalog(&grid, faults).await;

    let first = apply_in_process(&catalog, &grid, strategy).await;
    assert!(first.converged(), "{:?}", first.summary);
    assert_eq!(first.summary.failed, 0);
    assert_eq!(first.summary.desired, grid.declared());
    assert_eq!(
        first.summary.already_present,
        grid.pre_existing().len() / 2,
        "the seeded declared associations are found, not written"
    );
    assert_eq!(catalog_drift(&catalog, &grid), Drift::default());
    let stats = catalog.stats();
    assert!(
        stats.throttled > 0 && stats.injected_errors > 0,
        "the faults fired: {stats:?}"
    );

    catalog.reset_stats();
    let second = apply_in_process(&catalog, &grid, strategy).await;
    assert!(second.converged(), "{:?}", second.summary);
    assert_eq!(second.summary.already_present, grid.declared());
    assert_eq!(second.calls.writes, 0);
    assert_eq!(
        catalog.stats().write_calls(),
        0,
        "{:?}",
        catalog.stats().calls
    );
    assert_eq!(catalog_drift(&catalog, &grid), Drift::default());
}

#[tokio::test]
async fn under_throttling_5xx_and_jitter_single_mode_converges_and_a_rerun_writes_nothing() {
    soak(500, soak_faults(11), Strategy::Single).await;
}

#[tokio::test]
async fn under_throttling_5xx_and_jitter_batch_mode_converges_and_a_rerun_writes_nothing() {
    // Batch replies add their own per-item THROTTLING inside HTTP 200s, which only sc-assoc's
    // own retry rounds (not the SDK) can see. Those rounds back off from 200 ms doubling, so a
    // higher rate here costs seconds of waiting without exercising anything new.
    let faults = Faults {
        batch_item_throttle_rate: 0.05,
        ..soak_faults(12)
    };
    soak(500, faults, Strategy::Batch).await;
}

#[tokio::test]
async fn the_soak_grid_leaves_room_under_the_quota_and_has_undeclared_neighbours() {
    // The grid itself is part of the claim: undeclared pre-existing associations exist (so
    // "nothing extra" is a real check) and no artifact is pushed past the 25-action quota.
    let grid = Grid::for_triples(10_000);
    assert_eq!(grid.declared(), 10_000);
    let desired = grid.desired();
    assert!(grid.pre_existing().difference(&desired).count() > 0);
    let mut per_artifact = std::collections::BTreeMap::<String, usize>::new();
    for t in grid.expected() {
        *per_artifact.entry(t.artifact).or_default() += 1;
    }
    assert!(per_artifact.values().all(|&n| n <= 25));
}
