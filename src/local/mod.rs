//! The local Service Catalog: an HTTP server answering the twelve Service Catalog operations
//! sc-assoc uses exactly as AWS does (both of its wire protocols, AWS JSON 1.1 and Smithy RPC v2
//! CBOR; model-driven validation; AWS's error codes; idempotency-token replay), seeded from YAML,
//! with deterministic fault knobs. Every end-to-end test, benchmark and demo runs against it, so
//! faithfulness to AWS comes before convenience.
//!
//! This file owns the running server: configuration, the request pipeline (protocol by path →
//! target → signature → access key → token bucket → latency → injected error → body → validation
//! → operation → lost reply), the statistics, the handle tests hold, and the standalone entry
//! point. The pieces live beside it: [`wire`] (what both protocols share: operations, errors,
//! answers, auth), [`json`] and [`cbor`] (each protocol's routing and bodies), [`validate`] (the
//! model), `ops` and `state` (semantics), `paging` (page tokens), [`faults`] (knobs, PRNG,
//! bucket) and [`seed`] (initial contents).

pub mod cbor;
pub mod faults;
pub mod json;
mod ops;
mod paging;
pub mod seed;
mod state;
pub mod validate;
pub mod wire;

pub use faults::Faults;
pub use paging::DEFAULT_PAGE_SIZE;
pub use seed::{Seed, SeedAction, SeedArtifact, SeedAssociation, SeedProduct};

use crate::triple::Triple;
use anyhow::Context;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use faults::{Bucket, Dice};
use serde::{Deserialize, Serialize};
use state::Catalog;
use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use wire::{Answer, ApiError, Op, Protocol, RequestIds};

/// AWS's quota: 25 service actions per provisioning artifact.
pub const DEFAULT_MAX_ACTIONS_PER_ARTIFACT: usize = 25;

/// Largest request body read; AWS's own limits are far below what sc-assoc sends.
const MAX_BODY_BYTES: usize = 1 << 20;

/// Everything a local catalog starts from.
#[derive(Debug, Clone)]
pub struct CatalogConfig {
    pub seed: Seed,
    pub faults: Faults,
    /// Quota on service actions per artifact (`LimitExceededException` beyond it).
    pub max_actions_per_artifact: usize,
    /// Access key ids answered with `ExpiredTokenException`.
    pub expired_access_keys: Vec<String>,
    /// Access key ids answered with `UnrecognizedClientException`.
    pub unrecognized_access_keys: Vec<String>,
}

impl CatalogConfig {
    /// A catalog with this seed, no faults and AWS's quota.
    pub fn new(seed: Seed) -> Self {
        CatalogConfig {
            seed,
            faults: Faults::default(),
            max_actions_per_artifact: DEFAULT_MAX_ACTIONS_PER_ARTIFACT,
            expired_access_keys: Vec::new(),
            unrecognized_access_keys: Vec::new(),
        }
    }
}

impl Default for CatalogConfig {
    fn default() -> Self {
        CatalogConfig::new(Seed::default())
    }
}

