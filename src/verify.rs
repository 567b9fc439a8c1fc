//! Confirming that what apply reported as created is really there, and healing what is not.
//!
//! AWS answers a repeated idempotency token with the first response it gave, whatever the state
//! is now. If an association made by an earlier run was removed out of band, a re-run's Associate
//! carries the same token, gets the old success replayed, and associates nothing: the run would
//! report success on a triple that is absent. So after apply, the touched triples are read back;
//! any that is missing is associated again with a fresh token (deterministic in the triple and a
//! salt), read back once more, and reported as healed, or as failed if it is still absent.

use crate::apply::{Failure, Outcome, Status};
use crate::observe::{FatalReadError, choose_direction, read_observed};
use crate::progress::{Phase, Reporter};
use crate::seam::{Catalog, ErrorKind};
use crate::triple::{TokenOperation, Triple, idempotency_token_salted};
use futures::StreamExt;
use std::collections::BTreeSet;

/// Reads back the triples `outcomes` reports as created, re-associates the missing ones with a
/// token salted by `salt`, and rewrites their outcomes. Returns how many were healed.
pub async fn verify_and_heal<C: Catalog>(
    catalog: &C,
    outcomes: &mut [Outcome],
    salt: &str,
    concurrency: usize,
    reporter: &dyn Reporter,
) -> Result<usize, FatalReadError> {
    let created: BTreeSet<Triple> = outcomes
        .iter()
        .filter(|o| o.status == Status::Created)
        .map(|o| o.triple.clone())
        .collect();
    let missing = absent(catalog, &created, concurrency, reporter).await?;
    if missing.is_empty() {
        return Ok(0);
    }
    reporter.warn(&format!(
        "{} association(s) reported as made are absent (an earlier run's token was replayed after an out-of-band removal, or a write was lost); re-applying with fresh tokens",
        missing.len()
    ));
    let token_salt = format!("heal/{salt}");
    let mut results = futures::stream::iter(missing.iter())
        .map(|triple| {
            let token_salt = &token_salt;
            async move {
                let token = idempotency_token_salted(TokenOperation::Associate, triple, token_salt);
                (triple, catalog.associate(triple, &token).await)
            }
        })
        .buffer_unordered(concurrency.max(1));
    let mut reapplied = BTreeSet::new();
    let mut failed = Vec::new();
    while let Some((triple, result)) = results.next().await {
        match result {
            Ok(()) => {
                reapplied.insert(triple.clone());
            }
            Err(error) if error.kind == ErrorKind::Duplicate => {
                reapplied.insert(triple.clone());
            }
            Err(error) => failed.push((triple.clone(), Failure::from(&error))),
        }
    }
    drop(results);
    let still_missing = absent(catalog, &reapplied, concurrency, reporter).await?;
    let mut healed = 0;
    for outcome in outcomes.iter_mut() {
        if !missing.contains(&outcome.triple) {
            continue;
        }
        if let Some((_, failure)) = failed.iter().find(|(t, _)| *t == outcome.triple) {
            outcome.status = Status::Failed;
            outcome.error = Some(failure.clone());
        } else if still_missing.contains(&outcome.triple) {
            outcome.status = Status::Failed;
            outcome.error = Some(Failure {
                operation: "verify".to_string(),
                code: "NotPersisted".to_string(),
                message:
                    "the association is still absent after a re-application with a fresh token"
                        .to_string(),
                request_id: None,
            });
        } else {
            outcome.status = Status::Healed;
            healed += 1;
        }
    }
    Ok(healed)
}

/// The triples of `expected` that the catalog does not show, read in the cheaper direction.
/// A triple whose state cannot be read is not called absent: verification adds no failures of
/// its own making.
async fn absent<C: Catalog>(
    catalog: &C,
    expected: &BTreeSet<Triple>,
    concurrency: usize,
    reporter: &dyn Reporter,
) -> Result<BTreeSet<Triple>, FatalReadError> {
    if expected.is_empty() {
        return Ok(BTreeSet::new());
    }
    let direction = choose_direction(expected).direction;
    let observed = read_observed(
        catalog,
        expected,
        direction,
        concurrency,
        Phase::Verify,
        reporter,
    )
    .await?;
    Ok(expected
        .iter()
        .filter(|t| !observed.associations.contains(*t) && !observed.unreadable.contains_key(*t))
        .cloned()
        .collect())
}
