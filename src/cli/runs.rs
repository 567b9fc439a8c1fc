//! `plan` and `apply` as a user runs them, for manifests and saved plans alike: the arguments
//! resolved once into what to run ([`Job`]), the library's two-phase pipeline
//! ([`pipeline::plan`], then [`Planning::apply`]), the question before removals between the
//! phases, the result laid out for one target or many ([`layout`]), and the exit code, decided
//! once ([`exit_code`]). `demo` runs through here too, against its embedded catalogs.

use super::layout::{self, Layout, Shown};
use super::progress::CliReporter;
use super::{
    EXIT_CHANGES, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, GlobalArgs, OutputFormat, Tuning, prompt,
};
use anyhow::Context;
use sc_assoc::aws::{AwsBase, AwsConnector};
use sc_assoc::control::{RunControl, StopReason};
use sc_assoc::document::Totals;
use sc_assoc::manifest::{TargetDesired, Targeted};
use sc_assoc::pipeline::{self, Planning, TargetRun};
use sc_assoc::saved::{self, SavedPlan};
use sc_assoc::settings::Settings;
use sc_assoc::target::TargetFilter;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What the user asked of the targets.
pub enum Verb {
    Plan {
        detailed_exitcode: bool,
        /// Save the plan to this file (`plan --out`).
        out: Option<PathBuf>,
    },
    Apply {
        /// `--yes`: make the removals of `--prune` without asking.
        yes: bool,
    },
}

/// A run resolved from the arguments: which targets, from which files, shown how.
pub struct Job {
    pub targets: Vec<TargetDesired>,
    pub files: Vec<PathBuf>,
    pub layout: Layout,
    /// What each organisational unit stood for.
    pub units: Vec<sc_assoc::org::UnitExpansion>,
    /// Accounts of the units that `exclude_accounts` left out.
    pub excluded: Vec<sc_assoc::manifest::Located<String>>,
    /// `--shard`, and how many targets the run has before it.
    pub shard: Option<sc_assoc::document::ShardBody>,
}

impl Job {
    /// What the output says besides the targets.
    pub fn about(&self) -> layout::About<'_> {
        layout::About {
            plan_file: None,
            units: &self.units,
            excluded: &self.excluded,
            shard: self.shard,
        }
    }

    /// Keeps the targets of `shard` (after `--target`), noting how many there were.
    pub fn shard(mut self, shard: Option<sc_assoc::target::Shard>) -> Job {
        let Some(shard) = shard else {
            return self;
        };
        let total = self.targets.len();
        self.targets.retain(|t| shard.contains(&t.target));
        // A slice is one of many: its output names its targets, as a multi-target run does.
        self.layout = Layout::Grouped;
        self.shard = Some(sc_assoc::document::ShardBody {
            index: shard.index,
            count: shard.count,
            targets_total: total,
        });
        self
    }
}

impl Job {
    /// The targets `--target` selects of `targeted` (all when none is given), each without a
    /// region of its own given `default_region` first, so filters and labels name real regions.
    /// A filter that selects nothing is an error listing the targets there are: a typo must not
    /// run zero targets and exit 0. A manifest without `targets:` is laid out as one target,
    /// unless `--target` picks targets by name.
    pub fn resolve(
        targeted: Targeted,
        default_region: Option<String>,
        filters: &[TargetFilter],
    ) -> anyhow::Result<Job> {
        let layout = if targeted.declared || !filters.is_empty() {
            Layout::Grouped
        } else {
            Layout::Single
        };
        let mut targets = targeted.targets;
        for declared in &mut targets {
            if declared.target.region.is_none() {
                declared.target.region = default_region.clone();
            }
            declared.desired.accept_language = declared
                .desired
                .accept_language
                .or(targeted.accept_language);
        }
        if let Some(unmatched) = filters
            .iter()
            .find(|f| !targets.iter().any(|t| t.target.matches(f)))
        {
            let known: Vec<String> = targets.iter().map(|t| t.target.to_string()).collect();
            anyhow::bail!(
                "--target {unmatched} matches none of the manifests' targets: {}",
                known.join(", ")
            );
        }
        if !filters.is_empty() {
            targets.retain(|t| filters.iter().any(|f| t.target.matches(f)));
        }
        Ok(Job {
            targets,
            files: targeted.files,
            layout,
            units: targeted.expanded,
            excluded: targeted.excluded,
            shard: None,
        })
    }
}

/// What a run is made with: the base AWS configuration, the knobs, progress and the stop
/// switch.
pub struct With<'a> {
    pub base: &'a AwsBase,
    pub tuning: &'a Tuning,
    pub reporter: &'a CliReporter,
    pub settings: Settings,
}

