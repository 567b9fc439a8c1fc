//! The commands that run the local Service Catalog: `demo`, which plans and applies the example
//! manifest against an embedded catalog with no AWS account, and `local-catalog`, which serves
//! the stand-in over HTTP for other tools (the AWS CLI, boto3, a second sc-assoc).

use super::layout::{self, Shown};
use super::{EXIT_FAILURE, EXIT_OK, GlobalArgs, OutputFormat, emit, reporter, runs, signals};
use anyhow::Context;
use clap::Args;
use sc_assoc::aws::{AwsBase, AwsConnector, AwsOptions, StaticCredentials};
use sc_assoc::local::{CatalogConfig, Faults, LocalCatalog, Seed, SeedFile, ServeOptions};
use sc_assoc::manifest;
use sc_assoc::pipeline;
use sc_assoc::settings::{Strategy, Verify};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The demo's catalog and manifest travel inside the binary, so `demo` works from any folder.
const DEMO_SEED: &str = include_str!("../../examples/demo-catalog.yaml");
const DEMO_MANIFEST: &str = include_str!("../../examples/manifests/demo.yaml");
/// The second half: a hub and two spokes, each in two regions, one manifest for all six.
const HUB_SEED: &str = include_str!("../../examples/hub-and-spoke-catalog.yaml");
const HUB_MANIFEST: &str = include_str!("../../examples/manifests/hub-and-spoke.yaml");

/// The embedded catalog throttles like a modest AWS account; the demo paces itself below that.
const DEMO_SERVER_RATE: f64 = 100.0;
const DEMO_CLIENT_RATE: f64 = 80.0;

#[derive(Debug, Args)]
pub struct LocalCatalogArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// YAML (or JSON) file of products, artifacts, actions and associations to start with.
    #[arg(long)]
    pub seed: PathBuf,
    /// Fixed latency added to every API call, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Uniform random extra latency, 0..N milliseconds.
    #[arg(long, default_value_t = 0)]
    pub jitter_ms: u64,
    /// Token-bucket rate limit shared by all operations, calls per second (unlimited if absent).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Token-bucket burst size.
    #[arg(long, default_value_t = 10)]
    pub burst: u32,
    /// Probability of an injected HTTP 500 InternalFailure per call.
    #[arg(long, default_value_t = 0.0)]
    pub error_rate: f64,
    /// Probability that a write is made but its reply is lost (HTTP 500 after the change).
    #[arg(long, default_value_t = 0.0)]
    pub lost_reply_rate: f64,
    /// Probability that a call is answered 400 ThrottlingException (on top of --rate).
    #[arg(long, default_value_t = 0.0, value_parser = parse_probability)]
    pub throttle_rate: f64,
    /// Probability that one item of a batch call is answered THROTTLING inside an HTTP 200.
    #[arg(long, default_value_t = 0.0, value_parser = parse_probability)]
    pub batch_item_throttle_rate: f64,
    /// How long the listings take to show an API write, in milliseconds (writes see it at
    /// once), as AWS's listings lag its writes.
    #[arg(long, default_value_t = 0)]
    pub listing_lag_ms: u64,
    /// Uniform random extra listing lag per write call, 0..N milliseconds.
    #[arg(long, default_value_t = 0)]
    pub listing_lag_jitter_ms: u64,
    /// Seed of the fault injector's random numbers, for reproducible runs.
    #[arg(long, default_value_t = 1)]
    pub rng_seed: u64,
}

/// A probability: a number from 0 to 1.
fn parse_probability(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("`{text}` is not a probability from 0 to 1")),
    }
}

pub async fn serve(args: &LocalCatalogArgs) -> anyhow::Result<u8> {
    let faults = Faults {
        latency: Duration::from_millis(args.latency_ms),
        jitter: Duration::from_millis(args.jitter_ms),
        rate: args.rate,
        burst: args.burst,
        error_rate: args.error_rate,
        lost_reply_rate: args.lost_reply_rate,
        throttle_rate: args.throttle_rate,
        batch_item_throttle_rate: args.batch_item_throttle_rate,
        listing_lag: Duration::from_millis(args.listing_lag_ms),
        listing_lag_jitter: Duration::from_millis(args.listing_lag_jitter_ms),
        rng_seed: args.rng_seed,
    };
    sc_assoc::local::serve_standalone(ServeOptions {
        listen: args.listen,
        seed_path: args.seed.clone(),
        faults,
    })
    .await?;
    Ok(EXIT_OK)
}

