//! The command line: argument parsing (clap), wiring the library's pieces together for each
//! command, and mapping outcomes to exit codes and `error:`/`hint:` messages. Data goes to
//! stdout; progress, warnings, logs and errors go to stderr.

mod demo;
mod errors;
mod output;
mod progress;

use crate::apply::{ApplyOptions, Strategy};
use crate::aws::{AwsCatalog, AwsOptions};
use crate::manifest::{self, DesiredSet};
use crate::pace::Pacer;
use crate::progress::Reporter;
use crate::run::{self, Prepared, Verify};
use crate::triple::Triple;
use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use progress::{CliReporter, ProgressMode};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// Exit code: the run completed and everything converged (or, for plan, nothing to change).
pub const EXIT_OK: u8 = 0;
/// Exit code: an error, or at least one triple failed.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code of `plan --detailed-exitcode` when there are changes to apply.
pub const EXIT_CHANGES: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "sc-assoc",
    version,
    about = "Keep AWS Service Catalog service-action associations in the state a manifest declares",
    long_about = None,
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Named profile from the AWS config and credentials files.
    #[arg(long, global = true, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// AWS region (defaults to the profile's or AWS_REGION).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// Send requests to this URL instead of the regional endpoint (also AWS_ENDPOINT_URL).
    #[arg(long, global = true)]
    pub endpoint_url: Option<String>,
    /// Language of API answers; overrides the manifests' `accept_language`.
    #[arg(long, global = true, value_enum)]
    pub accept_language: Option<manifest::AcceptLanguage>,
    /// Output format of results on stdout.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// Print only results and errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// More logs on stderr (-v info, -vv debug). Credentials never appear.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No progress bars or progress lines.
    #[arg(long, global = true)]
    pub no_progress: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests offline and report every problem with its file:line:col.
    Validate {
        /// Manifest files or directories of *.yaml / *.yml files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Show what apply would change, without changing anything.
    Plan {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Exit 0 when there is nothing to change, 2 when there are changes, 1 on error.
        #[arg(long)]
        detailed_exitcode: bool,
        #[command(flatten)]
        tuning: Tuning,
    },
    /// Associate every declared service action that is not yet associated.
    Apply {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        tuning: Tuning,
        /// One Associate call per triple (idempotent tokens) or batches of up to 50.
        #[arg(long, value_enum, default_value_t = Strategy::Single)]
        strategy: Strategy,
        /// Skip reading back what was created (and healing what a replayed token hid).
        #[arg(long)]
        no_verify: bool,
    },
    /// Print the manifest's JSON Schema.
    Schema,
    /// Run a full plan and apply against an embedded local catalog: no AWS account needed.
    Demo {
        /// Simulated service latency per call, in milliseconds.
        #[arg(long, default_value_t = 40)]
        latency_ms: u64,
    },
    /// Serve the local Service Catalog stand-in over HTTP.
    LocalCatalog(demo::LocalCatalogArgs),
}

/// Knobs shared by plan and apply.
#[derive(Debug, Clone, Args)]
pub struct Tuning {
    /// Calls in flight at most.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
    /// Pace write calls to at most this many per second (client-side rate limit).
    #[arg(long)]
    pub rate: Option<f64>,
}