impl With<'_> {
    fn connector<'p>(
        &'p self,
        pacer: &'p (dyn Fn(Option<&str>) -> Option<Arc<sc_assoc::pace::Pacer>> + Sync),
    ) -> AwsConnector<'p> {
        AwsConnector {
            base: self.base,
            pacer,
        }
    }
}

/// Plans every target of `job`, then saves the plan or applies it, renders, and says the exit
/// code.
pub async fn run(global: &GlobalArgs, with: &With<'_>, job: Job, verb: Verb) -> anyhow::Result<u8> {
    let pacers = with.tuning.pacers();
    let make_pacer = |key: Option<&str>| pacers.pacer(key);
    let connector = with.connector(&make_pacer);
    let settings = &with.settings;
    let planning = pipeline::plan(&connector, &job.targets, settings, with.reporter).await;
    match verb {
        Verb::Plan {
            detailed_exitcode,
            out,
        } => {
            let saved = match &out {
                Some(out) if !planning.any_failed() => Some(
                    save(&connector, &planning, &job, with, out)
                        .await
                        .map(|()| out.clone()),
                ),
                _ => None,
            };
            let runs = planning.into_runs();
            layout::render(global, job.layout, &runs, Shown::Plans, job.about())?;
            match (&saved, &out) {
                (Some(Ok(out)), _) if !global.quiet => eprintln!(
                    "Saved the plan to {}: review it with `sc-assoc show {0}`, apply it with `sc-assoc apply {0}`.",
                    out.display()
                ),
                (Some(Err(error)), _) => {
                    super::errors::report(global.output, error);
                    return Ok(EXIT_FAILURE);
                }
                (None, Some(out)) => eprintln!(
                    "error: no plan file was written to {}: a target failed",
                    out.display()
                ),
                _ => {}
            }
            Ok(exit_code(
                global,
                job.layout,
                &runs,
                &settings.control,
                Outcome::Planned { detailed_exitcode },
            ))
        }
        Verb::Apply { yes } => {
            let shown = job.layout == Layout::Single
                && global.output == OutputFormat::Text
                && !global.quiet;
            if shown {
                // One target: its plan first, as it is about to be carried out.
                layout::render(
                    global,
                    Layout::Single,
                    &runs_of(&planning),
                    Shown::PlanAhead,
                    job.about(),
                )?;
            }
            confirm_removals(&planning, settings, yes, shown).await?;
            let runs = planning.apply(settings, with.reporter).await;
            layout::render(global, job.layout, &runs, Shown::Reports, job.about())?;
            Ok(exit_code(
                global,
                job.layout,
                &runs,
                &settings.control,
                Outcome::Applied,
            ))
        }
    }
}

/// The runs of a planning, for showing before the second phase.
fn runs_of<C>(planning: &Planning<C>) -> Vec<&TargetRun> {
    planning.runs().collect()
}

/// Asks before removals, at a terminal, unless `--yes`: what is confirmed must be on the
/// screen, so the plans go to stderr beside the question when stdout did not show them.
async fn confirm_removals<C>(
    planning: &Planning<C>,
    settings: &Settings,
    yes: bool,
    shown: bool,
) -> anyhow::Result<()> {
    let removals = planning.removals();
    let (stdin_tty, stderr_tty) = prompt::terminal();
    match prompt::guard(removals, yes, stdin_tty, stderr_tty) {
        prompt::Guard::Proceed => return Ok(()),
        prompt::Guard::Refuse => anyhow::bail!(
            "the plan removes {}, and no one is at a terminal to confirm \
             it; nothing was applied (pass --yes to remove without asking, or apply a reviewed \
             plan: plan --out plan.json, then apply plan.json)",
            removal_words(removals)
        ),
        prompt::Guard::Ask => {}
    }
    if !(shown && std::io::stdout().is_terminal()) {
        eprintln!("{}", layout::plans_text(&runs_of(planning)));
    }
    if !prompt::ask(removals, &settings.control).await {
        if matches!(settings.control.reason(), Some(StopReason::Interrupted)) {
            return Err(Interrupted("interrupted; nothing was applied".to_string()).into());
        }
        anyhow::bail!("removals not confirmed; nothing was applied");
    }
    Ok(())
}

/// `3 association(s)`, `1 service action(s)`, or both.
fn removal_words(removals: sc_assoc::pipeline::Removals) -> String {
    match (removals.associations, removals.actions) {
        (associations, 0) => format!("{associations} association(s)"),
        (0, actions) => format!("{actions} service action(s)"),
        (associations, actions) => {
            format!("{associations} association(s) and {actions} service action(s)")
        }
    }
}

/// An interrupt before anything was applied (at the question, or before any target): the
/// message says what was under way, and the exit code says interrupted (130).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Interrupted(String);

