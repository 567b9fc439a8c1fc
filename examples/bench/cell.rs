//! One benchmark cell: a fresh local catalog with a token bucket and latency, one client
//! reconciling the workload through the library, and what it cost.

use crate::workload::{Workload, minimal_reads};
use sc_assoc::aws::{AwsCatalog, AwsOptions, StaticCredentials};
use sc_assoc::local::{CatalogConfig, Faults, LocalCatalog};
use sc_assoc::pace::Pacer;
use sc_assoc::progress::NoProgress;
use sc_assoc::run::{Target, execute, prepare_target};
use sc_assoc::settings::{Settings, Strategy, Verify};
use sc_assoc::triple::Triple;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Who paces the calls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Client {
    /// sc-assoc's default flags: the adaptive pacer.
    ScAssoc,
    /// The AWS SDK's adaptive retry mode (its client-side rate limiter), no pacer.
    SdkAdaptive,
    /// `--rate R`: the server's rate, known.
    Fixed,
    /// `--rate unlimited`: the SDK's standard retries only.
    Unlimited,
}

impl std::str::FromStr for Client {
    type Err = anyhow::Error;

    fn from_str(text: &str) -> anyhow::Result<Self> {
        Ok(match text {
            "sc-assoc" => Client::ScAssoc,
            "sdk-adaptive" => Client::SdkAdaptive,
            "fixed" => Client::Fixed,
            "unlimited" => Client::Unlimited,
            other => anyhow::bail!("unknown client `{other}`"),
        })
    }
}

impl Client {
    pub fn label(self) -> &'static str {
        match self {
            Client::ScAssoc => "sc-assoc",
            Client::SdkAdaptive => "SDK adaptive",
            Client::Fixed => "--rate R",
            Client::Unlimited => "unpaced",
        }
    }
}

pub struct Cell {
    pub rate: f64,
    pub burst: u32,
    pub latency_ms: u64,
    pub jitter_ms: u64,
    pub concurrency: usize,
    pub strategy: Strategy,
    pub client: Client,
}

pub struct Row {
    pub wall: Duration,
    pub reads: u64,
    pub writes: u64,
    /// Minimal reads plus the writes the missing triples need.
    pub minimal_calls: u64,
    pub throttled: u64,
    /// HTTP requests the server saw, retries and throttled ones included.
    pub requests: u64,
    pub floor: Duration,
    pub converged: bool,
}

impl Cell {
    pub async fn run(&self, work: &Workload) -> anyhow::Result<Row> {
        let faults = Faults {
            latency: Duration::from_millis(self.latency_ms),
            jitter: Duration::from_millis(self.jitter_ms),
            rate: Some(self.rate),
            burst: self.burst,
            rng_seed: 42,
            ..Faults::default()
        };
        let catalog = LocalCatalog::start(
            CatalogConfig {
                faults,
                ..CatalogConfig::new(work.seed.clone())
            },
            SocketAddr::from(([127, 0, 0, 1], 0)),
        )
        .await?;
        let pacer = match self.client {
            Client::ScAssoc => Some(Arc::new(Pacer::adaptive())),
            Client::Fixed => Some(Arc::new(Pacer::fixed(self.rate))),
            Client::SdkAdaptive | Client::Unlimited => None,
        };
        let client = AwsCatalog::connect(&AwsOptions {
            endpoint_url: Some(catalog.endpoint()),
            region: Some("us-east-1".into()),
            static_credentials: Some(StaticCredentials {
                access_key_id: "AKIDBENCH".into(),
                secret_access_key: "bench-secret".into(),
            }),
            pacer,
            sdk_adaptive_retry: self.client == Client::SdkAdaptive,
            ..AwsOptions::default()
        })
        .await?;
        let started = Instant::now();
        let prepared = prepare_target(
            &client,
            &Target::of(&work.desired),
            self.concurrency,
            &NoProgress,
        )
        .await?;
        let settings = Settings {
            concurrency: self.concurrency,
            strategy: self.strategy,
            verify: Verify::Off,
            ..Settings::default()
        };
        let report = execute(&client, &prepared, &settings, &NoProgress).await;
        let wall = started.elapsed();
        let stats = catalog.stats();
        let final_state: BTreeSet<Triple> = catalog.associations().into_iter().collect();
        catalog.shutdown().await;

        let minimal_writes = if self.strategy == Strategy::Batch {
            work.missing().div_ceil(50)
        } else {
            work.missing()
        };
        let minimal_calls = minimal_reads(&work.desired, &work.present) + minimal_writes;
        let paid = minimal_calls.saturating_sub(u64::from(self.burst));
        Ok(Row {
            wall,
            reads: report.calls.reads,
            writes: report.calls.writes,
            minimal_calls,
            throttled: stats.throttled,
            requests: stats.total_calls,
            floor: Duration::from_secs_f64(paid as f64 / self.rate),
            converged: report.converged() && work.desired.is_subset(&final_state),
        })
    }
}
