//! Carrying out a plan: a bounded number of calls in flight, one outcome per triple, and the run
//! going on past any single failure. Single mode sends one Associate (or, for prune's removals,
//! Disassociate) per triple with its deterministic idempotency token; batch mode sends up to 50
//! triples per call and retries the items that come back throttled (the SDK cannot see those:
//! they arrive in an HTTP 200). Removals go first, so an artifact at its quota has room for the
//! additions that replace them.

use crate::dispatch::bounded;
use crate::progress::{Phase, Reporter};
use crate::seam::{
    ApiError, ApiResult, BatchErrorCode, BatchItemFailure, Catalog, ErrorKind, operation,
};
use crate::settings::{Settings, Strategy};
use crate::triple::{TokenOperation, Triple, idempotency_token};
use serde::Serialize;
use std::time::Duration;

/// The most triples one batch call may carry (model: 1..50).
pub const BATCH_LIMIT: usize = 50;

/// How a write was confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Confirmation {
    /// A listing showed it.
    Listing,
    /// The answer to a write with a fresh token: the association exists (or is gone), or the
    /// probe made it so (healed).
    Probe,
    /// The batch call's own answer (batch calls carry no token, so it is never a replay).
    BatchReply,
}

/// What happened to one declared triple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
    /// Associated by this run.
    Created,
    /// Already associated when the state was read: no call made.
    AlreadyPresent,
    /// Associated by someone else between read and write (DuplicateResourceException).
    Adopted,
    /// Reported as made (or removed) but found otherwise on verification, then re-applied with a
    /// fresh token.
    Healed,
    /// Disassociated by this run (`--prune`).
    Removed,
    /// Planned for removal but gone before the call (ResourceNotFound on disassociate).
    AlreadyAbsent,
    /// Not attempted: the run stopped first (interrupt, deadline, or a fatal error).
    NotAttempted,
    /// The call was in flight when the run stopped and was abandoned: the change may or may not
    /// have been made. A re-run settles it.
    Unknown,
    /// The call failed; the reason is in the outcome.
    Failed,
    /// Written (the service's answers say so) but not shown by the listings within the settle
    /// window: a plan run now would not see it yet.
    NotVisible,
}

/// The reason a triple failed, as AWS gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// What kind of failure it is, for machines deciding what to do about it.
    pub kind: ErrorKind,
    pub operation: String,
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl From<&ApiError> for Failure {
    fn from(error: &ApiError) -> Self {
        Self {
            kind: error.kind,
            operation: error.operation.to_string(),
            code: error.code.clone(),
            message: error.message.clone(),
            request_id: error.request_id.clone(),
        }
    }
}

/// One triple's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    #[serde(flatten)]
    pub triple: Triple,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Failure>,
    /// How verification confirmed the write, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_by: Option<Confirmation>,
}

impl Outcome {
    pub fn ok(triple: Triple, status: Status) -> Self {
        Self {
            triple,
            status,
            error: None,
            confirmed_by: None,
        }
    }

    pub fn failed(triple: Triple, error: &ApiError) -> Self {
        Self {
            triple,
            status: Status::Failed,
            error: Some(error.into()),
            confirmed_by: None,
        }
    }

    /// The outcome of a write that returned `error`: failed, or, when the run had stopped, not
    /// attempted (never sent) or unknown (abandoned in flight, with the reason kept).
    pub fn from_error(triple: Triple, error: &ApiError) -> Self {
        match error.kind {
            ErrorKind::Stopped => Self::ok(triple, Status::NotAttempted),
            ErrorKind::Cancelled => Self {
                status: Status::Unknown,
                ..Self::failed(triple, error)
            },
            _ => Self::failed(triple, error),
        }
    }
}

/// Which write a list of triples gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write {
    Associate,
    Disassociate,
}

impl Write {
    fn token_operation(self) -> TokenOperation {
        match self {
            Write::Associate => TokenOperation::Associate,
            Write::Disassociate => TokenOperation::Disassociate,
        }
    }

    /// The status of a triple this write changed.
    fn done(self) -> Status {
        match self {
            Write::Associate => Status::Created,
            Write::Disassociate => Status::Removed,
        }
    }

    /// The status when the write found the work already done: a duplicate for an associate,
    /// a missing association for a disassociate. Both mean the state is as wanted.
    fn already(self) -> Status {
        match self {
            Write::Associate => Status::Adopted,
            Write::Disassociate => Status::AlreadyAbsent,
        }
    }

    fn already_done(self, error: &ApiError) -> bool {
        match self {
            Write::Associate => error.kind == ErrorKind::Duplicate,
            Write::Disassociate => error.kind == ErrorKind::NotFound,
        }
    }

    fn item_already_done(self, failure: &BatchItemFailure) -> bool {
        match self {
            Write::Associate => failure.code == BatchErrorCode::DuplicateResource,
            Write::Disassociate => failure.code == BatchErrorCode::ResourceNotFound,
        }
    }

    fn batch_operation(self) -> &'static str {
        match self {
            Write::Associate => operation::BATCH_ASSOCIATE,
            Write::Disassociate => operation::BATCH_DISASSOCIATE,
        }
    }

    async fn single<C: Catalog>(self, catalog: &C, triple: &Triple, token: &str) -> ApiResult<()> {
        match self {
            Write::Associate => catalog.associate(triple, token).await,
            Write::Disassociate => catalog.disassociate(triple, token).await,
        }
    }

    async fn batch<C: Catalog>(
        self,
        catalog: &C,
        triples: &[Triple],
    ) -> ApiResult<Vec<BatchItemFailure>> {
        match self {
            Write::Associate => catalog.batch_associate(triples).await,
            Write::Disassociate => catalog.batch_disassociate(triples).await,
        }
    }
}

