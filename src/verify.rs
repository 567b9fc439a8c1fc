//! Confirming that what apply reported as created is really there (and what it reported as
//! removed is really gone), and healing what is not.
//!
//! AWS answers a repeated idempotency token with the first response it gave, whatever the state
//! is now. If an association made by an earlier run was removed out of band, a re-run's Associate
//! carries the same token, gets the old success replayed, and associates nothing: the run would
//! report success on a triple that is absent. So after apply, the touched triples are read back;
//! any that is missing is associated again with a fresh token (deterministic in the triple and a
//! salt), read back once more, and reported as healed, or as failed if it is still absent.
//!
//! Removals have the same trap in reverse: a Disassociate token replayed after someone re-added
//! the association out of band answers success and removes nothing. So removed triples are read
//! back too, in the same read, and any still present is disassociated again with a fresh token.
//!
//! The same read settles writes whose answer was lost (5xx or a timeout past the retries): the
//! write may have been made. One found as wanted counts as done, not failed.

use crate::apply::{Failure, Outcome, Status};
use crate::observe::{FatalReadError, choose_direction, read_observed};
use crate::progress::{Phase, Reporter};
use crate::seam::{ApiResult, Catalog, ErrorKind};
use crate::triple::{TokenOperation, Triple, idempotency_token_salted};
use futures::StreamExt;
use std::collections::BTreeSet;

/// What apply claims for the triples it touched: these should be present, those absent.
#[derive(Debug, Default)]
struct Claims {
    present: BTreeSet<Triple>,
    absent: BTreeSet<Triple>,
}

impl Claims {
    fn is_empty(&self) -> bool {
        self.present.is_empty() && self.absent.is_empty()
    }

    fn len(&self) -> usize {
        self.present.len() + self.absent.len()
    }

    fn contains(&self, triple: &Triple) -> bool {
        self.present.contains(triple) || self.absent.contains(triple)
    }
}

