//! The command line: argument parsing (clap), wiring the library's pieces together for each
//! command, and mapping outcomes to exit codes and `error:`/`hint:` messages. Data goes to
//! stdout; progress, warnings, logs and errors go to stderr.

mod colour;
mod completions;
mod demo;
mod errors;
mod export;
mod layout;
mod logging;
mod man;
mod manifests;
mod output;
mod progress;
mod prompt;
mod runs;
mod saved;
mod signals;
mod tuning;

use clap::{Args, Parser, Subcommand, ValueEnum};
use progress::{CliReporter, ProgressMode};
use sc_assoc::aws::AwsOptions;
use sc_assoc::manifest::{self, AcceptLanguage, Targeted};
use sc_assoc::settings::{Strategy, Verify};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tuning::parse_endpoint_url;
pub use tuning::{DEFAULT_CALL_TIMEOUT_SECS, DEFAULT_TARGET_CONCURRENCY, Rate, Tuning};

/// Exit code: the run completed and everything converged (or, for plan, nothing to change).
pub const EXIT_OK: u8 = 0;
/// Exit code: an error, or at least one triple failed.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code of `plan --detailed-exitcode` when there are changes to apply. Nothing else
/// exits 2: usage errors exit 1, so a typo never reads as "there are changes".
pub const EXIT_CHANGES: u8 = 2;
/// Exit code after an interrupt, as shells report SIGINT.
pub const EXIT_INTERRUPTED: u8 = 130;

/// What `--version` prints after the name: the package version and the commit it was built from.
const VERSION: &str = sc_assoc::VERSION;

#[derive(Debug, Parser)]
#[command(
    name = "sc-assoc",
    version = VERSION,
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
    /// Send requests to this URL instead of the regional endpoint.
    // The value is hidden from `--help`: a URL may carry a password.
    #[arg(
        long,
        global = true,
        env = "AWS_ENDPOINT_URL",
        hide_env_values = true,
        value_parser = parse_endpoint_url
    )]
    pub endpoint_url: Option<String>,
    /// Language of API answers; overrides the manifests' `accept_language`.
    #[arg(long, global = true, value_enum)]
    pub accept_language: Option<LanguageArg>,
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
    /// Colour the plan's +/- lines: auto on a terminal without NO_COLOR or TERM=dumb, always even
    /// with NO_COLOR. JSON never.
    #[arg(long, global = true, value_enum, default_value_t = colour::ColorChoice::Auto)]
    pub color: colour::ColorChoice,
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
        /// Also write the plan to this file, for `apply FILE` to carry out exactly (after
        /// checking that nothing it touches changed) and `show FILE` to render.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        tuning: Tuning,
    },
    /// Associate every declared service action that is not yet associated.
    ///
    /// Plans as `plan` does, refuses a plan that breaks the 25-actions quota, writes, then reads
    /// back what it wrote. Exits 1 if any association failed; a re-run converges.
    Apply {
        /// Manifest files, or directories of *.yaml / *.yml files; or one plan file written by
        /// `plan --out`, applied exactly as planned.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Also remove associations the manifests do not declare, on the artifacts they name or
        /// select (never on any other artifact).
        #[arg(long)]
        prune: bool,
        /// Make the removals of --prune without asking (the prompt appears only on a terminal).
        ///
        /// On a terminal, apply --prune asks before it removes anything and only `yes` goes on
        /// (over several targets it cannot ask, and refuses without --yes). Off a terminal (a
        /// pipeline, a script) it never asks and applies the plan as it stands.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        tuning: Tuning,
        /// One call per association (idempotency tokens) or batches of up to 50.
        #[arg(long, value_enum, default_value_t = StrategyArg::Single)]
        strategy: StrategyArg,
        /// Skip reading back what was written: no healing of what a replayed token hid, and no
        /// waiting for the listings to show the changes (a plan run right after may not see
        /// them yet).
        #[arg(long)]
        no_verify: bool,
        /// How long to wait, at most, for the listings to show what was written (they lag the
        /// service's writes). Past it, the changes not yet shown are listed and the run exits 1.
        #[arg(
            long,
            value_name = "SECS",
            default_value_t = 60,
            conflicts_with = "no_verify"
        )]
        settle: u64,
    },
    /// Print the current associations of products as a manifest.
    ///
    /// One compact entry per product and set of actions, artifacts sharing the same actions
    /// grouped; names as comments. Applying the output changes nothing.
    Export(export::ExportArgs),
    /// Print a saved plan (`plan --out FILE`) as text, or with --output json as JSON with a
    /// summary per target.
    Show {
        /// The plan file.
        file: PathBuf,
    },
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
    /// Print a manual page (roff), generated from the same definitions as `--help`.
    ///
    /// `sc-assoc man` is sc-assoc(1); `sc-assoc man plan` is sc-assoc-plan(1), and so on for
    /// every command. Read one with `sc-assoc man | man -l -`.
    Man {
        /// The command whose page to print; the main page when absent.
        command: Option<String>,
    },
    /// Run a full plan and apply against an embedded local catalog: no AWS account needed.
    Demo {
        /// Simulated service latency per call, in milliseconds.
        #[arg(long, default_value_t = 40)]
        latency_ms: u64,
        /// How long the embedded catalog's listings take to show a write, in milliseconds (plus
        /// up to half as much again at random), as AWS's listings lag its writes.
        #[arg(long, default_value_t = 1000)]
        listing_lag_ms: u64,
    },
    /// Serve the local Service Catalog stand-in over HTTP.
    LocalCatalog(demo::LocalCatalogArgs),
}

