//! The command line: argument parsing (clap), wiring the library's pieces together for each
//! command, and mapping outcomes to exit codes and `error:`/`hint:` messages. Data goes to
//! stdout; progress, warnings, logs and errors go to stderr.

mod commands;
mod demo;
mod errors;
mod export;
mod output;
mod progress;

use crate::apply::Strategy;
use crate::aws::{AwsCatalog, AwsOptions};
use crate::manifest::{self, AcceptLanguage, DesiredSet};
use crate::pace::Pacer;
use crate::resolve::{ResolveError, Resolved};
use crate::run::Verify;
use crate::triple::Triple;
use anyhow::Context;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use progress::{CliReporter, ProgressMode};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

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
#[command(next_help_heading = "Global options")]
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
    ///
    /// Names (`{name: ...}`) and selectors (`artifacts: all | active`) are checked for shape
    /// here; whether they match anything is checked by plan and apply, before any write.
    Validate {
        /// Manifest files, or directories of *.yaml / *.yml files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Show what apply would change, without changing anything.
    ///
    /// Resolves names and selectors, reads the current associations, and prints one `+` line
    /// per association to add (and, with --prune, one `-` line per association to remove).
    Plan {
        /// Manifest files, or directories of *.yaml / *.yml files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Exit 0 when there is nothing to change, 2 when there are changes, 1 on error.
        #[arg(long)]
        detailed_exitcode: bool,
        /// Also plan to remove associations the manifests do not declare, on the artifacts they
        /// name or select (never on any other artifact).
        #[arg(long)]
        prune: bool,
        #[command(flatten)]
        tuning: Tuning,
    },
    /// Associate every declared service action that is not yet associated.
    ///
    /// Plans as `plan` does, refuses a plan that breaks the 25-actions quota, writes, then reads
    /// back what it wrote. Exits 1 if any association failed; a re-run converges.
    Apply {
        /// Manifest files, or directories of *.yaml / *.yml files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Also remove associations the manifests do not declare, on the artifacts they name or
        /// select (never on any other artifact).
        #[arg(long)]
        prune: bool,
        #[command(flatten)]
        tuning: Tuning,
        /// One call per association (idempotency tokens) or batches of up to 50.
        #[arg(long, value_enum, default_value_t = Strategy::Single)]
        strategy: Strategy,
        /// Skip reading back what was written (and healing what a replayed token hid).
        #[arg(long)]
        no_verify: bool,
    },
    /// Print the current associations of products as a manifest.
    ///
    /// One compact entry per product and set of actions, artifacts sharing the same actions
    /// grouped; names as comments. Applying the output changes nothing.
    Export(export::ExportArgs),
    /// Print the manifest's JSON Schema.
    Schema,
    /// Print a shell completion script.
    ///
    /// bash: `sc-assoc completions bash > ~/.local/share/bash-completion/completions/sc-assoc`
    ///
    /// zsh: `sc-assoc completions zsh > "${fpath[1]}/_sc-assoc"`
    ///
    /// fish: `sc-assoc completions fish > ~/.config/fish/completions/sc-assoc.fish`
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Run a full plan and apply against an embedded local catalog: no AWS account needed.
    Demo {
        /// Simulated service latency per call, in milliseconds.
        #[arg(long, default_value_t = 40)]
        latency_ms: u64,
    },
    /// Serve the local Service Catalog stand-in over HTTP.
    LocalCatalog(demo::LocalCatalogArgs),
}

/// Shells `completions` writes scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// Knobs shared by the commands that call AWS.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Calls")]
pub struct Tuning {
    /// Calls in flight at most.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
    /// Pace all calls. `auto` (the default) measures the account's rate from its throttled
    /// replies and runs at it; N sends at most N calls per second (a rate you know);
    /// `unlimited` does not pace (the SDK's retries alone handle throttling).
    #[arg(long, default_value = "auto", value_parser = parse_rate)]
    pub rate: Rate,
    /// Give up on one HTTP attempt after this many seconds (retries follow).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub call_timeout: u64,
    /// Stop dispatching new calls after this many seconds, report, and exit 1.
    #[arg(long)]
    pub deadline: Option<u64>,
}

/// A client-side rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    Fixed(f64),
    Auto,
    Unlimited,
}

fn parse_rate(text: &str) -> Result<Rate, String> {
    match text {
        "auto" => return Ok(Rate::Auto),
        "unlimited" => return Ok(Rate::Unlimited),
        _ => {}
    }
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(Rate::Fixed(rate)),
        _ => Err(format!(
            "`{text}` is not a positive number of calls per second, `auto` or `unlimited`"
        )),
    }
}

