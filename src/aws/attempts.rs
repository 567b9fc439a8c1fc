//! Counting what happened on the wire, so a slow run explains itself: a report that says "395
//! write calls" while the server saw 619 requests, 227 of them throttled, hides where the time
//! went. One interceptor sees every HTTP attempt, retries included, and counts attempts,
//! throttled answers, 5xx answers, attempt timeouts and transport failures; at `-vv` it logs
//! each attempt (operation, attempt number, HTTP status, latency).

use super::retry::throttled;
use crate::seam::WireStats;
use aws_sdk_servicecatalog::config::interceptors::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_sdk_servicecatalog::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_types::config_bag::{Storable, StoreReplace};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// When the attempt being made was sent, for its latency in the log.
#[derive(Debug, Clone)]
struct AttemptSent(Instant);

impl Storable for AttemptSent {
    type Storer = StoreReplace<Self>;
}

/// The counters, shared between the interceptor and the catalog that reports them.
#[derive(Debug, Default)]
pub(super) struct Counters {
    attempts: AtomicU64,
    throttled: AtomicU64,
    server_errors: AtomicU64,
    timeouts: AtomicU64,
    transport_errors: AtomicU64,
}

impl Counters {
    /// The counts so far; `calls` is how many calls (not attempts) were made.
    pub(super) fn snapshot(&self, calls: u64) -> WireStats {
        let attempts = self.attempts.load(Ordering::Relaxed);
        WireStats {
            attempts,
            retries: attempts.saturating_sub(calls),
            throttled: self.throttled.load(Ordering::Relaxed),
            server_errors: self.server_errors.load(Ordering::Relaxed),
            timeouts: self.timeouts.load(Ordering::Relaxed),
            transport_errors: self.transport_errors.load(Ordering::Relaxed),
        }
    }
}

#[derive(Debug)]
pub(super) struct CountAttempts(pub(super) Arc<Counters>);

impl Intercept for CountAttempts {
    fn name(&self) -> &'static str {
        "sc-assoc wire counters"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state()
            .store_put(AttemptSent(Instant::now()));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if tracing::enabled!(tracing::Level::DEBUG) {
            let operation = cfg
                .load::<aws_smithy_runtime_api::client::orchestrator::Metadata>()
                .map(|m| m.name().to_string())
                .unwrap_or_default();
            let attempt = cfg
                .load::<aws_smithy_runtime_api::client::retries::RequestAttempts>()
                .map(|a| a.attempts())
                .unwrap_or_default();
            let status = context.response().map(|r| r.status().as_u16());
            let latency_ms = cfg
                .load::<AttemptSent>()
                .map(|sent| sent.0.elapsed().as_millis());
            tracing::debug!(%operation, attempt, ?status, ?latency_ms, "attempt");
        }
        let counters = &self.0;
        counters.attempts.fetch_add(1, Ordering::Relaxed);
        let outcome = context.output_or_error();
        if throttled(outcome) {
            counters.throttled.fetch_add(1, Ordering::Relaxed);
        }
        if context
            .response()
            .is_some_and(|r| r.status().is_server_error())
        {
            counters.server_errors.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(Err(error)) = outcome {
            if error.is_timeout_error() {
                counters.timeouts.fetch_add(1, Ordering::Relaxed);
            } else if error.is_connector_error() {
                counters.transport_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(())
    }
}