/// `--strategy`: the library's [`Strategy`], spelled for the command line (clap stays out of
/// the library's types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    /// One Associate call per triple, each with its idempotency token.
    Single,
    /// BatchAssociate calls of up to 50 triples (no idempotency token).
    Batch,
}

impl From<StrategyArg> for Strategy {
    fn from(arg: StrategyArg) -> Self {
        match arg {
            StrategyArg::Single => Strategy::Single,
            StrategyArg::Batch => Strategy::Batch,
        }
    }
}

/// `--accept-language`: the manifest's [`AcceptLanguage`], spelled for the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LanguageArg {
    En,
    Jp,
    Zh,
}

impl From<LanguageArg> for AcceptLanguage {
    fn from(arg: LanguageArg) -> Self {
        match arg {
            LanguageArg::En => AcceptLanguage::En,
            LanguageArg::Jp => AcceptLanguage::Jp,
            LanguageArg::Zh => AcceptLanguage::Zh,
        }
    }
}

/// Shells `completions` writes scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// Parses arguments, runs, and returns the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(error),
    };
    init_logging(&cli.global);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            errors::report(
                cli.global.output,
                &anyhow::Error::new(err).context("cannot start the async runtime"),
            );
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let format = cli.global.output;
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            errors::report(format, &err);
            if err.downcast_ref::<runs::Interrupted>().is_some() {
                return ExitCode::from(EXIT_INTERRUPTED);
            }
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// `--help` and `--version` print and exit 0; every other parse failure is a usage error, exit
/// 1 (clap's own 2 would read as "there are changes" to `plan --detailed-exitcode` users).
fn usage_error(error: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let informational = matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    if informational && error.kind() != ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        // Help and version are the command's output: stdout, and a closed pipe is no error.
        let _ = emit(&error.render().to_string());
        return ExitCode::from(EXIT_OK);
    }
    if wants_json(std::env::args()) {
        errors::report_usage_json(&error.render().to_string());
    } else {
        let _ = error.print();
    }
    ExitCode::from(EXIT_FAILURE)
}

/// Whether the raw arguments ask for JSON output, for errors found before they could be parsed.
fn wants_json(args: impl Iterator<Item = String>) -> bool {
    let args: Vec<String> = args.collect();
    args.iter().any(|a| a == "--output=json")
        || args
            .windows(2)
            .any(|pair| pair[0] == "--output" && pair[1] == "json")
}

/// Writes a command's data to stdout. A reader that went away (`sc-assoc … | head`) ends the
/// output quietly: the rest is dropped and the command's own exit code stands. Other write
/// failures (a full disk) are errors.
pub fn emit(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => Err(anyhow::Error::new(error).context("cannot write to standard output")),
    }
}

/// Logs go to stderr. Even at -vv the AWS crates log at info at most: their trace level dumps
/// requests, and signatures or session tokens must never reach a log. aws-config's assume-role
/// provider is silenced: it logs STS's refusal as a Debug dump, and the target's own error
/// already says it, once, under the target.
fn init_logging(global: &GlobalArgs) {
    let filter = match (global.quiet, global.verbose) {
        (true, _) => "error",
        // The SDK's own warnings dump its structures (`ProviderError(… SdkBody …)`); what they
        // are about reaches the user as sc-assoc's own error, with a hint.
        (false, 0) => "off,sc_assoc=warn",
        (false, 1) => "warn,aws_config::sts=off,sc_assoc=info",
        (false, _) => {
            "warn,sc_assoc=debug,aws_config=info,aws_config::sts=off,aws_smithy_runtime=info"
        }
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(logging::RedactingStderr)
        .with_ansi(progress::colour_on_stderr())
        .with_target(false)
        .try_init();
}

async fn run(cli: Cli) -> anyhow::Result<u8> {
    let global = &cli.global;
    match &cli.command {
        Command::Validate { paths } => manifests::validate(global, paths),
        Command::Show { file } => saved::show(global, file),
        Command::Schema => {
            emit(&manifest::json_schema_string())?;
            Ok(EXIT_OK)
        }
        Command::Plan {
            paths,
            detailed_exitcode,
            prune,
            out,
            tuning,
        } => {
            let targeted = manifests::load(global, paths)?;
            let verb = runs::Verb::Plan {
                detailed_exitcode: *detailed_exitcode,
                out: out.clone(),
            };
            let start = Start {
                tuning,
                prune: *prune,
                how: None,
            };
            start.run(global, targeted, verb).await
        }
        Command::Apply {
            paths,
            prune,
            yes,
            tuning,
            strategy,
            no_verify,
            settle,
        } => {
            let verify = if *no_verify {
                Verify::Off
            } else {
                Verify::On {
                    settle: std::time::Duration::from_secs(*settle),
                }
            };
            let how = Some(((*strategy).into(), verify));
            if saved::is_plan_file(paths) {
                if *prune {
                    anyhow::bail!(
                        "--prune is decided by the plan file (it was made with or without it); leave it out here"
                    );
                }
                return apply_plan_file(global, &paths[0], tuning, how).await;
            }
            let targeted = manifests::load(global, paths)?;
            let start = Start {
                tuning,
                prune: *prune,
                how,
            };
            start
                .run(global, targeted, runs::Verb::Apply { yes: *yes })
                .await
        }
        Command::Export(args) => export::run(global, args).await,
        Command::Completions { shell } => {
            emit(&completions::script(*shell))?;
            Ok(EXIT_OK)
        }
        Command::Man { command } => {
            emit(&man::page(command.as_deref()).map_err(anyhow::Error::msg)?)?;
            Ok(EXIT_OK)
        }
        Command::Demo {
            latency_ms,
            listing_lag_ms,
        } => {
            let service = demo::DemoService {
                latency_ms: *latency_ms,
                listing_lag_ms: *listing_lag_ms,
            };
            demo::run(global, service).await
        }
        Command::LocalCatalog(args) => demo::serve(args).await,
    }
}

/// How `plan` or `apply` of manifests starts: the stop switch (signals and the deadline,
/// watched from before the base configuration is loaded), the base configuration, the job.
struct Start<'a> {
    tuning: &'a Tuning,
    prune: bool,
    how: Option<(Strategy, Verify)>,
}

