//! One pipeline for every kind of run, over any number of targets (one account and region, or
//! many), in two phases: [`plan`] every target, then [`Planning::apply`] the planned ones. A
//! manifest without `targets:` is a run of one target, the current account and region.
//!
//! [`for_each_target`] is the one loop over targets that planning, checking a saved plan
//! ([`crate::saved::check`]) and exporting all go through. It owns what they share: each
//! target's client made through the [`Connect`] seam within [`Settings::connect_timeout`] and the
//! run's stop switch, each target under a child of that switch (an interrupt or the deadline
//! stops every target, while a failure every further call of one target would repeat, its role
//! refused or its region not enabled, stops that target alone), `target_concurrency` targets at
//! a time, results in the order the targets were given, one [`Phase::Targets`] unit of progress
//! per target, and each target's warnings prefixed with its name. Whatever happens to one target
//! is reported on it; the others proceed.
//!
//! Between the phases the caller has every plan in hand: it can show them, ask before removals,
//! or save them ([`crate::saved::SavedPlan::capture`]); applying a saved plan is the same second
//! phase on a [`Planning`] made from the file.

use crate::control::{Guarded, RunControl, StopReason};
use crate::drift::CheckError;
use crate::export::ExportError;
use crate::manifest::{Location, TargetDesired};
use crate::plan::QuotaViolation;
use crate::progress::{Phase, Reporter};
use crate::run::{Planned, Report, RunError, execute, plan_manifest};
use crate::seam::{Catalog, Connect, SetupError};
use crate::settings::Settings;
use crate::target::TargetSpec;
use futures::{FutureExt, StreamExt};
use std::future::Future;
use std::time::{Duration, Instant};

/// Why a target has no plan or no report. The other targets are not affected.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// Its client could not be set up: credentials, the role, the profile, the region.
    #[error("cannot set up the client for this target")]
    Connect(#[source] SetupError),
    /// Setting up did not finish within [`Settings::connect_timeout`].
    #[error(
        "setting up the client for this target took longer than {} s (finding or assuming credentials); nothing was applied",
        .0.as_secs()
    )]
    ConnectTimeout(Duration),
    /// The run stopped (interrupt, deadline) before this target started.
    #[error("not started: {0}")]
    NotStarted(StopReason),
    /// The run stopped while this target's client was being set up (its role being assumed).
    #[error(
        "{0} while setting up the client for this target (finding or assuming its credentials); nothing was applied"
    )]
    ConnectStopped(StopReason),
    /// No plan: names that do not resolve, ids that do not exist, a failure while reading.
    #[error(transparent)]
    Plan(RunError),
    /// The plan would break the per-artifact action quota; nothing was written.
    #[error("the plan would exceed the service-action quota; nothing was applied:\n  {}", quota_lines(.0))]
    Quota(Vec<QuotaViolation>),
    /// A saved plan's target does not check out against the world; nothing was written.
    #[error(transparent)]
    Check(CheckError),
    /// Its state could not be exported.
    #[error(transparent)]
    Export(ExportError),
}

fn quota_lines(violations: &[QuotaViolation]) -> String {
    violations
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join("\n  ")
}

/// What the loop hands each target's work: its client, its stop switch (a child of the run's)
/// and where its progress and warnings go.
pub struct Reached<'r, C> {
    pub catalog: C,
    pub control: RunControl,
    pub reporter: TargetReporter<'r>,
}

/// One target's turn through [`for_each_target`]: what its work returned, or why it was not
/// reached, and how it ended.
#[derive(Debug)]
pub struct Visit<T> {
    pub outcome: Result<T, TargetError>,
    /// Why this target stopped early, if it did.
    pub stop: Option<StopReason>,
    pub elapsed: Duration,
}

