//! The local Service Catalog: an HTTP server answering the twelve Service Catalog operations
//! sc-assoc uses exactly as AWS does (both of its wire protocols, AWS JSON 1.1 and Smithy RPC v2
//! CBOR; model-driven validation; AWS's error codes; idempotency-token replay), seeded from YAML,
//! with deterministic fault knobs. Every end-to-end test, benchmark and demo runs against it, so
//! faithfulness to AWS comes before convenience.
//!
//! It holds many accounts and regions, as AWS does: one catalog per (account, region) target,
//! the account chosen by the request's access key (base keys belong to an account; temporary
//! keys from its STS `AssumeRole`, served at the same endpoint, to the role's account), the
//! region by the SigV4 credential scope. Each target has its own contents, idempotency memory,
//! page tokens, token bucket and counters.
//!
//! This file owns the running server: configuration, the request pipeline (protocol by path →
//! STS or Service Catalog → operation → signature → access key → account and region → token
//! bucket → latency → injected error → body → validation → operation → lost reply), the handle
//! tests hold. The pieces live beside it: `standalone` (`sc-assoc local-catalog`), `wire` (what both
//! Service Catalog protocols share: operations, errors, answers, auth), `json` and `cbor`
//! (each protocol's routing and bodies), `sts` (STS's Query protocol), `identity` (keys,
//! roles, sessions), `targets` (the catalog of each account and region), `validate` (the
//! model), `ops` and `state` (semantics), `paging` (page tokens), `faults` (knobs, PRNG,
//! bucket), `stats` (counters), `org` (AWS Organizations' listings), `inspect` (the control
//! endpoints), and `seed` and `accounts` (initial contents).

mod accounts;
mod actions;
mod cbor;
mod error;
mod faults;
mod identity;
mod inspect;
mod json;
mod ops;
mod org;
mod paging;
mod seed;
mod standalone;
mod state;
mod stats;
mod sts;
mod targets;
mod validate;
mod wire;

pub use accounts::{DEFAULT_ACCOUNT, DEFAULT_REGION, SeedAccount, SeedFile, SeedRole};
pub use error::LocalError;
pub use faults::{Faults, SplitMix64};
pub use org::{SeedMember, SeedOrganization, SeedUnit};
pub use paging::DEFAULT_PAGE_SIZE;
pub use seed::{Seed, SeedAction, SeedArtifact, SeedAssociation, SeedFaults, SeedProduct};
pub use standalone::{ServeOptions, serve_standalone};
pub use stats::{ServerStats, Stats, TargetStats};

use crate::triple::Triple;
use anyhow::Context;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::get;
use axum::serve::ListenerExt;
use identity::{Directory, Refusal};
use stats::{Counters, InFlight};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use targets::{Target, Targets};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use wire::{Answer, Op, Protocol, RequestIds, ServiceError};

/// AWS's quota: 25 service actions per provisioning artifact (the admin guide's figure). The
/// stand-in keeps its own constant: as the oracle the client is tested against, it must not
/// borrow the client's idea of the quota.
pub const DEFAULT_MAX_ACTIONS_PER_ARTIFACT: usize = 25;

/// AWS's quota: 200 service actions per region (the admin guide's figure), the stand-in's own.
pub const DEFAULT_MAX_ACTIONS_PER_REGION: usize = 200;

/// Largest request body read; AWS's own limits are far below what sc-assoc sends.
const MAX_BODY_BYTES: usize = 1 << 20;

/// Everything a local catalog starts from.
#[derive(Debug, Clone)]
pub struct CatalogConfig {
    /// With `accounts` empty: the contents of the default account ([`DEFAULT_ACCOUNT`]) in every
    /// region, each region its own copy. Must be empty when `accounts` is not.
    pub seed: Seed,
    /// The accounts form: accounts, their keys, regions (each with its contents) and roles.
    pub accounts: Vec<SeedAccount>,
    /// Knobs every target starts with; each target draws its own faults and has its own bucket.
    pub faults: Faults,
    /// Quota on service actions per artifact (`LimitExceededException` beyond it).
    pub max_actions_per_artifact: usize,
    /// Access key ids answered with `ExpiredTokenException`.
    pub expired_access_keys: Vec<String>,
    /// Access key ids answered with `UnrecognizedClientException`.
    pub unrecognized_access_keys: Vec<String>,
    /// The AWS organisation the accounts belong to, for Organizations' listing operations;
    /// `None`: the accounts are in no organisation.
    pub organization: Option<SeedOrganization>,
}