/// Parses arguments, runs, and returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.global);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            errors::print(&anyhow::Error::new(err).context("cannot start the async runtime"));
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            errors::print(&err);
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// Logs go to stderr. Even at -vv the AWS crates log at info at most: their trace level dumps
/// requests, and signatures or session tokens must never reach a log.
fn init_logging(global: &GlobalArgs) {
    let filter = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "warn,sc_assoc=info",
        (false, _) => "warn,sc_assoc=debug,aws_config=info,aws_smithy_runtime=info",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

async fn run(cli: Cli) -> anyhow::Result<u8> {
    let global = &cli.global;
    match &cli.command {
        Command::Validate { paths } => validate(global, paths),
        Command::Schema => {
            print!("{}", manifest::json_schema_string());
            Ok(EXIT_OK)
        }
        Command::Plan {
            paths,
            detailed_exitcode,
            tuning,
        } => {
            let desired = load(global, paths)?;
            let catalog = connect(global, &desired, None).await?;
            let reporter = reporter(global);
            let prepared = prepare(&catalog, &desired, tuning, &reporter).await?;
            print_plan(global, &prepared);
            if !prepared.quota_violations.is_empty() || !prepared.unreadable.is_empty() {
                return Ok(EXIT_FAILURE);
            }
            Ok(if *detailed_exitcode && prepared.plan.has_changes() {
                EXIT_CHANGES
            } else {
                EXIT_OK
            })
        }
        Command::Apply {
            paths,
            tuning,
            strategy,
            no_verify,
        } => {
            let desired = load(global, paths)?;
            let catalog = connect(global, &desired, None).await?;
            let verify = if *no_verify {
                Verify::Off
            } else {
                Verify::On { salt: run_salt() }
            };
            apply(global, &catalog, &desired, tuning, *strategy, &verify).await
        }
        Command::Demo { latency_ms } => demo::run(global, *latency_ms).await,
        Command::LocalCatalog(args) => demo::serve(args).await,
    }
}

fn reporter(global: &GlobalArgs) -> CliReporter {
    CliReporter::new(
        ProgressMode::detect(global.quiet, global.no_progress),
        global.quiet,
    )
}

fn validate(global: &GlobalArgs, paths: &[PathBuf]) -> anyhow::Result<u8> {
    let desired = load(global, paths)?;
    if !global.quiet {
        match global.output {
            OutputFormat::Text => println!(
                "{} association(s) declared in {} file(s): valid.",
                desired.triples.len(),
                desired.files.len()
            ),
            OutputFormat::Json => println!(
                "{}",
                serde_json::json!({
                    "valid": true,
                    "files": desired.files,
                    "associations": desired.triples.len(),
                })
            ),
        }
    }
    Ok(EXIT_OK)
}

/// Loads and validates manifests; nothing is sent anywhere when this fails.
fn load(global: &GlobalArgs, paths: &[PathBuf]) -> anyhow::Result<DesiredSet> {
    let desired = manifest::load(paths).map_err(errors::ManifestInvalid)?;
    if !global.quiet {
        for warning in &desired.warnings {
            eprintln!("{warning}");
        }
    }
    Ok(desired)
}

async fn connect(
    global: &GlobalArgs,
    desired: &DesiredSet,
    overrides: Option<AwsOptions>,
) -> anyhow::Result<AwsCatalog> {
    let mut options = overrides.unwrap_or_default();
    options.profile = options.profile.or_else(|| global.profile.clone());
    options.region = options.region.or_else(|| global.region.clone());
    options.endpoint_url = options.endpoint_url.or_else(|| global.endpoint_url.clone());
    let language = global.accept_language.or(desired.accept_language);
    options.accept_language = language.and_then(|l| l.api_value()).map(str::to_string);
    AwsCatalog::connect(&options)
        .await
        .context("cannot set up the AWS client")
}

fn desired_triples(desired: &DesiredSet) -> BTreeSet<Triple> {
    desired.triples.keys().cloned().collect()
}

async fn prepare(
    catalog: &AwsCatalog,
    desired: &DesiredSet,
    tuning: &Tuning,
    reporter: &dyn Reporter,
) -> anyhow::Result<Prepared> {
    let triples = desired_triples(desired);
    Ok(run::prepare(catalog, &triples, tuning.concurrency as usize, reporter).await?)
}

fn print_plan(global: &GlobalArgs, prepared: &Prepared) {
    match global.output {
        OutputFormat::Text => {
            print!("{}", output::plan_text(prepared));
            for violation in &prepared.quota_violations {
                eprintln!("error: {violation}");
            }
        }
        OutputFormat::Json => println!("{}", output::plan_json(prepared)),
    }
}

/// The salt of this run's healing tokens: a replayed token cannot heal, so each run that needs
/// to heal uses tokens no earlier run used, still derived deterministically from the triple.
fn run_salt() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs().to_string())
        .unwrap_or_default()
}

/// Exit code after an interrupt, as shells report SIGINT.
pub const EXIT_INTERRUPTED: u8 = 130;

/// On the first SIGINT or SIGTERM, stop dispatching new calls and let those in flight finish
/// (each is bounded by the SDK's operation timeout); on the second, leave at once.
fn stop_on_signal(reporter: std::sync::Arc<CliReporter>) -> std::sync::Arc<AtomicBool> {
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    tokio::spawn(async move {
        let mut interrupts = 0;
        loop {
            wait_for_signal().await;
            interrupts += 1;
            if interrupts > 1 {
                eprintln!("interrupted again: exiting now");
                std::process::exit(i32::from(EXIT_INTERRUPTED));
            }
            flag.store(true, Ordering::SeqCst);
            reporter.warn("interrupted: no new calls; waiting for calls in flight (interrupt again to quit now)");
        }
    });
    stop
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

/// Plans, refuses to write past the quota, applies, verifies, reports.
async fn apply(
    global: &GlobalArgs,
    catalog: &AwsCatalog,
    desired: &DesiredSet,
    tuning: &Tuning,
    strategy: Strategy,
    verify: &Verify,
) -> anyhow::Result<u8> {
    let reporter = std::sync::Arc::new(reporter(global));
    let stop = stop_on_signal(reporter.clone());
    let reporter = reporter.as_ref();
    let prepared = prepare(catalog, desired, tuning, reporter).await?;
    if !prepared.quota_violations.is_empty() {
        let lines: Vec<String> = prepared
            .quota_violations
            .iter()
            .map(|v| v.to_string())
            .collect();
        anyhow::bail!(
            "the plan would exceed the service-action quota; nothing was applied:\n  {}",
            lines.join("\n  ")
        );
    }
    if global.output == OutputFormat::Text && !global.quiet {
        print!("{}", output::plan_text(&prepared));
        println!();
    }
    let options = ApplyOptions {
        concurrency: tuning.concurrency as usize,
        strategy,
        pacer: tuning.rate.map(|r| std::sync::Arc::new(Pacer::fixed(r))),
        stop: Some(stop.clone()),
        ..ApplyOptions::default()
    };
    let verify = if stop.load(Ordering::SeqCst) {
        &Verify::Off
    } else {
        verify
    };
    let report = run::execute(catalog, &prepared, &options, verify, reporter).await;
    match global.output {
        OutputFormat::Text => print!("{}", output::report_text(&report)),
        OutputFormat::Json => println!("{}", output::report_json(&report)),
    }
    if stop.load(Ordering::SeqCst) {
        return Ok(EXIT_INTERRUPTED);
    }
    Ok(if report.converged() {
        EXIT_OK
    } else {
        EXIT_FAILURE
    })
}