/// The error of a run stopped `doing` something before its targets: exit 130 when it was
/// interrupted, 1 at the deadline, as for a stop in any other phase.
fn stopped_before(control: &RunControl, doing: &str, nothing: &str) -> anyhow::Error {
    let reason = control.reason();
    let message = format!(
        "{} while {doing}; {nothing}",
        super::errors::stopped_while(reason.as_ref())
    );
    match reason {
        Some(StopReason::Interrupted) | None => Interrupted(message).into(),
        Some(_) => anyhow::Error::msg(message),
    }
}

/// Writes the plan file for `planning`, whole or not at all.
async fn save<K: sc_assoc::seam::Connect>(
    connector: &K,
    planning: &Planning<K::Catalog>,
    job: &Job,
    with: &With<'_>,
    out: &Path,
) -> anyhow::Result<()> {
    let mut plan = SavedPlan::capture(
        connector,
        planning,
        &job.files,
        &with.settings,
        with.reporter,
    )
    .await?;
    plan.organizational_units = job.units.clone();
    plan.shard = job.shard;
    plan.write(out)?;
    Ok(())
}

/// `apply PLANFILE`: every target checked (credentials, account, planned scope unchanged), then,
/// only if all are, every target's changes applied and settled, never asking (the review was
/// the plan).
pub async fn apply_plan_file(
    global: &GlobalArgs,
    with: &With<'_>,
    path: &Path,
    plan: &SavedPlan,
) -> anyhow::Result<u8> {
    let pacers = with.tuning.pacers();
    let make_pacer = |key: Option<&str>| pacers.pacer(key);
    let connector = with.connector(&make_pacer);
    let settings = &with.settings;
    let planning = saved::check(&connector, plan, settings, with.reporter).await;
    if matches!(settings.control.reason(), Some(StopReason::Interrupted)) {
        eprintln!("interrupted while checking the plan; nothing was applied");
        return Ok(EXIT_INTERRUPTED);
    }
    if planning.any_failed() {
        return layout::refused(global, path, &runs_of(&planning));
    }
    let runs = planning.apply(settings, with.reporter).await;
    let file = path.display().to_string();
    // What the plan's units stood for and its slice, as when it was made.
    let about = layout::About {
        plan_file: Some(&file),
        units: &plan.organizational_units,
        excluded: &[],
        shard: plan.shard,
    };
    layout::render(global, Layout::Grouped, &runs, Shown::Reports, about)?;
    Ok(exit_code(
        global,
        Layout::Grouped,
        &runs,
        &settings.control,
        Outcome::Applied,
    ))
}

/// How a run ended, for the exit code.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    Planned { detailed_exitcode: bool },
    Applied,
}

/// The exit code of a run, and the closing line that explains a failure: 130 after an
/// interrupt; 1 for any failed target (or the deadline, or a failure every call would repeat);
/// 2 for `plan --detailed-exitcode` with changes; else 0.
fn exit_code(
    global: &GlobalArgs,
    layout: Layout,
    runs: &[TargetRun],
    control: &RunControl,
    outcome: Outcome,
) -> u8 {
    let totals = Totals::of(runs);
    let verb = match outcome {
        Outcome::Planned { .. } => "plan",
        Outcome::Applied => "apply",
    };
    let text = global.output == OutputFormat::Text;
    match control.reason() {
        Some(StopReason::Interrupted) => {
            // Without a report, the error already said what the interrupt stopped.
            match layout {
                Layout::Grouped => eprintln!(
                    "interrupted: the results above are partial; run {verb} again to finish"
                ),
                Layout::Single if runs.iter().any(|r| r.report.is_some()) => eprintln!(
                    "interrupted: the report above is partial; run {verb} again to finish"
                ),
                Layout::Single => {}
            }
            return EXIT_INTERRUPTED;
        }
        Some(StopReason::Deadline) if matches!(outcome, Outcome::Applied) && text => {
            eprintln!(
                "error: the deadline was reached: calls in flight were given 2 s, then abandoned; run apply again to finish"
            );
            return EXIT_FAILURE;
        }
        _ => {}
    }
    if totals.failed > 0 {
        if layout == Layout::Grouped && text {
            eprintln!(
                "error: {} of {} target(s) failed: {}",
                totals.failed,
                totals.targets,
                totals.failed_labels.join(", ")
            );
        }
        return EXIT_FAILURE;
    }
    match outcome {
        Outcome::Planned {
            detailed_exitcode: true,
        } if totals.with_changes > 0 => EXIT_CHANGES,
        _ => EXIT_OK,
    }
}