impl CatalogConfig {
    /// A catalog with this seed, no faults and AWS's quota.
    pub fn new(seed: Seed) -> Self {
        CatalogConfig {
            seed,
            accounts: Vec::new(),
            faults: Faults::default(),
            max_actions_per_artifact: DEFAULT_MAX_ACTIONS_PER_ARTIFACT,
            expired_access_keys: Vec::new(),
            unrecognized_access_keys: Vec::new(),
            organization: None,
        }
    }
}

impl CatalogConfig {
    /// A catalog of these accounts, no faults and AWS's quota.
    pub fn with_accounts(accounts: Vec<SeedAccount>) -> Self {
        CatalogConfig {
            accounts,
            ..CatalogConfig::new(Seed::default())
        }
    }

    /// A catalog of a seed file of either form.
    pub fn from_seed_file(file: SeedFile) -> Self {
        match file {
            SeedFile::Single(seed) => CatalogConfig::new(seed),
            SeedFile::Accounts(accounts, organization) => CatalogConfig {
                organization,
                ..CatalogConfig::with_accounts(accounts)
            },
        }
    }
}

impl Default for CatalogConfig {
    fn default() -> Self {
        CatalogConfig::new(Seed::default())
    }
}

/// State shared by all connections.
struct Inner {
    targets: Targets,
    directory: Directory,
    /// AWS Organizations' listings, at the same endpoint.
    org: org::OrgService,
    /// The latency every Organizations call gets (the configured faults' fixed latency).
    org_latency: Duration,
    /// The server's totals: every target's requests plus those refused before a target was
    /// known, and the STS calls.
    counters: Counters,
    ids: RequestIds,
    expired_access_keys: Vec<String>,
    unrecognized_access_keys: Vec<String>,
}

/// Adds one to a counter of the server's totals and of the target's.
fn bump(total: &Counters, target: &Target, which: fn(&Counters) -> &AtomicU64) {
    which(total).fetch_add(1, Ordering::Relaxed);
    which(&target.counters).fetch_add(1, Ordering::Relaxed);
}

impl Inner {
    /// The request pipeline for Service Catalog (everything but STS, `/_stats` and `/_state`),
    /// the same for both wire protocols: only finding the operation and decoding the body differ.
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
        let caller = match wire::check_auth(headers).and_then(|c| {
            wire::check_service(&c)?;
            Ok(c)
        }) {
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
        let principal = match self
            .directory
            .identify(&caller.access_key_id, caller.security_token.as_deref())
        {
            Ok(p) => p,
            Err(Refusal::Unrecognized) => return (named, wire::unrecognized_client().into()),
            Err(Refusal::Expired) => return (named, wire::expired_token().into()),
        };
        // A region the account has not enabled: AWS's JSON services answer an opt-in region
        // that is not enabled exactly as an unknown key, since the credentials are not valid
        // there.
        let Some(catalog) = self.targets.get(&principal.account, &caller.region) else {
            return (named, wire::unrecognized_client().into());
        };
        let op = match target {
            Ok(op) => op,
            Err(m) => return (named, m.error.into()),
        };
        catalog.counters.calls[op.index()].fetch_add(1, Ordering::Relaxed);
        (Some(op), self.perform(&catalog, protocol, op, body).await)
    }