/// Counters since start or the last [`LocalCatalog::reset_stats`].
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
struct Counters {
    calls: [AtomicU64; 12],
    throttled: AtomicU64,
    injected_errors: AtomicU64,
    lost_replies: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> Stats {
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
        }
    }

    fn reset(&self) {
        for c in &self.calls {
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
struct InFlight<'a>(&'a Counters);

impl<'a> InFlight<'a> {
    fn enter(c: &'a Counters) -> Self {
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

/// State shared by all connections.
struct Inner {
    catalog: RwLock<Catalog>,
    faults: RwLock<Faults>,
    dice: Dice,
    bucket: Bucket,
    counters: Counters,
    ids: RequestIds,
    expired_access_keys: Vec<String>,
    unrecognized_access_keys: Vec<String>,
}

impl Inner {
    fn faults(&self) -> Faults {
        self.faults
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn associations(&self) -> Vec<Triple> {
        self.catalog
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .associations()
    }

    /// The request pipeline for the API (everything but `/_stats` and `/_state`), the same for
    /// both wire protocols: only finding the operation and decoding the body differ.
    async fn answer(
        &self,
        protocol: Protocol,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
        body: Body,
    ) -> (Option<Op>, Answer) {
        // Authentication is judged first (an unsigned request to an unknown target is still
        // "Missing Authentication Token"), but a request addressed to an operation counts as a
        // call of it whatever its fate, so tests can see refused calls too.
        let target = match protocol {
            Protocol::Json => json::operation(headers),
            Protocol::Cbor => cbor::operation(method, path, headers),
        };
        let named = match &target {
            Ok(op) => Some(*op),
            Err(m) => m.named,
        };
        if let Some(op) = named {
            self.counters.calls[op.index()].fetch_add(1, Ordering::Relaxed);
        }
        let caller = match wire::check_auth(headers) {
            Ok(c) => c,
            Err(e) => return (named, e.into()),
        };
        if let Err(e) = wire::check_access_key(
            &caller,
            &self.expired_access_keys,
            &self.unrecognized_access_keys,
        ) {
            return (named, e.into());
        }
        let op = match target {
            Ok(op) => op,
            Err(m) => return (named, m.error.into()),
        };
        (Some(op), self.perform(protocol, op, body).await)
    }

    /// Faults, body, validation, the operation and a lost reply, for a routed request.
    async fn perform(&self, protocol: Protocol, op: Op, body: Body) -> Answer {
        let _in_flight = InFlight::enter(&self.counters);
        let faults = self.faults();
        let mut draw = self.dice.draw(&faults);
        // The bucket is consulted on arrival, the delay models the round trip either way.
        let admitted = self.bucket.try_take();
        if !draw.delay.is_zero() {
            tokio::time::sleep(draw.delay).await;
        }
        if !admitted || draw.throttle {
            self.counters.throttled.fetch_add(1, Ordering::Relaxed);
            return ApiError::throttling().into();
        }
        if draw.inject_error {
            self.counters
                .injected_errors
                .fetch_add(1, Ordering::Relaxed);
            return ApiError::internal_failure().into();
        }

        let model = match validate::model() {
            Ok(m) => m,
            Err(e) => return e.into(),
        };
        let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
            Ok(b) => b,
            Err(e) => {
                return ApiError::serialization(format!("Could not read the request body: {e}"))
                    .into();
            }
        };
        let decoded = match protocol {
            Protocol::Json => json::decode(&bytes),
            Protocol::Cbor => cbor::decode(model, op, &bytes),
        };
        let request = match decoded {
            Ok(v) => v,
            Err(e) => return e.into(),
        };
        if let Err(e) = model.validate_input(op.name(), &request) {
            return e.into();
        }
        let answer = ops::execute(op, &request, &self.catalog, &mut draw, &faults);
        if op.is_write() && draw.lose_reply {
            // Performed (and, for token calls, remembered as its true answer), but the client
            // never hears about it.
            self.counters.lost_replies.fetch_add(1, Ordering::Relaxed);
            return ApiError::internal_failure().into();
        }
        answer
    }
}

async fn api_handler(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let request_id = inner.ids.next();
    let protocol = Protocol::of_path(uri.path());
    let (op, answer) = inner
        .answer(protocol, &method, uri.path(), &headers, body)
        .await;
    wire::respond(protocol, op, &answer, &request_id)
}

fn json_response(inner: &Inner, body: String) -> Response {
    let mut r = (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&inner.ids.next()) {
        r.headers_mut().insert("x-amzn-RequestId", v);
    }
    r
}

async fn stats_handler(State(inner): State<Arc<Inner>>) -> Response {
    let body = serde_json::to_string(&inner.counters.snapshot()).unwrap_or_default();
    json_response(&inner, body)
}

async fn state_handler(State(inner): State<Arc<Inner>>) -> Response {
    let body = serde_json::to_string(&inner.associations()).unwrap_or_default();
    json_response(&inner, body)
}

/// A running local catalog.
pub struct LocalCatalog {
    inner: Arc<Inner>,
    addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl LocalCatalog {
    /// Validates the seed, binds `listen` (port 0 picks a free port) and starts serving.
    pub async fn start(config: CatalogConfig, listen: SocketAddr) -> anyhow::Result<LocalCatalog> {
        validate::model().map_err(|e| anyhow::anyhow!(e.message))?;
        let catalog = Catalog::new(&config.seed, config.max_actions_per_artifact)?;
        let inner = Arc::new(Inner {
            catalog: RwLock::new(catalog),
            bucket: Bucket::new(&config.faults),
            faults: RwLock::new(config.faults),
            dice: Dice::default(),
            counters: Counters::default(),
            ids: RequestIds::new(),
            expired_access_keys: config.expired_access_keys,
            unrecognized_access_keys: config.unrecognized_access_keys,
        });
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        // Small answers on kept-alive connections would otherwise wait on Nagle's algorithm.
        let listener = listener.tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
        let router = Router::new()
            .route("/_stats", get(stats_handler))
            .route("/_state", get(state_handler))
            .fallback(api_handler)
            .with_state(inner.clone());
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = signal.await;
                })
                .await
        });
        Ok(LocalCatalog {
            inner,
            addr,
            shutdown,
            task,
        })
    }

    /// `http://127.0.0.1:PORT` (the loopback address even when listening on all interfaces).
    pub fn endpoint(&self) -> String {
        let host = if self.addr.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            self.addr.ip().to_string()
        };
        match self.addr {
            SocketAddr::V6(_) if !self.addr.ip().is_unspecified() => {
                format!("http://[{host}]:{}", self.addr.port())
            }
            _ => format!("http://{host}:{}", self.addr.port()),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn stats(&self) -> Stats {
        self.inner.counters.snapshot()
    }

    pub fn reset_stats(&self) {
        self.inner.counters.reset();
    }

    /// Every association, sorted.
    pub fn associations(&self) -> Vec<Triple> {
        self.inner.associations()
    }

    /// Adds an association behind the API's back (no quota, no token); ignored if an id is
    /// unknown or the artifact is not of that product.
    pub fn insert_association_out_of_band(&self, t: &Triple) {
        let mut c = self
            .inner
            .catalog
            .write()
            .unwrap_or_else(|e| e.into_inner());
        c.insert_out_of_band(t);
    }

    /// Removes an association behind the API's back; remembered token answers stay, which is
    /// the stale-token trap. True if it was there.
    pub fn remove_association_out_of_band(&self, t: &Triple) -> bool {
        let mut c = self
            .inner
            .catalog
            .write()
            .unwrap_or_else(|e| e.into_inner());
        c.remove_out_of_band(t)
    }

    /// Replaces the fault knobs; the random sequence and the token bucket start afresh.
    pub fn set_faults(&self, f: Faults) {
        self.inner.bucket.reconfigure(&f);
        *self.inner.faults.write().unwrap_or_else(|e| e.into_inner()) = f;
        self.inner.dice.restart();
    }

    /// Stops accepting, lets in-flight requests finish (up to 5 s), then stops.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(());
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(5), &mut task)
            .await
            .is_err()
        {
            // Idle keep-alive connections of a client that never hangs up would hold graceful
            // shutdown open forever.
            task.abort();
        }
    }
}

/// What `sc-assoc local-catalog` passes to [`serve_standalone`].
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub listen: SocketAddr,
    pub seed_path: PathBuf,
    pub faults: Faults,
}

/// Serves a catalog seeded from a file until SIGINT or SIGTERM. The first line on stdout is
/// exactly `listening on http://HOST:PORT`, so a parent process can read the port.
pub async fn serve_standalone(opts: ServeOptions) -> anyhow::Result<()> {
    let seed = Seed::from_file(&opts.seed_path)?;
    let config = CatalogConfig {
        faults: opts.faults,
        ..CatalogConfig::new(seed)
    };
    let catalog = LocalCatalog::start(config, opts.listen).await?;
    let addr = catalog.addr();
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}")?;
        out.flush()?;
    }
    wait_for_signal().await?;
    catalog.shutdown().await;
    Ok(())
}

#[cfg(unix)]
async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
}

#[cfg(not(unix))]
async fn wait_for_signal() -> anyhow::Result<()> {
    tokio::signal::ctrl_c().await?;
    Ok(())
}