/// Loads the base AWS configuration (the default chain or `--profile`, the endpoint, the default
/// region) within the run's stop switch: finding credentials may run a `credential_process` or
/// reach an SSO or metadata endpoint, and none of those may hang a pipeline.
pub async fn base(
    global: &GlobalArgs,
    language: Option<sc_assoc::manifest::AcceptLanguage>,
    tuning: &Tuning,
    control: &RunControl,
    nothing: &str,
) -> anyhow::Result<AwsBase> {
    let options = super::aws_options(global, language, tuning);
    tokio::select! {
        base = AwsBase::load(&options) => base.context("cannot set up the AWS client"),
        () = control.stopped() => Err(stopped_before(
            control,
            "setting up the AWS client (finding credentials)",
            nothing,
        )),
    }
}

/// The accounts of the organisational units the manifests name, found with AWS Organizations
/// (the base credentials: the management account or a delegated administrator), made targets;
/// nothing to do when no unit is named. Bounded by the run's stop switch; a unit that cannot be
/// expanded stops the run before any target is planned, since a partial organisation would
/// read as the whole.
pub async fn expand_units(
    base: &AwsBase,
    targeted: Targeted,
    tuning: &Tuning,
    control: &RunControl,
) -> anyhow::Result<Targeted> {
    if !targeted.needs_units() {
        return Ok(targeted);
    }
    let organization = base.organization(tuning.pacer());
    let units: Vec<String> = targeted.units.iter().map(|u| u.value.clone()).collect();
    let expanded = tokio::select! {
        expanded = sc_assoc::org::expand(&organization, &units, tuning.concurrency as usize) => {
            expanded.map_err(|error| {
                // Say where the manifest names the unit that failed.
                let at = targeted
                    .units
                    .iter()
                    .find(|u| u.value == error.unit())
                    .map(|u| format!(" (at {})", u.location))
                    .unwrap_or_default();
                let unit = error.unit().to_string();
                anyhow::Error::new(error).context(format!(
                    "cannot expand the organizational unit `{unit}`{at}; nothing was applied"
                ))
            })?
        }
        () = control.stopped() => Err(stopped_before(
            control,
            "expanding the organizational units",
            "nothing was applied",
        ))?,
    };
    for unit in &expanded {
        tracing::info!(unit = %unit.unit, accounts = unit.accounts.len(), skipped = unit.skipped.len(), "expanded");
    }
    targeted
        .with_units(expanded)
        .map_err(|errors| super::errors::ManifestInvalid(errors).into())
}

/// Names the implicit current target's account when a `--target` names an account: a manifest
/// without `targets:` runs in the credentials' account, and `--target 111111111111` picks it
/// as it would a declared one (and `show` names it so). One STS call, only then.
pub async fn name_current_account(
    base: &AwsBase,
    targeted: &mut Targeted,
    filters: &[TargetFilter],
    control: &RunControl,
) -> anyhow::Result<()> {
    if targeted.declared || filters.iter().all(|f| f.account == "current") {
        return Ok(());
    }
    let account = tokio::select! {
        account = base.caller_account() => account
            .context("cannot tell which account the credentials belong to, which --target names; nothing was applied")?,
        () = control.stopped() => Err(stopped_before(
            control,
            "checking the AWS credentials",
            "nothing was applied",
        ))?,
    };
    for declared in &mut targeted.targets {
        if declared.target.account.is_none() {
            declared.target.account = Some(account.clone());
        }
    }
    Ok(())
}

/// Proves the base credentials once, when targets will assume roles with them: refused base
/// credentials are then one error, before any target, instead of one per target.
pub async fn prove_base(
    base: &AwsBase,
    targets: impl IntoIterator<Item = &'_ sc_assoc::target::TargetSpec>,
    control: &RunControl,
) -> anyhow::Result<()> {
    use sc_assoc::target::Access;
    if !targets
        .into_iter()
        .any(|t| matches!(t.access, Access::Role(_)))
    {
        return Ok(());
    }
    tokio::select! {
        proven = base.caller_account() => proven
            .map(|_| ())
            .context("the base AWS credentials, which assume every target's role, were refused; nothing was applied"),
        () = control.stopped() => Err(stopped_before(
            control,
            "checking the AWS credentials",
            "nothing was applied",
        )),
    }
}

/// The settings of a run from the knobs and the flags.
pub fn settings(
    tuning: &Tuning,
    prune: bool,
    how: Option<(sc_assoc::settings::Strategy, sc_assoc::settings::Verify)>,
    control: RunControl,
) -> Settings {
    let mut settings = Settings {
        concurrency: tuning.concurrency as usize,
        target_concurrency: tuning.target_concurrency as usize,
        prune,
        control,
        connect_timeout: super::operation_timeout(tuning),
        ..Settings::default()
    };
    if let Some((strategy, verify)) = how {
        settings.strategy = strategy;
        settings.verify = verify;
    }
    settings
}