    /// The target's faults, then body, validation, the operation and a lost reply.
    async fn perform(&self, target: &Target, protocol: Protocol, op: Op, body: Body) -> Answer {
        let _in_flight = (
            InFlight::enter(&self.counters),
            InFlight::enter(&target.counters),
        );
        let faults = target.faults();
        let mut draw = target.dice.draw(&faults);
        // The bucket is consulted on arrival, the delay models the round trip either way.
        let admitted = target.bucket.try_take();
        if !draw.delay.is_zero() {
            tokio::time::sleep(draw.delay).await;
        }
        if !admitted || draw.throttle {
            bump(&self.counters, target, |c| &c.throttled);
            return ServiceError::throttling().into();
        }
        if draw.inject_error {
            bump(&self.counters, target, |c| &c.injected_errors);
            return ServiceError::internal_failure().into();
        }

        let model = match validate::model() {
            Ok(m) => m,
            Err(e) => return e.into(),
        };
        let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
            Ok(b) => b,
            Err(e) => {
                return ServiceError::serialization(format!(
                    "Could not read the request body: {e}"
                ))
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
        let answer = ops::execute(op, &request, &target.catalog, &mut draw, &faults);
        if op.is_write() && draw.lose_reply {
            // Performed (and, for token calls, remembered as its true answer), but the client
            // never hears about it.
            bump(&self.counters, target, |c| &c.lost_replies);
            return ServiceError::internal_failure().into();
        }
        answer
    }

    async fn sts(&self, headers: &HeaderMap, body: Body, request_id: &str) -> Response {
        // An unreadable body is judged as an empty form: the request is then refused for what
        // it lacks, after its signature, as STS refuses one without parameters.
        let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
            .await
            .unwrap_or_default();
        let ctx = sts::Context {
            directory: &self.directory,
            counters: &self.counters,
            expired_access_keys: &self.expired_access_keys,
            unrecognized_access_keys: &self.unrecognized_access_keys,
        };
        sts::answer(&ctx, headers, &bytes, request_id)
    }

    fn server_stats(&self) -> ServerStats {
        ServerStats {
            total: self.counters.snapshot(),
            targets: self.targets.all().iter().map(|t| t.stats()).collect(),
        }
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
    if protocol == Protocol::Json && method == Method::POST && sts::is_sts(&headers) {
        return inner.sts(&headers, body, &request_id).await;
    }
    if protocol == Protocol::Json && method == Method::POST && org::is_organizations(&headers) {
        let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
            .await
            .unwrap_or_default();
        inner.org.arrived(&headers);
        if !inner.org_latency.is_zero() {
            tokio::time::sleep(inner.org_latency).await;
        }
        let ctx = org::Context {
            service: &inner.org,
            directory: &inner.directory,
        };
        return org::answer(&ctx, &headers, &bytes, &request_id);
    }
    let (op, answer) = inner
        .answer(protocol, &method, uri.path(), &headers, body)
        .await;
    wire::respond(protocol, op, &answer, &request_id)
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
    pub async fn start(
        config: CatalogConfig,
        listen: SocketAddr,
    ) -> Result<LocalCatalog, LocalError> {
        Self::launch(config, listen)
            .await
            .map_err(LocalError::start)
    }

    async fn launch(config: CatalogConfig, listen: SocketAddr) -> anyhow::Result<LocalCatalog> {
        validate::model().map_err(|e| anyhow::anyhow!(e.message))?;
        let (targets, directory) = if config.accounts.is_empty() {
            let targets = Targets::open(
                &config.seed,
                config.max_actions_per_artifact,
                &config.faults,
            )?;
            (targets, Directory::open())
        } else {
            if config.seed != Seed::default() {
                anyhow::bail!(
                    "a catalog config gives either `seed` (one account, every region) or \
                     `accounts`, not both"
                );
            }
            accounts::validate(&config.accounts)?;
            let targets = Targets::of(
                &config.accounts,
                config.max_actions_per_artifact,
                &config.faults,
            )?;
            (targets, Directory::of(&config.accounts))
        };
        if let Some(organization) = &config.organization {
            organization.validate()?;
        }
        let inner = Arc::new(Inner {
            targets,
            directory,
            org: org::OrgService::new(
                config.organization.clone(),
                config
                    .accounts
                    .iter()
                    .filter_map(|a| Some((a.id.clone(), a.name.clone()?)))
                    .collect(),
            ),
            org_latency: config.faults.latency,
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
            .route("/_stats", get(inspect::stats))
            .route("/_state", get(inspect::state).post(inspect::change))
            .route("/_organization", axum::routing::post(inspect::join))
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

    /// The server's totals: the sum over every target, plus the requests refused before a
    /// target was known (signature, access key, region not enabled) and the STS calls.
    pub fn stats(&self) -> Stats {
        self.inner.counters.snapshot()
    }

    /// One target's counters (requests that reached its account and region), if it exists.
    pub fn stats_in(&self, account: &str, region: &str) -> Option<Stats> {
        self.target(account, region).map(|t| t.counters.snapshot())
    }

    /// The totals and every target's counters, as `GET /_stats` serves them.
    pub fn server_stats(&self) -> ServerStats {
        self.inner.server_stats()
    }

    /// Zeroes the totals and every target's counters.
    pub fn reset_stats(&self) {
        self.inner.counters.reset();
        for t in self.inner.targets.all() {
            t.counters.reset();
        }
    }

    /// Every association of the default target, sorted: the default account in us-east-1 for
    /// an original-form seed, the first region of the first account for the accounts form.
    pub fn associations(&self) -> Vec<Triple> {
        self.inner
            .targets
            .default_target()
            .map(|t| t.associations())
            .unwrap_or_default()
    }

    /// Every association of `account` in `region`, sorted; `None` if that region is not
    /// enabled for that account.
    pub fn associations_in(&self, account: &str, region: &str) -> Option<Vec<Triple>> {
        self.target(account, region).map(|t| t.associations())
    }

    fn target(&self, account: &str, region: &str) -> Option<Arc<Target>> {
        self.inner.targets.get(account, region)
    }

    /// Adds an association to the default target behind the API's back (no quota, no token);
    /// ignored if an id is unknown or the artifact is not of that product.
    pub fn insert_association_out_of_band(&self, t: &Triple) {
        if let Some(target) = self.inner.targets.default_target() {
            insert_out_of_band(&target, t);
        }
    }

    /// [`Self::insert_association_out_of_band`] in `account` and `region`; false if that
    /// target does not exist.
    pub fn insert_association_out_of_band_in(
        &self,
        account: &str,
        region: &str,
        t: &Triple,
    ) -> bool {
        self.target(account, region)
            .map(|target| insert_out_of_band(&target, t))
            .is_some()
    }

    /// Removes an association from the default target behind the API's back; remembered token
    /// answers stay, which is the stale-token trap. True if it was there.
    pub fn remove_association_out_of_band(&self, t: &Triple) -> bool {
        self.inner.targets.default_target().is_some_and(|target| {
            let mut c = target.catalog.write().unwrap_or_else(|e| e.into_inner());
            c.remove_out_of_band(t)
        })
    }

    /// [`Self::remove_association_out_of_band`] in `account` and `region`; true if it was there.
    pub fn remove_association_out_of_band_in(
        &self,
        account: &str,
        region: &str,
        t: &Triple,
    ) -> bool {
        self.target(account, region).is_some_and(|target| {
            let mut c = target.catalog.write().unwrap_or_else(|e| e.into_inner());
            c.remove_out_of_band(t)
        })
    }

    /// Deletes a service action of `account`'s `region` (the default target when `None`) behind
    /// the API's back, its associations with it; remembered tokens stay (a create replayed
    /// later answers with the deleted action: the stale-token trap). True if it was there.
    pub fn delete_action_out_of_band(&self, target: Option<(&str, &str)>, id: &str) -> bool {
        let target = match target {
            Some((account, region)) => self.target(account, region),
            None => self.inner.targets.default_target(),
        };
        target.is_some_and(|target| {
            let mut c = target.catalog.write().unwrap_or_else(|e| e.into_inner());
            c.delete_action_out_of_band(id)
        })
    }

    /// Every service action of `account`'s `region` (the default target when `None`), as the
    /// truth holds it (no listing lag): id, name and definition.
    pub fn actions_in(
        &self,
        target: Option<(&str, &str)>,
    ) -> Vec<(String, String, std::collections::BTreeMap<String, String>)> {
        let target = match target {
            Some((account, region)) => self.target(account, region),
            None => self.inner.targets.default_target(),
        };
        target
            .map(|t| {
                let c = t.catalog.read().unwrap_or_else(|e| e.into_inner());
                c.actions
                    .values()
                    .map(|a| (a.id.clone(), a.name.clone(), a.definition.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Calls of AWS Organizations' operations so far, by name.
    pub fn organization_calls(&self) -> std::collections::BTreeMap<&'static str, u64> {
        self.inner.org.calls()
    }

    /// Places `account` in the organisation under `parent` (the root when `None`) with
    /// `status`, as an account that joins it does: the next expansion finds it. False when
    /// there is no organisation or no such parent.
    pub fn join_organization(&self, account: &str, parent: Option<&str>, status: &str) -> bool {
        self.inner.org.join(account, parent, status)
    }

    /// Replaces every target's fault knobs (and those of targets created later); each target's
    /// random sequence and token bucket start afresh.
    pub fn set_faults(&self, f: Faults) {
        self.inner.targets.set_faults(&f);
    }

    /// Replaces one target's fault knobs; false if that target does not exist.
    pub fn set_faults_in(&self, account: &str, region: &str, f: Faults) -> bool {
        self.target(account, region)
            .map(|t| t.set_faults(&f))
            .is_some()
    }

    /// Ends every session AssumeRole issued: their keys now answer as expired tokens.
    pub fn expire_sessions(&self) {
        self.inner.directory.expire_sessions();
    }

    /// Sessions AssumeRole issued that the server still remembers.
    pub fn session_count(&self) -> usize {
        self.inner.directory.session_count()
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

fn insert_out_of_band(target: &Target, t: &Triple) {
    let mut c = target.catalog.write().unwrap_or_else(|e| e.into_inner());
    c.insert_out_of_band(t);
}

/// The errors the service model declares for `operation` (by its API name); empty for an
/// operation the model does not have. Any AWS service may also answer the common ones
/// (`ValidationException`, `ThrottlingException`, …).
pub fn declared_errors(operation: &str) -> Vec<String> {
    validate::model()
        .map(|model| model.errors_of(operation))
        .unwrap_or_default()
}
