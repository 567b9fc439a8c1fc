//! Many targets in one run: the same pipeline ([`run::plan_manifest`], then for apply
//! [`run::execute`]) once per (account, region), at most `target_concurrency` targets at a time.
//! Each target has its own client, credentials and pacer (a [`Connect`] makes them: rate limits
//! are per account and region, so one throttled spoke never slows another), its own names and
//! selectors resolved in it, and its own stop switch, a child of the run's: an interrupt or the
//! deadline stops every target, while a failure that every further call of one target would
//! repeat (its role refused, its region not enabled) stops that target alone. Whatever happens
//! to one target is reported on it; the others proceed.
//!
//! [`run::plan_manifest`]: crate::run::plan_manifest
//! [`run::execute`]: crate::run::execute

use crate::apply::{ApplyOptions, Strategy};
use crate::aws::SetupError;
use crate::control::{RunControl, StopReason};
use crate::manifest::{Location, TargetDesired};
use crate::plan::QuotaViolation;
use crate::progress::{Phase, Reporter};
use crate::run::{Planned, Report, RunError, RunSettings, Verify, execute, plan_manifest};
use crate::saved::{ScopeError, read_planned_scope};
use crate::seam::{ApiResult, Catalog};
use crate::target::TargetSpec;
use crate::triple::Triple;
use futures::StreamExt;
use std::collections::BTreeSet;
use std::future::Future;
use std::time::{Duration, Instant};

/// Makes the client of one target.
pub trait Connect {
    type Catalog: Catalog;
    /// A client for `target`, with credentials proven (a role that cannot be assumed fails
    /// here, for this target alone).
    fn connect(
        &self,
        target: &TargetSpec,
    ) -> impl Future<Output = Result<Self::Catalog, SetupError>>;

    /// The account `catalog`'s credentials belong to, if this kind of client can tell: a saved
    /// plan records it, and applying the plan checks it, so a plan made in one account is never
    /// applied in another.
    fn caller_account(
        &self,
        _catalog: &Self::Catalog,
    ) -> impl Future<Output = ApiResult<Option<String>>> {
        async { Ok(None) }
    }
}

/// What each target does.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Resolve, read, check and plan; nothing is written.
    Plan,
    /// Plan, then apply and verify, target by target (a target applies as soon as its own plan
    /// is made; no target waits for the others).
    Apply { strategy: Strategy, verify: Verify },
}

/// How a run over targets goes.
#[derive(Debug, Clone)]
pub struct FleetSettings {
    /// Calls in flight at most, per target.
    pub concurrency: usize,
    /// Targets worked on at once, at most.
    pub target_concurrency: usize,
    /// Also remove undeclared associations on each target's in-scope artifacts.
    pub prune: bool,
    /// The run's stop switch; each target gets a child of it.
    pub control: RunControl,
    /// Setting one target up (STS `AssumeRole` included) may take this long at most.
    pub connect_timeout: Duration,
    pub mode: Mode,
    /// For a saved plan (`plan --out`): also read the planned scope's state and learn the
    /// account of targets that do not name one.
    pub save: bool,
}

/// Why a target has no plan or no report. The other targets are not affected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// Its client could not be set up: credentials, the role, the profile, the region.
    #[error("cannot set up the client for this target")]
    Connect(#[source] SetupError),
    /// Setting up did not finish within [`FleetSettings::connect_timeout`].
    #[error(
        "setting up the client for this target took longer than {} s (finding or assuming credentials); nothing was applied",
        .0.as_secs()
    )]
    ConnectTimeout(Duration),
    /// No plan: names that do not resolve, ids that do not exist, a failure while reading.
    #[error(transparent)]
    Plan(RunError),
    /// The plan would break the per-artifact action quota; nothing was written.
    #[error("the plan would exceed the service-action quota; nothing was applied:\n  {}", quota_lines(.0))]
    Quota(Vec<QuotaViolation>),
    /// The run stopped (interrupt, deadline) before this target started.
    #[error("not started: {0}")]
    NotStarted(StopReason),
    /// The run stopped while this target's client was being set up (its role being assumed).
    #[error(
        "{0} while setting up the client for this target (finding or assuming its credentials); nothing was applied"
    )]
    ConnectStopped(StopReason),
}

fn quota_lines(violations: &[QuotaViolation]) -> String {
    violations
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join("\n  ")
}

/// One target's run: its plan (or why there is none) and, for apply, its report.
#[derive(Debug)]
pub struct TargetRun {
    pub target: TargetSpec,
    /// Where the manifests declared it; `None` for the implicit current target.
    pub location: Option<Location>,
    pub planned: Result<Planned, TargetError>,
    /// The apply report, when the target was applied.
    pub report: Option<Report>,
    /// Why this target stopped early, if it did.
    pub stop: Option<StopReason>,
    pub elapsed: Duration,
    /// With [`FleetSettings::save`]: the planned scope's state, and the account the target's
    /// credentials belong to.
    pub saved: Option<Result<ForSaving, ScopeError>>,
}

/// What a saved plan needs beyond the plan.
#[derive(Debug)]
pub struct ForSaving {
    pub observed: BTreeSet<Triple>,
    pub account: Option<String>,
}

