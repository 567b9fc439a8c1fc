//! What the local catalog counts: per operation calls, throttles, injected errors, lost replies
//! and the most requests served at once. One set of [`Counters`] belongs to each target (account
//! and region) and one to the whole server, which also counts the requests refused before a
//! target was known (bad signature, unknown key, region not enabled) and the STS calls.

use super::wire::Op;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// The STS operations the local catalog answers, in the order [`Stats::sts_calls`] lists them.
pub const STS_OPERATIONS: [&str; 2] = ["AssumeRole", "GetCallerIdentity"];

/// Counters since start or the last [`super::LocalCatalog::reset_stats`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Per operation name: every request addressed to the operation (by `X-Amz-Target` over
    /// JSON, by the path over RPC v2 CBOR), whatever its fate (refused credentials, throttled,
    /// failed). All twelve are listed, 0 if never called.
    pub calls: BTreeMap<String, u64>,
    /// Requests answered `ThrottlingException`, by the token bucket or by `throttle_rate`.
    pub throttled: u64,
    /// Requests answered `InternalFailure` without being performed.
    pub injected_errors: u64,
    /// Writes performed but answered `InternalFailure`.
    pub lost_replies: u64,
    /// Most operation requests being served at once.
    pub max_in_flight: u64,
    /// Sum of `calls`.
    pub total_calls: u64,
    /// Per STS operation (both always listed), on the server's totals only: STS is global, not
    /// per target. Not part of `total_calls`, which stays about Service Catalog.
    #[serde(default)]
    pub sts_calls: BTreeMap<String, u64>,
}

impl Stats {
    /// Requests to the four operations that change associations (Associate, Disassociate and
    /// their batch forms), retries included: "a re-run makes zero write calls" is this being 0.
    pub fn write_calls(&self) -> u64 {
        self.calls
            .iter()
            .filter(|(operation, _)| operation.contains("ssociate"))
            .map(|(_, count)| count)
            .sum()
    }
}

/// Lock-free counters behind [`Stats`].
#[derive(Debug, Default)]
pub struct Counters {
    pub calls: [AtomicU64; Op::ALL.len()],
    pub sts_calls: [AtomicU64; 2],
    pub throttled: AtomicU64,
    pub injected_errors: AtomicU64,
    pub lost_replies: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
}

impl Counters {
    pub fn snapshot(&self) -> Stats {
        let calls: BTreeMap<String, u64> = Op::ALL
            .iter()
            .map(|op| {
                (
                    op.name().to_string(),
                    self.calls[op.index()].load(Ordering::Relaxed),
                )
            })
            .collect();
        Stats {
            total_calls: calls.values().sum(),
            calls,
            throttled: self.throttled.load(Ordering::Relaxed),
            injected_errors: self.injected_errors.load(Ordering::Relaxed),
            lost_replies: self.lost_replies.load(Ordering::Relaxed),
            max_in_flight: self.max_in_flight.load(Ordering::Relaxed),
            sts_calls: STS_OPERATIONS
                .iter()
                .zip(&self.sts_calls)
                .map(|(name, c)| (name.to_string(), c.load(Ordering::Relaxed)))
                .collect(),
        }
    }

    pub fn reset(&self) {
        for c in self.calls.iter().chain(&self.sts_calls) {
            c.store(0, Ordering::Relaxed);
        }
        self.throttled.store(0, Ordering::Relaxed);
        self.injected_errors.store(0, Ordering::Relaxed);
        self.lost_replies.store(0, Ordering::Relaxed);
        self.max_in_flight
            .store(self.in_flight.load(Ordering::Relaxed), Ordering::Relaxed);
    }
}

/// Decrements the in-flight count however the request ends, cancellation included.
pub struct InFlight<'a>(&'a Counters);

impl<'a> InFlight<'a> {
    pub fn enter(c: &'a Counters) -> Self {
        let now = c.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        c.max_in_flight.fetch_max(now, Ordering::Relaxed);
        InFlight(c)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One target's counters, as `GET /_stats` lists them under `targets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetStats {
    pub account: String,
    pub region: String,
    #[serde(flatten)]
    pub stats: Stats,
}

/// `GET /_stats`: the server's totals (the shape the endpoint always had) plus each target's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerStats {
    #[serde(flatten)]
    pub total: Stats,
    pub targets: Vec<TargetStats>,
}