/// How the embedded catalogs behave: `demo`'s flags.
#[derive(Debug, Clone, Copy)]
pub struct DemoService {
    pub latency_ms: u64,
    pub listing_lag_ms: u64,
}

/// The embedded catalogs throttle like a modest AWS account, answer with some latency, and list
/// writes only some time after they are made, as AWS does.
fn faults(service: DemoService) -> Faults {
    Faults {
        latency: Duration::from_millis(service.latency_ms),
        jitter: Duration::from_millis(service.latency_ms / 2),
        rate: Some(DEMO_SERVER_RATE),
        burst: 20,
        listing_lag: Duration::from_millis(service.listing_lag_ms),
        listing_lag_jitter: Duration::from_millis(service.listing_lag_ms / 2),
        rng_seed: 7,
        ..Faults::default()
    }
}

/// A client of the embedded catalog: its endpoint, and the demo's keys (the hub's, in the
/// accounts form; the catalog checks signatures, not secrets).
fn client_options(catalog: &LocalCatalog) -> AwsOptions {
    AwsOptions {
        endpoint_url: Some(catalog.endpoint()),
        region: Some("us-east-1".to_string()),
        static_credentials: Some(StaticCredentials {
            access_key_id: "AKIDLOCALDEMO".to_string(),
            secret_access_key: "local-demo-secret".to_string(),
        }),
        ..AwsOptions::default()
    }
}

