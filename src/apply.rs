//! Carrying out a plan's additions: a bounded number of calls in flight, one outcome per triple,
//! and the run going on past any single failure. Single mode sends one Associate per triple with
//! its deterministic idempotency token; batch mode sends up to 50 triples per call and retries
//! the items that come back throttled (the SDK cannot see those: they arrive in an HTTP 200).

use crate::progress::{Phase, Reporter};
use crate::seam::{ApiError, BatchItemFailure, Catalog, ErrorKind};
use crate::triple::{TokenOperation, Triple, idempotency_token};
use futures::StreamExt;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The most triples one batch call may carry (model: 1..50).
pub const BATCH_LIMIT: usize = 50;

/// How writes are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// One Associate call per triple, each with its idempotency token.
    #[default]
    Single,
    /// BatchAssociate calls of up to 50 triples (no idempotency token).
    Batch,
}

/// What happened to one declared triple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Associated by this run.
    Created,
    /// Already associated when the state was read: no call made.
    AlreadyPresent,
    /// Associated by someone else between read and write (DuplicateResourceException).
    Adopted,
    /// Reported as made but found absent on verification, then re-applied with a fresh token.
    Healed,
    /// Not attempted: the run was interrupted first.
    NotAttempted,
    /// The call failed; the reason is in the outcome.
    Failed,
}

/// The reason a triple failed, as AWS gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub operation: String,
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl From<&ApiError> for Failure {
    fn from(error: &ApiError) -> Self {
        Self {
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
}

impl Outcome {
    pub fn ok(triple: Triple, status: Status) -> Self {
        Self {
            triple,
            status,
            error: None,
        }
    }

    pub fn failed(triple: Triple, error: &ApiError) -> Self {
        Self {
            triple,
            status: Status::Failed,
            error: Some(error.into()),
        }
    }
}

/// How apply runs.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Calls in flight at most.
    pub concurrency: usize,
    pub strategy: Strategy,
    /// Set to stop dispatching new calls; calls in flight finish.
    pub stop: Option<Arc<AtomicBool>>,
    /// Rounds of retry for batch items answered THROTTLING or INTERNAL_FAILURE.
    pub batch_item_retries: u32,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            concurrency: 16,
            strategy: Strategy::Single,
            stop: None,
            batch_item_retries: 8,
        }
    }
}

impl ApplyOptions {
    /// True once a stop was requested.
    pub fn stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(|s| s.load(Ordering::SeqCst))
    }
}

/// Associates every triple of `to_add`. Returns one outcome per triple, sorted.
pub async fn apply<C: Catalog>(
    catalog: &C,
    to_add: &[Triple],
    options: &ApplyOptions,
    reporter: &dyn Reporter,
) -> Vec<Outcome> {
    reporter.start(Phase::Apply, to_add.len() as u64);
    let mut outcomes = match options.strategy {
        Strategy::Single => apply_single(catalog, to_add, options, reporter).await,
        Strategy::Batch => apply_batch(catalog, to_add, options, reporter).await,
    };
    reporter.finish(Phase::Apply);
    outcomes.sort_by(|a, b| a.triple.cmp(&b.triple));
    outcomes
}