impl Start<'_> {
    async fn run(
        self,
        global: &GlobalArgs,
        targeted: Targeted,
        verb: runs::Verb,
    ) -> anyhow::Result<u8> {
        let reporter = Arc::new(reporter(global));
        let control = signals::watch(reporter.clone(), self.tuning.deadline());
        let language = targeted.accept_language;
        let base = runs::base(
            global,
            language,
            self.tuning,
            &control,
            "nothing was applied",
        )
        .await?;
        let mut targeted = runs::expand_units(&base, targeted, self.tuning, &control).await?;
        runs::name_current_account(&base, &mut targeted, &self.tuning.targets, &control).await?;
        let job = runs::Job::resolve(targeted, base.default_region(), &self.tuning.targets)?
            .shard(self.tuning.shard);
        runs::prove_base(&base, job.targets.iter().map(|t| &t.target), &control).await?;
        let with = runs::With {
            base: &base,
            tuning: self.tuning,
            reporter: reporter.as_ref(),
            settings: runs::settings(self.tuning, self.prune, self.how, control),
        };
        runs::run(global, &with, job, verb).await
    }
}

/// `apply PLANFILE`: the plan read (and refused, when damaged, before anything is called), then
/// checked and applied.
async fn apply_plan_file(
    global: &GlobalArgs,
    path: &std::path::Path,
    tuning: &Tuning,
    how: Option<(Strategy, Verify)>,
) -> anyhow::Result<u8> {
    use anyhow::Context;
    let plan = sc_assoc::saved::SavedPlan::read(path)
        .context("the plan was not applied; nothing was written")?;
    let reporter = Arc::new(reporter(global));
    let control = signals::watch(reporter.clone(), tuning.deadline());
    let base = runs::base(global, None, tuning, &control, "nothing was applied").await?;
    let specs: Vec<_> = plan.targets.iter().map(|t| t.spec()).collect();
    runs::prove_base(&base, &specs, &control).await?;
    let with = runs::With {
        base: &base,
        tuning,
        reporter: reporter.as_ref(),
        settings: runs::settings(tuning, plan.prune, how, control),
    };
    runs::apply_plan_file(global, &with, path, &plan).await
}

fn reporter(global: &GlobalArgs) -> CliReporter {
    CliReporter::new(
        ProgressMode::detect(global.quiet, global.no_progress),
        global.quiet,
    )
}

/// The client options the flags ask for (no pacer: each client gets its own).
fn aws_options(
    global: &GlobalArgs,
    manifest_language: Option<AcceptLanguage>,
    tuning: &Tuning,
) -> AwsOptions {
    let mut options = AwsOptions {
        profile: global.profile.clone(),
        region: global.region.clone(),
        endpoint_url: global.endpoint_url.clone(),
        ..AwsOptions::default()
    };
    options.attempt_timeout = std::time::Duration::from_secs(tuning.call_timeout);
    options.operation_timeout = operation_timeout(tuning);
    let language = global
        .accept_language
        .map(AcceptLanguage::from)
        .or(manifest_language);
    options.accept_language = language.and_then(|l| l.api_value()).map(str::to_string);
    options
}

/// One call with all its retries: every attempt may time out, so the call as a whole gets room
/// for them all ([`AwsOptions::max_attempts`] attempts of `--call-timeout`).
fn operation_timeout(tuning: &Tuning) -> std::time::Duration {
    std::time::Duration::from_secs(tuning.call_timeout) * AwsOptions::default().max_attempts
}