pub async fn run(global: &GlobalArgs, service: DemoService) -> anyhow::Result<u8> {
    let seed = Seed::from_yaml_str(DEMO_SEED).context("the demo catalog seed is invalid")?;
    let config = CatalogConfig {
        seed,
        faults: faults(service),
        ..CatalogConfig::default()
    };
    let catalog = LocalCatalog::start(config, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .context("cannot start the embedded local catalog")?;
    let text = global.output == OutputFormat::Text && !global.quiet;
    if text {
        emit(&format!(
            "Embedded local Service Catalog at {} (no AWS account is used).\n\n",
            catalog.endpoint()
        ))?;
    }
    let manifest_path = Path::new("examples/manifests/demo.yaml");
    let targeted = manifest::parse_str_targets(manifest_path, DEMO_MANIFEST)
        .map_err(super::errors::ManifestInvalid)?;
    let base = AwsBase::load(&client_options(&catalog))
        .await
        .context("cannot set up the AWS client for the embedded catalog")?;
    let reporter = Arc::new(reporter(global));
    // The same pipeline as `sc-assoc apply`: signals, resolution, read, check, plan, apply,
    // settle, report.
    let control = signals::watch(reporter.clone(), None);
    let tuning = demo_tuning();
    let with = runs::With {
        base: &base,
        tuning: &tuning,
        reporter: reporter.as_ref(),
        settings: runs::settings(
            &tuning,
            false,
            Some((Strategy::Single, Verify::default())),
            control.clone(),
        ),
    };
    if text {
        emit(&format!(
            "$ sc-assoc apply {} --rate {DEMO_CLIENT_RATE}\n",
            manifest_path.display()
        ))?;
    }
    let job = runs::Job::resolve(targeted.clone(), base.default_region(), &[])?;
    let applied = runs::run(global, &with, job, runs::Verb::Apply { yes: false }).await?;
    if applied != EXIT_OK {
        catalog.shutdown().await;
        return Ok(applied);
    }
    // A second run finds nothing left to do.
    let job = runs::Job::resolve(targeted, base.default_region(), &[])?;
    let pacers = tuning.pacers();
    let make_pacer = |key: Option<&str>| pacers.pacer(key);
    let connector = AwsConnector {
        base: &base,
        pacer: &make_pacer,
    };
    let again = pipeline::plan(&connector, &job.targets, &with.settings, reporter.as_ref())
        .await
        .into_runs();
    if text {
        emit(&format!(
            "\n$ sc-assoc plan {}   # a second run: nothing left to do\n",
            manifest_path.display()
        ))?;
        layout::render(global, job.layout, &again, Shown::Plans, job.about())?;
        let stats = catalog.stats();
        emit(&format!(
            "\nThe catalog answered {} calls ({} throttled) and now holds {} associations.\n",
            stats.total_calls,
            stats.throttled,
            catalog.associations().len()
        ))?;
    }
    catalog.shutdown().await;
    if again.iter().any(|run| run.failed() || run.has_changes()) {
        return Ok(EXIT_FAILURE);
    }
    // JSON output is one document: the hub-and-spoke half is shown as text only.
    if global.output == OutputFormat::Json {
        return Ok(EXIT_OK);
    }
    hub_and_spokes(global, service, &with).await
}

/// The demo's knobs: its client paces at a rate it knows, below the embedded catalog's.
fn demo_tuning() -> super::Tuning {
    super::Tuning {
        concurrency: 16,
        rate: super::Rate::Fixed(DEMO_CLIENT_RATE),
        rate_cache: None,
        call_timeout: super::DEFAULT_CALL_TIMEOUT_SECS,
        deadline: None,
        targets: Vec::new(),
        shard: None,
        target_concurrency: super::DEFAULT_TARGET_CONCURRENCY,
    }
}

/// A hub and two spokes in two regions: the role assumed in each account, names resolved to
/// each target's own ids, every target paced on its own.
async fn hub_and_spokes(
    global: &GlobalArgs,
    service: DemoService,
    first: &runs::With<'_>,
) -> anyhow::Result<u8> {
    let file = SeedFile::from_yaml_str(HUB_SEED).context("the hub-and-spoke seed is invalid")?;
    let mut config = CatalogConfig::from_seed_file(file);
    config.faults = faults(service);
    let catalog = LocalCatalog::start(config, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .context("cannot start the embedded hub-and-spoke catalog")?;
    let manifest_path = Path::new("examples/manifests/hub-and-spoke.yaml");
    let targeted = manifest::parse_str_targets(manifest_path, HUB_MANIFEST)
        .map_err(super::errors::ManifestInvalid)?;
    let base = AwsBase::load(&client_options(&catalog))
        .await
        .context("cannot set up the AWS client for the embedded catalog")?;
    if !global.quiet {
        emit(&format!(
            "\nA hub and the spokes of its Spokes unit, each in two regions (another embedded catalog, at {}):\n\
             $ sc-assoc apply {}\n\n",
            catalog.endpoint(),
            manifest_path.display()
        ))?;
    }
    let with = runs::With {
        base: &base,
        tuning: first.tuning,
        reporter: first.reporter,
        settings: first.settings.clone(),
    };
    let control = &with.settings.control;
    let expanded = runs::expand_units(&base, targeted.clone(), with.tuning, control).await?;
    let job = runs::Job::resolve(expanded, base.default_region(), &[])?;
    let code = runs::run(global, &with, job, runs::Verb::Apply { yes: false }).await?;
    if code != EXIT_OK {
        catalog.shutdown().await;
        return Ok(code);
    }
    // An account joins the spokes' unit: the same manifest, planned again, finds it, and
    // nothing else to do.
    catalog.join_organization("444444444444", Some(SPOKES_UNIT), "ACTIVE");
    if !global.quiet {
        emit(&format!(
            "
spoke-c (444444444444) joins the Spokes unit ({SPOKES_UNIT}); the next plan finds it:
             $ sc-assoc plan {}

",
            manifest_path.display()
        ))?;
    }
    let expanded = runs::expand_units(&base, targeted, with.tuning, control).await?;
    let job = runs::Job::resolve(expanded, base.default_region(), &[])?;
    let pacers = with.tuning.pacers();
    let make_pacer = |key: Option<&str>| pacers.pacer(key);
    let connector = AwsConnector {
        base: &base,
        pacer: &make_pacer,
    };
    let again = pipeline::plan(&connector, &job.targets, &with.settings, with.reporter)
        .await
        .into_runs();
    layout::render(global, job.layout, &again, Shown::Plans, job.about())?;
    catalog.shutdown().await;
    // Only the account that joined has anything to do.
    let as_expected = again.iter().all(|run| {
        !run.failed()
            && run.has_changes() == (run.target.account.as_deref() == Some("444444444444"))
    });
    Ok(if as_expected { EXIT_OK } else { EXIT_FAILURE })
}

/// The unit of the hub-and-spoke seed the spokes are in.
const SPOKES_UNIT: &str = "ou-d3m0-spokes01";