/// Disassociates every triple of `to_remove`, then associates every triple of `to_add`, as one
/// apply phase. Returns one outcome per triple, sorted.
pub(crate) async fn apply_changes<C: Catalog>(
    catalog: &C,
    to_remove: &[Triple],
    to_add: &[Triple],
    settings: &Settings,
    reporter: &dyn Reporter,
) -> Vec<Outcome> {
    reporter.start(Phase::Apply, (to_remove.len() + to_add.len()) as u64);
    let mut outcomes = Vec::with_capacity(to_remove.len() + to_add.len());
    for (write, triples) in [(Write::Disassociate, to_remove), (Write::Associate, to_add)] {
        if triples.is_empty() {
            continue;
        }
        outcomes.extend(match settings.strategy {
            Strategy::Single => apply_single(catalog, write, triples, settings, reporter).await,
            Strategy::Batch => apply_batch(catalog, write, triples, settings, reporter).await,
        });
    }
    reporter.finish(Phase::Apply);
    outcomes.sort_by(|a, b| a.triple.cmp(&b.triple));
    outcomes
}

async fn apply_single<C: Catalog>(
    catalog: &C,
    write: Write,
    triples: &[Triple],
    settings: &Settings,
    reporter: &dyn Reporter,
) -> Vec<Outcome> {
    let mut outcomes = Vec::with_capacity(triples.len());
    let dispatched = bounded(
        triples,
        settings.concurrency,
        || settings.stopped(),
        |triple| async move {
            let token = idempotency_token(write.token_operation(), triple);
            let result = write.single(catalog, triple, &token).await;
            match &result {
                Ok(()) => tracing::debug!(%triple, %token, ?write, "written"),
                Err(error) => tracing::debug!(%triple, %token, %error, ?write, "write failed"),
            }
            result
        },
        |triple, result| {
            reporter.advance(Phase::Apply, 1);
            outcomes.push(match result {
                Ok(()) => Outcome::ok(triple.clone(), write.done()),
                Err(error) if write.already_done(&error) => {
                    Outcome::ok(triple.clone(), write.already())
                }
                Err(error) => Outcome::from_error(triple.clone(), &error),
            });
        },
    )
    .await;
    // Dispatch stops in order, so what was not dispatched is exactly the tail.
    outcomes.extend(
        triples[dispatched..]
            .iter()
            .map(|t| Outcome::ok(t.clone(), Status::NotAttempted)),
    );
    outcomes
}

/// Backoff before retry round `round` (1-based) of throttled batch items: exponential from
/// 200 ms, capped at 10 s, so a throttled account gets time to refill.
fn batch_backoff(round: u32) -> Duration {
    let millis = 200u64.saturating_mul(1u64 << round.min(6));
    Duration::from_millis(millis.min(10_000))
}

async fn apply_batch<C: Catalog>(
    catalog: &C,
    write: Write,
    triples: &[Triple],
    settings: &Settings,
    reporter: &dyn Reporter,
) -> Vec<Outcome> {
    let mut outcomes = Vec::with_capacity(triples.len());
    let mut pending: Vec<Triple> = triples.to_vec();
    let mut round = 0u32;
    while !pending.is_empty() {
        if round > 0 {
            tokio::time::sleep(batch_backoff(round)).await;
        }
        let mut retry: Vec<(Triple, BatchItemFailure)> = Vec::new();
        let chunks: Vec<&[Triple]> = pending.chunks(BATCH_LIMIT).collect();
        let dispatched = bounded(
            &chunks,
            settings.concurrency,
            || settings.stopped(),
            |chunk| async move {
                let result = write.batch(catalog, chunk).await;
                tracing::debug!(
                    items = chunk.len(),
                    failed_items = result.as_ref().map(|f| f.len()).unwrap_or(chunk.len()),
                    ?write,
                    "batch write"
                );
                result
            },
            |chunk, result| match result {
                Err(error) => {
                    reporter.advance(Phase::Apply, chunk.len() as u64);
                    outcomes.extend(chunk.iter().map(|t| Outcome::from_error(t.clone(), &error)));
                }
                Ok(failures) => {
                    let mut failed: std::collections::HashMap<&Triple, &BatchItemFailure> =
                        failures.iter().map(|f| (&f.triple, f)).collect();
                    for triple in chunk.iter() {
                        match failed.remove(triple) {
                            None => outcomes.push(Outcome::ok(triple.clone(), write.done())),
                            Some(f) if write.item_already_done(f) => {
                                outcomes.push(Outcome::ok(triple.clone(), write.already()))
                            }
                            Some(f) if f.is_retryable() && round < settings.batch_item_retries => {
                                retry.push((triple.clone(), f.clone()));
                                continue;
                            }
                            Some(f) => outcomes
                                .push(Outcome::failed(triple.clone(), &batch_item_error(write, f))),
                        }
                        reporter.advance(Phase::Apply, 1);
                    }
                }
            },
        )
        .await;
        outcomes.extend(
            chunks[dispatched..]
                .iter()
                .flat_map(|chunk| chunk.iter())
                .map(|t| Outcome::ok(t.clone(), Status::NotAttempted)),
        );
        if settings.stopped() {
            outcomes.extend(
                retry
                    .into_iter()
                    .map(|(t, f)| Outcome::failed(t, &batch_item_error(write, &f))),
            );
            break;
        }
        pending = retry.into_iter().map(|(t, _)| t).collect();
        round += 1;
    }
    outcomes
}

fn batch_item_error(write: Write, failure: &BatchItemFailure) -> ApiError {
    ApiError {
        kind: failure.code.kind(),
        operation: write.batch_operation(),
        code: failure.code.to_string(),
        message: failure.message.clone().unwrap_or_default(),
        request_id: None,
    }
}