/// Runs `work` on every target of `targets`: each target's client made (within the connect
/// timeout and the stop switch), then `work` with it, `target_concurrency` targets at a time.
/// Returns one [`Visit`] per target, in the order given. Never fails as a whole.
pub async fn for_each_target<'r, K, T, F, Fut>(
    connector: &K,
    targets: &[TargetSpec],
    settings: &Settings,
    reporter: &'r dyn Reporter,
    work: F,
) -> Vec<Visit<T>>
where
    K: Connect,
    F: Fn(usize, Reached<'r, K::Catalog>) -> Fut,
    Fut: Future<Output = Result<T, TargetError>>,
{
    // One target shows its own progress; many show one unit per target, since bars of targets
    // running side by side would overwrite each other.
    let alone = targets.len() == 1;
    if !alone {
        reporter.start(Phase::Targets, targets.len() as u64);
    }
    let mut visits: Vec<(usize, Visit<T>)> = futures::stream::iter(targets.iter().enumerate())
        .map(|(index, target)| {
            let work = &work;
            async move {
                let visit = visit(connector, target, settings, reporter, alone, |reached| {
                    work(index, reached)
                })
                .await;
                if !alone {
                    reporter.advance(Phase::Targets, 1);
                }
                (index, visit)
            }
        })
        .buffer_unordered(settings.target_concurrency.max(1))
        .collect()
        .await;
    if !alone {
        reporter.finish(Phase::Targets);
    }
    visits.sort_by_key(|(index, _)| *index);
    visits.into_iter().map(|(_, visit)| visit).collect()
}

async fn visit<'r, K, T, Fut>(
    connector: &K,
    target: &TargetSpec,
    settings: &Settings,
    outer: &'r dyn Reporter,
    alone: bool,
    work: impl FnOnce(Reached<'r, K::Catalog>) -> Fut,
) -> Visit<T>
where
    K: Connect,
    Fut: Future<Output = Result<T, TargetError>>,
{
    let started = Instant::now();
    if let Some(reason) = settings.control.reason() {
        return Visit {
            outcome: Err(TargetError::NotStarted(reason)),
            stop: None,
            elapsed: Duration::ZERO,
        };
    }
    let control = settings.control.child();
    let connected = tokio::select! {
        connected = tokio::time::timeout(settings.connect_timeout, connector.connect(target)) => {
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
    let outcome = match connected {
        Ok(catalog) => {
            let reporter = TargetReporter::of(outer, target, alone);
            work(Reached {
                catalog,
                control: control.clone(),
                reporter,
            })
            .await
        }
        Err(error) => Err(error),
    };
    let stop = match &outcome {
        // The target never ran: its stop is told by the error itself.
        Err(TargetError::ConnectStopped(_) | TargetError::NotStarted(_)) => None,
        _ => control.reason(),
    };
    Visit {
        outcome,
        stop,
        elapsed: started.elapsed(),
    }
}

/// Where one target's progress and warnings go: straight through when it is the run's only
/// target; otherwise its progress is not drawn and its warnings carry its name.
pub struct TargetReporter<'r> {
    label: Option<String>,
    outer: &'r dyn Reporter,
}

impl<'r> TargetReporter<'r> {
    /// `outer` as `target` sees it: drawn through when it is the run's only target, named
    /// otherwise.
    pub fn of(outer: &'r dyn Reporter, target: &TargetSpec, alone: bool) -> Self {
        TargetReporter {
            label: (!alone).then(|| target.to_string()),
            outer,
        }
    }
}

impl Clone for TargetReporter<'_> {
    fn clone(&self) -> Self {
        TargetReporter {
            label: self.label.clone(),
            outer: self.outer,
        }
    }
}

impl Reporter for TargetReporter<'_> {
    fn start(&self, phase: Phase, total: u64) {
        if self.label.is_none() {
            self.outer.start(phase, total);
        }
    }
    fn advance(&self, phase: Phase, count: u64) {
        if self.label.is_none() {
            self.outer.advance(phase, count);
        }
    }
    fn finish(&self, phase: Phase) {
        if self.label.is_none() {
            self.outer.finish(phase);
        }
    }
    fn warn(&self, message: &str) {
        match &self.label {
            Some(label) => self.outer.warn(&format!("{label}: {message}")),
            None => self.outer.warn(message),
        }
    }
}

/// One target's run: its plan (or why there is none) and, once applied, its report.
#[derive(Debug)]
pub struct TargetRun {
    pub target: TargetSpec,
    /// Where the manifests declared it; `None` for the implicit current target and for targets
    /// of a saved plan.
    pub location: Option<Location>,
    pub planned: Result<Planned, TargetError>,
    /// The apply report, when the target was applied.
    pub report: Option<Report>,
    /// Why this target stopped early, if it did.
    pub stop: Option<StopReason>,
    pub elapsed: Duration,
}

impl TargetRun {
    /// True when this target did not end well: no plan, a triple unreadable, a quota broken,
    /// a change not made (or not yet shown), or a stop.
    pub fn failed(&self) -> bool {
        match (&self.planned, &self.report) {
            (Err(_), _) => true,
            (Ok(_), _) if self.stop.is_some() => true,
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
            .is_ok_and(|p| p.prepared.has_changes())
    }
}

/// What a run removes: associations and service actions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Removals {
    pub associations: usize,
    pub actions: usize,
}

impl Removals {
    pub fn any(self) -> bool {
        self.associations + self.actions > 0
    }
}

/// Every target planned: each one's run so far and, for those that planned, the client and stop
/// switch the second phase applies with.
pub struct Planning<C> {
    pub(crate) targets: Vec<(TargetRun, Option<(C, RunControl)>)>,
}

impl<C> std::fmt::Debug for Planning<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Planning")
            .field("targets", &self.runs().collect::<Vec<_>>())
            .finish()
    }
}

impl<C> Planning<C> {
    /// Each target's run: its plan or why it has none.
    pub fn runs(&self) -> impl Iterator<Item = &TargetRun> {
        self.targets.iter().map(|(run, _)| run)
    }