impl TargetRun {
    /// True when this target did not end well: no plan, a triple unreadable or failed, or a
    /// stop.
    pub fn failed(&self) -> bool {
        match (&self.planned, &self.report) {
            (Err(_), _) => true,
            (Ok(_), _) if self.stop.is_some() => true,
            (Ok(_), _) if matches!(self.saved, Some(Err(_))) => true,
            (Ok(_), Some(report)) => !report.converged(),
            (Ok(planned), None) => {
                !planned.prepared.unreadable.is_empty()
                    || !planned.prepared.quota_violations.is_empty()
            }
        }
    }

    /// True when the plan has changes to make.
    pub fn has_changes(&self) -> bool {
        self.planned
            .as_ref()
            .is_ok_and(|p| p.prepared.plan.has_changes())
    }
}

/// Runs every target of `targets` (plan, or plan then apply), `target_concurrency` at a time,
/// and returns one [`TargetRun`] per target in the order given. Never fails as a whole: each
/// target's failure is on its own entry. `reporter` hears one `Phase::Targets` unit per target
/// done, and every target's warnings prefixed with the target.
pub async fn run_targets<K: Connect>(
    connector: &K,
    targets: &[TargetDesired],
    settings: &FleetSettings,
    reporter: &dyn Reporter,
) -> Vec<TargetRun> {
    reporter.start(Phase::Targets, targets.len() as u64);
    let mut runs: Vec<(usize, TargetRun)> = futures::stream::iter(targets.iter().enumerate())
        .map(|(index, target)| async move {
            let run = run_one(connector, target, settings, reporter).await;
            reporter.advance(Phase::Targets, 1);
            (index, run)
        })
        .buffer_unordered(settings.target_concurrency.max(1))
        .collect()
        .await;
    reporter.finish(Phase::Targets);
    runs.sort_by_key(|(index, _)| *index);
    runs.into_iter().map(|(_, run)| run).collect()
}

async fn run_one<K: Connect>(
    connector: &K,
    declared: &TargetDesired,
    settings: &FleetSettings,
    outer: &dyn Reporter,
) -> TargetRun {
    let started = Instant::now();
    let mut run = TargetRun {
        target: declared.target.clone(),
        location: declared.location.clone(),
        planned: Err(TargetError::NotStarted(StopReason::Interrupted)),
        report: None,
        stop: None,
        elapsed: Duration::ZERO,
        saved: None,
    };
    if let Some(reason) = settings.control.reason() {
        run.planned = Err(TargetError::NotStarted(reason));
        return run;
    }
    let control = settings.control.child();
    let reporter = Prefixed {
        label: declared.target.to_string(),
        outer,
    };
    let connected = tokio::select! {
        connected = tokio::time::timeout(settings.connect_timeout, connector.connect(&declared.target)) => {
            match connected {
                Ok(Ok(catalog)) => Ok(catalog),
                Ok(Err(error)) => Err(TargetError::Connect(error)),
                Err(_) => Err(TargetError::ConnectTimeout(settings.connect_timeout)),
            }
        }
        () = control.stopped() => Err(TargetError::ConnectStopped(
            control.reason().unwrap_or(StopReason::Interrupted),
        )),
    };
    let catalog = match connected {
        Ok(catalog) => catalog,
        Err(error) => {
            run.planned = Err(error);
            run.elapsed = started.elapsed();
            return run;
        }
    };
    let run_settings = RunSettings {
        concurrency: settings.concurrency,
        prune: settings.prune,
        control: control.clone(),
    };
    let planned = plan_manifest(&catalog, &declared.desired, &run_settings, &reporter).await;
    let planned = match planned {
        Ok(planned) => planned,
        Err(error) => {
            run.planned = Err(TargetError::Plan(error));
            run.stop = control.reason();
            run.elapsed = started.elapsed();
            return run;
        }
    };
    if let Mode::Apply { strategy, verify } = &settings.mode {
        if !planned.prepared.quota_violations.is_empty() {
            run.planned = Err(TargetError::Quota(planned.prepared.quota_violations));
            run.elapsed = started.elapsed();
            return run;
        }
        let options = ApplyOptions {
            concurrency: settings.concurrency,
            strategy: *strategy,
            control: control.clone(),
            ..ApplyOptions::default()
        };
        run.report = Some(execute(&catalog, &planned.prepared, &options, verify, &reporter).await);
    } else if settings.save {
        let guarded = crate::control::Guarded::new(&catalog, control.clone());
        let scope = read_planned_scope(
            &guarded,
            &planned.prepared.plan,
            settings.concurrency,
            &reporter,
        )
        .await;
        run.saved = Some(match scope {
            Err(error) => Err(error),
            Ok(observed) => {
                let account = match &declared.target.account {
                    Some(account) => Ok(Some(account.clone())),
                    None => connector.caller_account(&catalog).await,
                };
                account
                    .map(|account| ForSaving { observed, account })
                    .map_err(ScopeError::Account)
            }
        });
    }
    run.stop = control.reason();
    run.planned = Ok(planned);
    run.elapsed = started.elapsed();
    run
}

/// A target's progress is not drawn (bars of concurrent targets would overwrite each other);
/// its warnings are passed on with the target's name in front.
struct Prefixed<'a> {
    label: String,
    outer: &'a dyn Reporter,
}

impl Reporter for Prefixed<'_> {
    fn start(&self, _: Phase, _: u64) {}
    fn advance(&self, _: Phase, _: u64) {}
    fn finish(&self, _: Phase) {}
    fn warn(&self, message: &str) {
        self.outer.warn(&format!("{}: {message}", self.label));
    }
}
