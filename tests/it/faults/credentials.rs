//! Credentials that are absent, expired or unknown: a clear error, exit 1, and no retry storm —
//! the catalog sees at most one attempt per list already in flight, and never a write.

use super::{grid_catalog, grid_manifest};
use crate::faults::grid::Grid;
use crate::support::{ACCESS_KEY, Run, sc_assoc, sc_assoc_env, start_config};
use sc_assoc::local::{CatalogConfig, Faults};

/// The grid's manifest lists 10 artifacts: read per artifact, that is 10 list calls at most.
const GRID_TRIPLES: usize = 200;

async fn apply_with_refused_keys(config: impl FnOnce(&mut CatalogConfig)) -> (Run, u64, u64) {
    let grid = Grid::for_triples(GRID_TRIPLES);
    let mut catalog_config = CatalogConfig::new(grid.seed());
    config(&mut catalog_config);
    let catalog = start_config(catalog_config).await;
    let (_dir, manifest) = grid_manifest(&grid);
    let run = sc_assoc(
        Some(&catalog.endpoint()),
        &["apply", manifest.to_str().unwrap()],
    )
    .await;
    (
        run,
        catalog.stats().total_calls,
        catalog.stats().write_calls(),
    )
}

#[tokio::test]
async fn expired_credentials_fail_clearly_with_a_login_hint_and_no_retry_storm() {
    let (run, calls, writes) = apply_with_refused_keys(|c| {
        c.expired_access_keys = vec![ACCESS_KEY.to_string()];
    })
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("ExpiredTokenException"), "{run:?}");
    assert!(
        run.stderr.contains("hint: your session has expired"),
        "{run:?}"
    );
    assert!(calls <= (GRID_TRIPLES / 20) as u64, "{calls} calls");
    assert_eq!(writes, 0);
}

#[tokio::test]
async fn unrecognized_credentials_fail_clearly_and_no_retry_storm() {
    let (run, calls, writes) = apply_with_refused_keys(|c| {
        c.unrecognized_access_keys = vec![ACCESS_KEY.to_string()];
    })
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("UnrecognizedClientException"),
        "{run:?}"
    );
    assert!(
        run.stderr.contains("hint: the credentials were refused"),
        "{run:?}"
    );
    assert!(calls <= (GRID_TRIPLES / 20) as u64, "{calls} calls");
    assert_eq!(writes, 0);
}

#[tokio::test]
async fn missing_credentials_stop_apply_before_any_call_reaches_the_catalog() {
    let grid = Grid::for_triples(20);
    let catalog = grid_catalog(&grid, Faults::default()).await;
    let (_dir, manifest) = grid_manifest(&grid);
    let run = sc_assoc_env(
        Some(&catalog.endpoint()),
        &["apply", manifest.to_str().unwrap()],
        &[("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "")],
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .starts_with("error: cannot set up the AWS client"),
        "{run:?}"
    );
    assert!(run.stderr.contains("hint: log in"), "{run:?}");
    assert_eq!(catalog.stats().total_calls, 0);
}