async fn apply_single<C: Catalog>(
    catalog: &C,
    to_add: &[Triple],
    options: &ApplyOptions,
    reporter: &dyn Reporter,
) -> Vec<Outcome> {
    let mut outcomes = Vec::with_capacity(to_add.len());
    let mut dispatched = 0usize;
    {
        let mut calls = futures::stream::iter(to_add)
            .take_while(|_| std::future::ready(!options.stopped()))
            .map(|triple| async move {
                let token = idempotency_token(TokenOperation::Associate, triple);
                let result = catalog.associate(triple, &token).await;
                match &result {
                    Ok(()) => tracing::debug!(%triple, %token, "associated"),
                    Err(error) => tracing::debug!(%triple, %token, %error, "associate failed"),
                }
                (triple, result)
            })
            .buffer_unordered(options.concurrency.max(1));
        while let Some((triple, result)) = calls.next().await {
            dispatched += 1;
            reporter.advance(Phase::Apply, 1);
            outcomes.push(match result {
                Ok(()) => Outcome::ok(triple.clone(), Status::Created),
                Err(error) if error.kind == ErrorKind::Duplicate => {
                    Outcome::ok(triple.clone(), Status::Adopted)
                }
                Err(error) => Outcome::failed(triple.clone(), &error),
            });
        }
    }
    // `take_while` stops in order, so what was not dispatched is exactly the tail.
    outcomes.extend(
        to_add[dispatched..]
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
    to_add: &[Triple],
    options: &ApplyOptions,
    reporter: &dyn Reporter,
) -> Vec<Outcome> {
    let mut outcomes = Vec::with_capacity(to_add.len());
    let mut pending: Vec<Triple> = to_add.to_vec();
    let mut round = 0u32;
    while !pending.is_empty() {
        if round > 0 {
            tokio::time::sleep(batch_backoff(round)).await;
        }
        let mut retry: Vec<(Triple, BatchItemFailure)> = Vec::new();
        let chunks: Vec<&[Triple]> = pending.chunks(BATCH_LIMIT).collect();
        let mut dispatched = 0usize;
        {
            let mut calls = futures::stream::iter(chunks.iter())
                .take_while(|_| std::future::ready(!options.stopped()))
                .map(|chunk| async move {
                    let result = catalog.batch_associate(chunk).await;
                    tracing::debug!(
                        items = chunk.len(),
                        failed_items = result.as_ref().map(|f| f.len()).unwrap_or(chunk.len()),
                        "batch associate"
                    );
                    (*chunk, result)
                })
                .buffer_unordered(options.concurrency.max(1));
            while let Some((chunk, result)) = calls.next().await {
                dispatched += 1;
                match result {
                    Err(error) => {
                        reporter.advance(Phase::Apply, chunk.len() as u64);
                        outcomes.extend(chunk.iter().map(|t| Outcome::failed(t.clone(), &error)));
                    }
                    Ok(failures) => {
                        let mut failed: std::collections::HashMap<&Triple, &BatchItemFailure> =
                            failures.iter().map(|f| (&f.triple, f)).collect();
                        for triple in chunk {
                            match failed.remove(triple) {
                                None => outcomes.push(Outcome::ok(triple.clone(), Status::Created)),
                                Some(f) if f.is_duplicate() => {
                                    outcomes.push(Outcome::ok(triple.clone(), Status::Adopted))
                                }
                                Some(f)
                                    if f.is_retryable() && round < options.batch_item_retries =>
                                {
                                    retry.push((triple.clone(), f.clone()));
                                    continue;
                                }
                                Some(f) => outcomes
                                    .push(Outcome::failed(triple.clone(), &batch_item_error(f))),
                            }
                            reporter.advance(Phase::Apply, 1);
                        }
                    }
                }
            }
        }
        outcomes.extend(
            chunks[dispatched..]
                .iter()
                .flat_map(|chunk| chunk.iter())
                .map(|t| Outcome::ok(t.clone(), Status::NotAttempted)),
        );
        if options.stopped() {
            outcomes.extend(
                retry
                    .into_iter()
                    .map(|(t, f)| Outcome::failed(t, &batch_item_error(&f))),
            );
            break;
        }
        pending = retry.into_iter().map(|(t, _)| t).collect();
        round += 1;
    }
    outcomes
}

fn batch_item_error(failure: &BatchItemFailure) -> ApiError {
    ApiError {
        kind: match failure.code.as_str() {
            "RESOURCE_NOT_FOUND" => ErrorKind::NotFound,
            "LIMIT_EXCEEDED" => ErrorKind::LimitExceeded,
            "INVALID_PARAMETER" => ErrorKind::InvalidParameters,
            "THROTTLING" => ErrorKind::Throttled,
            "INTERNAL_FAILURE" => ErrorKind::Server,
            _ => ErrorKind::Other,
        },
        operation: "BatchAssociateServiceActionWithProvisioningArtifact",
        code: failure.code.clone(),
        message: failure.message.clone().unwrap_or_default(),
        request_id: None,
    }
}