impl Tuning {
    /// The pacer every call of the run goes through (`None`: unpaced).
    fn pacer(&self) -> Option<std::sync::Arc<Pacer>> {
        let pacer = match self.rate {
            Rate::Fixed(rate) => Pacer::fixed(rate),
            Rate::Auto => Pacer::adaptive(),
            Rate::Unlimited => return None,
        };
        Some(std::sync::Arc::new(pacer))
    }
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
            prune,
            tuning,
        } => {
            let desired = load(global, paths)?;
            let catalog = connect(global, desired.accept_language, tuning).await?;
            let resolved = resolve(global, &catalog, &desired, tuning).await?;
            commands::plan(
                global,
                &catalog,
                &resolved,
                *prune,
                tuning,
                *detailed_exitcode,
            )
            .await
        }
        Command::Apply {
            paths,
            prune,
            tuning,
            strategy,
            no_verify,
        } => {
            let desired = load(global, paths)?;
            let catalog = connect(global, desired.accept_language, tuning).await?;
            let resolved = resolve(global, &catalog, &desired, tuning).await?;
            let verify = if *no_verify {
                Verify::Off
            } else {
                Verify::On {
                    salt: commands::run_salt(),
                }
            };
            let run = commands::ApplyRun {
                prune: *prune,
                strategy: *strategy,
                verify,
            };
            commands::apply(global, &catalog, &resolved, tuning, &run).await
        }
        Command::Export(args) => {
            let catalog = connect(global, None, &args.tuning).await?;
            export::run(global, &catalog, args).await
        }
        Command::Completions { shell } => {
            let shell = match shell {
                Shell::Bash => clap_complete::Shell::Bash,
                Shell::Zsh => clap_complete::Shell::Zsh,
                Shell::Fish => clap_complete::Shell::Fish,
            };
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "sc-assoc",
                &mut std::io::stdout(),
            );
            Ok(EXIT_OK)
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
    if global.quiet {
        return Ok(EXIT_OK);
    }
    let (declared, files) = (desired.triples.len(), desired.files.len());
    let pending = desired.declarations.len();
    match global.output {
        OutputFormat::Text if pending == 0 => {
            println!("{declared} association(s) declared in {files} file(s): valid.")
        }
        OutputFormat::Text => println!(
            "{declared} association(s) declared with ids, and {pending} entr{} with names or \
             selectors that plan resolves, in {files} file(s): valid.",
            if pending == 1 { "y" } else { "ies" }
        ),
        OutputFormat::Json => {
            let mut document = serde_json::json!({
                "valid": true,
                "files": desired.files,
                "associations": declared,
            });
            if pending > 0 {
                document["entries_to_resolve"] = pending.into();
            }
            println!("{document}")
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

/// Resolves names and selectors through `catalog`; a name that matches nothing (or more than one
/// thing) is a manifest error, reported like any other and before any write.
async fn resolve(
    global: &GlobalArgs,
    catalog: &AwsCatalog,
    desired: &DesiredSet,
    tuning: &Tuning,
) -> anyhow::Result<Resolved> {
    let resolved = crate::resolve::resolve(catalog, desired, tuning.concurrency as usize)
        .await
        .map_err(|error| match error {
            ResolveError::Invalid(errors) => anyhow::Error::new(errors::ManifestInvalid(errors)),
            api @ ResolveError::Api(_) => anyhow::Error::new(api),
        })?;
    if !global.quiet {
        for warning in &resolved.warnings {
            eprintln!("{warning}");
        }
    }
    Ok(resolved)
}

async fn connect(
    global: &GlobalArgs,
    manifest_language: Option<AcceptLanguage>,
    tuning: &Tuning,
) -> anyhow::Result<AwsCatalog> {
    let mut options = AwsOptions {
        profile: global.profile.clone(),
        region: global.region.clone(),
        endpoint_url: global.endpoint_url.clone(),
        pacer: tuning.pacer(),
        ..AwsOptions::default()
    };
    options.attempt_timeout = std::time::Duration::from_secs(tuning.call_timeout);
    // Every attempt may time out; the call as a whole gets room for its retries.
    options.operation_timeout = options.attempt_timeout * options.max_attempts;
    let language = global.accept_language.or(manifest_language);
    options.accept_language = language.and_then(|l| l.api_value()).map(str::to_string);
    AwsCatalog::connect(&options)
        .await
        .context("cannot set up the AWS client")
}

/// The triples of a manifest written with ids only (the demo's).
fn desired_triples(desired: &DesiredSet) -> BTreeSet<Triple> {
    desired.triples.keys().cloned().collect()
}