/// Reads back the triples `outcomes` reports as created or removed, writes the wrong ones again
/// with a token salted by `salt`, and rewrites their outcomes. Returns how many were healed.
pub async fn verify_and_heal<C: Catalog>(
    catalog: &C,
    outcomes: &mut [Outcome],
    salt: &str,
    concurrency: usize,
    reporter: &dyn Reporter,
) -> Result<usize, FatalReadError> {
    let claims = Claims {
        present: with_status(outcomes, Status::Created),
        absent: with_status(outcomes, Status::Removed),
    };
    let uncertain = Claims {
        present: uncertain_writes(outcomes, "Associate"),
        absent: uncertain_writes(outcomes, "Disassociate"),
    };
    let everything = Claims {
        present: claims.present.union(&uncertain.present).cloned().collect(),
        absent: claims.absent.union(&uncertain.absent).cloned().collect(),
    };
    let (wrong, confirmed) = contradicted(catalog, &everything, concurrency, reporter).await?;
    for outcome in outcomes.iter_mut() {
        if outcome.status == Status::Failed && confirmed.contains(&outcome.triple) {
            // Lost answer, made write: the state is as wanted.
            outcome.status = if uncertain.present.contains(&outcome.triple) {
                Status::Created
            } else {
                Status::Removed
            };
            outcome.error = None;
        }
    }
    let wrong = Claims {
        present: wrong
            .present
            .intersection(&claims.present)
            .cloned()
            .collect(),
        absent: wrong.absent.intersection(&claims.absent).cloned().collect(),
    };
    if wrong.is_empty() {
        return Ok(0);
    }
    let claim = if wrong.absent.is_empty() {
        "reported as made are absent"
    } else {
        "reported as made or removed are not so"
    };
    reporter.warn(&format!(
        "{} association(s) {claim} (an earlier run's token was replayed after an out-of-band change, or a write was lost); re-applying with fresh tokens",
        wrong.len()
    ));
    let token_salt = format!("heal/{salt}");
    let writes = wrong
        .present
        .iter()
        .map(|t| (t, TokenOperation::Associate))
        .chain(
            wrong
                .absent
                .iter()
                .map(|t| (t, TokenOperation::Disassociate)),
        );
    let mut results = futures::stream::iter(writes)
        .map(|(triple, operation)| {
            let token_salt = &token_salt;
            async move {
                let token = idempotency_token_salted(operation, triple, token_salt);
                (
                    triple,
                    operation,
                    rewrite(catalog, operation, triple, &token).await,
                )
            }
        })
        .buffer_unordered(concurrency.max(1));
    let mut rewritten = Claims::default();
    let mut failed = Vec::new();
    while let Some((triple, operation, result)) = results.next().await {
        let settled = match (&result, operation) {
            (Ok(()), _) => true,
            (Err(error), TokenOperation::Associate) => error.kind == ErrorKind::Duplicate,
            (Err(error), TokenOperation::Disassociate) => error.kind == ErrorKind::NotFound,
        };
        match (settled, operation, result) {
            (true, TokenOperation::Associate, _) => rewritten.present.insert(triple.clone()),
            (true, TokenOperation::Disassociate, _) => rewritten.absent.insert(triple.clone()),
            (false, _, Err(error)) => {
                failed.push((triple.clone(), Failure::from(&error)));
                false
            }
            (false, _, Ok(())) => false,
        };
    }
    drop(results);
    let (still_wrong, _) = contradicted(catalog, &rewritten, concurrency, reporter).await?;
    let mut healed = 0;
    for outcome in outcomes.iter_mut() {
        if !wrong.contains(&outcome.triple) {
            continue;
        }
        if let Some((_, failure)) = failed.iter().find(|(t, _)| *t == outcome.triple) {
            outcome.status = Status::Failed;
            outcome.error = Some(failure.clone());
        } else if still_wrong.contains(&outcome.triple) {
            outcome.status = Status::Failed;
            outcome.error = Some(Failure {
                kind: ErrorKind::Other,
                operation: "verify".to_string(),
                code: "NotPersisted".to_string(),
                message: "the change is still not visible after a re-application with a fresh \
                          token"
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

/// Failed writes whose answer was lost (HTTP 5xx or no answer, past the retries): the write may
/// have been made. `write` tells associations from disassociations by the operation's name.
fn uncertain_writes(outcomes: &[Outcome], write: &str) -> BTreeSet<Triple> {
    outcomes
        .iter()
        .filter(|o| o.status == Status::Failed)
        .filter(|o| {
            o.error.as_ref().is_some_and(|e| {
                // A refused connection never reached the service; these may have.
                matches!(
                    e.kind,
                    ErrorKind::Server | ErrorKind::Transport | ErrorKind::Timeout
                ) && operation_writes(&e.operation) == Some(write)
            })
        })
        .map(|o| o.triple.clone())
        .collect()
}

/// `Associate` or `Disassociate` for the write operations (single or batch), `None` otherwise.
fn operation_writes(name: &str) -> Option<&'static str> {
    use crate::seam::operation::{ASSOCIATE, BATCH_ASSOCIATE, BATCH_DISASSOCIATE, DISASSOCIATE};
    if name == ASSOCIATE || name == BATCH_ASSOCIATE {
        Some("Associate")
    } else if name == DISASSOCIATE || name == BATCH_DISASSOCIATE {
        Some("Disassociate")
    } else {
        None
    }
}

fn with_status(outcomes: &[Outcome], status: Status) -> BTreeSet<Triple> {
    outcomes
        .iter()
        .filter(|o| o.status == status)
        .map(|o| o.triple.clone())
        .collect()
}

async fn rewrite<C: Catalog>(
    catalog: &C,
    operation: TokenOperation,
    triple: &Triple,
    token: &str,
) -> ApiResult<()> {
    match operation {
        TokenOperation::Associate => catalog.associate(triple, token).await,
        TokenOperation::Disassociate => catalog.disassociate(triple, token).await,
    }
}

/// The claims the catalog contradicts (claimed present but not shown, claimed absent but
/// shown), and the triples it confirms. One read covers both, in the cheaper direction. A triple
/// whose state cannot be read is neither: verification adds no failures of its own making.
async fn contradicted<C: Catalog>(
    catalog: &C,
    claims: &Claims,
    concurrency: usize,
    reporter: &dyn Reporter,
) -> Result<(Claims, BTreeSet<Triple>), FatalReadError> {
    if claims.is_empty() {
        return Ok((Claims::default(), BTreeSet::new()));
    }
    let all: BTreeSet<Triple> = claims.present.union(&claims.absent).cloned().collect();
    let direction = choose_direction(&all).direction;
    let observed = read_observed(
        catalog,
        &all,
        direction,
        concurrency,
        Phase::Verify,
        reporter,
    )
    .await?;
    let readable = |t: &&Triple| !observed.unreadable.contains_key(*t);
    let wrong = Claims {
        present: claims
            .present
            .iter()
            .filter(readable)
            .filter(|t| !observed.associations.contains(*t))
            .cloned()
            .collect(),
        absent: claims
            .absent
            .iter()
            .filter(readable)
            .filter(|t| observed.associations.contains(*t))
            .cloned()
            .collect(),
    };
    let confirmed = all
        .iter()
        .filter(readable)
        .filter(|t| !wrong.contains(t))
        .cloned()
        .collect();
    Ok((wrong, confirmed))
}