    /// The runs, without applying: the result of a plan.
    pub fn into_runs(self) -> Vec<TargetRun> {
        self.targets.into_iter().map(|(run, _)| run).collect()
    }

    /// Removals planned over every target (what the removal guard is about): associations
    /// (`--prune`'s, and those of `absent` actions) and service actions to delete.
    pub fn removals(&self) -> Removals {
        let mut removals = Removals::default();
        for planned in self.runs().filter_map(|run| run.planned.as_ref().ok()) {
            removals.associations += planned.prepared.plan.to_remove.len();
            removals.actions += planned.prepared.actions.counts().delete;
        }
        removals
    }

    /// True when some target has no plan (or stopped while planning).
    pub fn any_failed(&self) -> bool {
        self.runs().any(TargetRun::failed)
    }
}

impl<C: Catalog> Planning<C> {
    /// The second phase: every target that planned is applied and settled, under its own stop
    /// switch, `target_concurrency` at a time; a target whose plan would break the quota gets
    /// no write. Returns one [`TargetRun`] per target, in the order planned.
    pub async fn apply(self, settings: &Settings, reporter: &dyn Reporter) -> Vec<TargetRun> {
        let count = self.targets.len();
        let alone = count == 1;
        if !alone {
            reporter.start(Phase::Targets, count as u64);
        }
        let mut runs: Vec<(usize, TargetRun)> =
            futures::stream::iter(self.targets.into_iter().enumerate())
                .map(|(index, (run, client))| async move {
                    let run = match client {
                        Some((catalog, control)) => {
                            let reporter = TargetReporter::of(reporter, &run.target, alone);
                            apply_one(run, &catalog, control, settings, &reporter).await
                        }
                        None => run,
                    };
                    if !alone {
                        reporter.advance(Phase::Targets, 1);
                    }
                    (index, run)
                })
                .buffer_unordered(settings.target_concurrency.max(1))
                .collect()
                .await;
        if !alone {
            reporter.finish(Phase::Targets);
        }
        runs.sort_by_key(|(index, _)| *index);
        runs.into_iter().map(|(_, run)| run).collect()
    }
}

/// Applies and settles one planned target under `control`, unless its plan would break the
/// quota.
async fn apply_one<C: Catalog>(
    mut run: TargetRun,
    catalog: &C,
    control: RunControl,
    settings: &Settings,
    reporter: &dyn Reporter,
) -> TargetRun {
    let planned = match run.planned {
        Ok(planned) => planned,
        Err(error) => {
            run.planned = Err(error);
            return run;
        }
    };
    if !planned.prepared.quota_violations.is_empty() {
        run.planned = Err(TargetError::Quota(planned.prepared.quota_violations));
        return run;
    }
    let started = Instant::now();
    let report = execute(
        catalog,
        &planned.prepared,
        &settings.under(control.clone()),
        reporter,
    )
    .boxed_local()
    .await;
    run.planned = Ok(planned);
    run.report = Some(report);
    run.stop = control.reason();
    run.elapsed += started.elapsed();
    run
}

/// The first phase: every target of `targets` resolved, read, checked and planned, nothing
/// written. Each keeps its client for [`Planning::apply`].
pub async fn plan<K: Connect>(
    connector: &K,
    targets: &[TargetDesired],
    settings: &Settings,
    reporter: &dyn Reporter,
) -> Planning<K::Catalog> {
    let specs: Vec<TargetSpec> = targets.iter().map(|t| t.target.clone()).collect();
    let visits = for_each_target(
        connector,
        &specs,
        settings,
        reporter,
        |index, reached| async move {
            let Reached {
                catalog,
                control,
                reporter,
            } = reached;
            let target_settings = settings.under(control.clone());
            // Boxed: the whole run's future type would otherwise be deeper than a caller's
            // compiler follows by default (its recursion limit).
            let planned = plan_manifest(
                &catalog,
                &targets[index].desired,
                &target_settings,
                &reporter,
            )
            .boxed_local()
            .await
            .map_err(TargetError::Plan)?;
            Ok((planned, catalog, control))
        },
    )
    .await;
    let targets = targets
        .iter()
        .zip(visits)
        .map(|(declared, visit)| {
            let (planned, client) = match visit.outcome {
                Ok((planned, catalog, control)) => (Ok(planned), Some((catalog, control))),
                Err(error) => (Err(error), None),
            };
            let run = TargetRun {
                target: declared.target.clone(),
                location: declared.location.clone(),
                planned,
                report: None,
                stop: visit.stop,
                elapsed: visit.elapsed,
            };
            (run, client)
        })
        .collect();
    Planning { targets }
}

/// The catalog of a target, bounded by its stop switch, for work done through the loop.
pub fn guarded<'a, C: Catalog>(reached: &'a Reached<'_, C>) -> Guarded<'a, C> {
    Guarded::new(&reached.catalog, reached.control.clone())
}
