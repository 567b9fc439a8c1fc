//! One reconciliation, end to end, in the order a reviewer expects: resolve the manifest's names
//! and selectors, read the observed state for its scope, prove its ids exist, compute the plan,
//! check it against the quota, then (for apply) carry it out and verify it. `plan`, `apply` and
//! `demo` all go through [`plan_manifest`] and [`execute`], so what `plan` printed is what
//! `apply` would do, and one [`crate::control::RunControl`] (interrupt, deadline, fatal errors) bounds every
//! phase. The [`Report`] gathers every triple's outcome, call counts and timings.

use crate::actions::{
    ActionOutcome, ActionPlan, ActionPlanError, Place, apply_actions, delete_actions, pending_name,
    plan_actions,
};
use crate::apply::{Outcome, Status, apply_changes};
use crate::check::{Known, check_ids};
use crate::control::{Guarded, StopReason};
use crate::manifest::{DesiredSet, ManifestErrors};
use crate::observe::{
    Direction, DirectionChoice, FatalReadError, choose_direction, read_observed, read_scope,
};
use crate::plan::{
    MAX_ACTIONS_PER_ARTIFACT, Plan, QuotaViolation, plan, plan_with_prune, quota_violations,
};
use crate::progress::{Phase, Reporter};
use crate::resolve::{KnownActions, ResolveError, Resolved, resolve_with};
use crate::seam::{ApiError, Catalog};
use crate::settings::{Settings, Verify};
use crate::triple::Triple;
use crate::verify::{SettleOptions, Settlement, fresh_salt, settle};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// The observed state and the plan drawn from it.
#[derive(Debug)]
pub struct Prepared {
    /// How the state was read; `None` for a plan read back from a file, which was not read in
    /// this run.
    pub direction: Option<DirectionChoice>,
    pub plan: Plan,
    /// Declared triples whose state could not be read; they are left out of the plan.
    pub unreadable: BTreeMap<Triple, ApiError>,
    pub quota_violations: Vec<QuotaViolation>,
    /// The declared service actions and what applying does with them; empty when the manifest
    /// declares none (or for a plan read back from a file that had none).
    pub actions: ActionPlan,
    pub desired_count: usize,
    pub read_time: Duration,
    pub read_calls: u64,
}

impl Prepared {
    /// True when applying would write: an association to make or remove, or a service action
    /// to create, update or delete.
    pub fn has_changes(&self) -> bool {
        self.plan.has_changes() || self.actions.has_changes()
    }
}

/// What a run reconciles: the desired triples and, with prune, the artifacts whose undeclared
/// associations are removed.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub desired: BTreeSet<Triple>,
    /// `Some(scope)` to prune: remove associations that are not desired, on these artifacts
    /// only.
    pub prune: Option<BTreeSet<(String, String)>>,
}

impl Target {
    /// Exactly these triples, no prune.
    pub fn of(desired: &BTreeSet<Triple>) -> Self {
        Self {
            desired: desired.clone(),
            prune: None,
        }
    }

    /// The resolved manifest, pruning its scope when `prune` is set.
    pub fn from_resolved(resolved: &Resolved, prune: bool) -> Self {
        Self {
            desired: resolved.triple_set(),
            prune: prune.then(|| resolved.scope.clone()),
        }
    }
}

/// Reads the observed state for `target` and plans against it.
pub async fn prepare_target<C: Catalog>(
    catalog: &C,
    target: &Target,
    concurrency: usize,
    reporter: &dyn Reporter,
) -> Result<Prepared, FatalReadError> {
    let desired: Vec<&Triple> = target.desired.iter().collect();
    prepare(
        catalog,
        &desired,
        target.prune.as_ref(),
        concurrency,
        reporter,
    )
    .await
}

/// [`prepare_target`] on borrowed triples (`desired` in triple order, no duplicates): a run
/// plans its resolved triples where they are, with no copy of the set (100k triples: ~26 MB).
async fn prepare<C: Catalog>(
    catalog: &C,
    desired: &[&Triple],
    prune: Option<&BTreeSet<(String, String)>>,
    concurrency: usize,
    reporter: &dyn Reporter,
) -> Result<Prepared, FatalReadError> {
    let started = Instant::now();
    let calls_before = total_calls(catalog);
    let mut direction = choose_direction(desired.iter().copied());
    // Pruning must see every action on each in-scope artifact (see `observe`); an action this
    // run creates has no id to list its artifacts by.
    if prune.is_some() || desired.iter().any(|t| pending_name(&t.action).is_some()) {
        direction.direction = Direction::ByArtifact;
    }
    tracing::info!(
        direction = ?direction.direction,
        by_artifact_calls = direction.by_artifact_calls,
        by_action_calls = direction.by_action_calls,
        desired = desired.len(),
        prune = prune.is_some(),
        "reading current associations"
    );
    let observed = match prune {
        Some(scope) => {
            read_scope(catalog, desired, scope, concurrency, Phase::Read, reporter).await?
        }
        None => {
            read_observed(
                catalog,
                desired,
                direction.direction,
                concurrency,
                Phase::Read,
                reporter,
            )
            .await?
        }
    };
    let readable = desired
        .iter()
        .copied()
        .filter(|t| !observed.unreadable.contains_key(*t));
    let plan = match prune {
        Some(scope) => plan_with_prune(readable, &observed.associations, scope),
        None => plan(readable, &observed.associations),
    };
    let quota_violations =
        quota_violations(&plan, &observed.associations, MAX_ACTIONS_PER_ARTIFACT);
    Ok(Prepared {
        direction: Some(direction),
        plan,
        unreadable: observed.unreadable,
        quota_violations,
        actions: ActionPlan::default(),
        desired_count: desired.len(),
        read_time: started.elapsed(),
        read_calls: total_calls(catalog) - calls_before,
    })
}

fn total_calls<C: Catalog>(catalog: &C) -> u64 {
    catalog.call_counts().values().sum()
}

/// The phases of a run before anything is written, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlanPhase {
    Resolve,
    Read,
    Check,
    Actions,
}

impl std::fmt::Display for PlanPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PlanPhase::Resolve => "resolving the manifest's names and selectors",
            PlanPhase::Read => "reading the current associations",
            PlanPhase::Check => "checking that the manifest's ids exist",
            PlanPhase::Actions => "reading the service actions the manifest declares",
        })
    }
}

/// Why no plan could be made. Nothing was written in any of these cases.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// Names, selectors or ids the catalog does not know, each at its manifest location.
    #[error("{0}")]
    Invalid(ManifestErrors),
    /// The run stopped (interrupt, deadline, or a failure every call would repeat).
    #[error("{}", stopped_message(*phase, reason))]
    Stopped {
        phase: PlanPhase,
        reason: StopReason,
    },
    /// A call failed in a way that leaves the plan without a basis (throttling or 5xx past the
    /// retries while resolving or checking).
    #[error("{phase} failed; nothing was applied")]
    Failed {
        phase: PlanPhase,
        #[source]
        error: ApiError,
    },
}

impl RunError {
    /// The API error behind this one, if any: for hints.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            RunError::Stopped {
                reason: StopReason::Fatal(error),
                ..
            }
            | RunError::Failed { error, .. } => Some(error),
            _ => None,
        }
    }
}

fn stopped_message(phase: PlanPhase, reason: &StopReason) -> String {
    match reason {
        StopReason::Interrupted => format!("interrupted while {phase}; nothing was applied"),
        StopReason::Deadline => {
            format!("the deadline was reached while {phase}; nothing was applied")
        }
        StopReason::Fatal(error) => format!("{phase} failed; nothing was applied: {error}"),
    }
}

/// A manifest resolved against the catalog, and the plan drawn from the state read for it.
#[derive(Debug)]
pub struct Planned {
    pub resolved: Resolved,
    pub prepared: Prepared,
}

/// Resolves `desired`, reads the state of its scope, proves its ids exist and plans: every step
/// before the first write, each bounded by `settings.control`.
pub async fn plan_manifest<C: Catalog>(
    catalog: &C,
    desired: &DesiredSet,
    settings: &Settings,
    reporter: &dyn Reporter,
) -> Result<Planned, RunError> {
    let control = &settings.control;
    let guarded = Guarded::new(catalog, control.clone());
    let concurrency = settings.concurrency.max(1);
    let failed = |phase: PlanPhase, error: ApiError| match control.reason() {
        Some(reason) => RunError::Stopped { phase, reason },
        None => RunError::Failed { phase, error },
    };
    let (actions, known_actions) = if desired.actions.is_empty() {
        (ActionPlan::default(), None)
    } else {
        plan_declared_actions(&guarded, desired, concurrency)
            .await
            .map_err(|error| match error {
                ActionPlanError::Invalid(mut diagnostics) => {
                    crate::manifest::sort_diagnostics(&mut diagnostics, &desired.files);
                    RunError::Invalid(ManifestErrors { diagnostics })
                }
                ActionPlanError::Api(error) => failed(PlanPhase::Actions, error),
            })?
    };
    let resolved = resolve_with(&guarded, desired, concurrency, known_actions.as_ref())
        .await
        .map_err(|error| match error {
            ResolveError::Invalid(errors) => RunError::Invalid(errors),
            ResolveError::Api(error) => failed(PlanPhase::Resolve, error),
        })?;
    let desired_triples: Vec<&Triple> = resolved.triples.keys().collect();
    let prune = settings.prune.then_some(&resolved.scope);
    let mut prepared = prepare(&guarded, &desired_triples, prune, concurrency, reporter)
        .await
        .map_err(|FatalReadError(error)| failed(PlanPhase::Read, error))?;
    let calls_before = total_calls(catalog);
    let known = Known {
        triples: &resolved.triples,
        direction: prepared
            .direction
            .map_or(Direction::ByArtifact, |d| d.direction),
        unreadable: &prepared.unreadable,
        actions: resolved.known_actions.as_ref(),
        places: &resolved.places,
    };
    let existence = check_ids(&guarded, &known, concurrency, reporter)
        .await
        .map_err(|error| failed(PlanPhase::Check, error))?;
    prepared.read_calls += total_calls(catalog) - calls_before;
    if !existence.errors.is_empty() {
        let mut diagnostics = existence.errors;
        crate::manifest::sort_diagnostics(&mut diagnostics, &desired.files);
        return Err(RunError::Invalid(ManifestErrors { diagnostics }));
    }
    if let Some(reason) = control.reason() {
        return Err(RunError::Stopped {
            phase: PlanPhase::Read,
            reason,
        });
    }
    // Deleting an `absent` action needs it disassociated everywhere first: those removals join
    // the plan's, under the same guard.
    let removals: BTreeSet<Triple> = prepared
        .plan
        .to_remove
        .iter()
        .chain(actions.removals())
        .cloned()
        .collect();
    prepared.plan.to_remove = removals.into_iter().collect();
    prepared.actions = actions;
    Ok(Planned { resolved, prepared })
}

/// The declared actions planned (`crate::actions`), and what resolution needs of them: the
/// listing, and each declared action's id (pending for one to create).
async fn plan_declared_actions<C: Catalog>(
    catalog: &C,
    desired: &DesiredSet,
    concurrency: usize,
) -> Result<(ActionPlan, Option<KnownActions>), ActionPlanError> {
    let listed = catalog
        .list_service_actions()
        .await
        .map_err(ActionPlanError::Api)?;
    // The account costs a call (STS): asked only when a role ARN names it.
    let needs_account = desired.actions.values().any(|a| {
        a.assume_role
            .as_deref()
            .is_some_and(|role| role.contains(crate::target::ACCOUNT_PLACEHOLDER))
    });
    let account = match needs_account {
        true => catalog.account().await.map_err(ActionPlanError::Api)?,
        false => None,
    };
    let place = Place {
        account,
        region: catalog.region(),
    };
    let plan = plan_actions(catalog, &desired.actions, &listed, &place, concurrency).await?;
    let declared = plan
        .ids()
        .into_iter()
        .map(|(name, id)| (name.to_string(), id))
        .collect();
    Ok((plan, Some(KnownActions { listed, declared })))
}

/// Counts of outcomes by status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub desired: usize,
    pub created: usize,
    pub already_present: usize,
    pub adopted: usize,
    pub healed: usize,
    /// Disassociated by this run (`--prune`).
    pub removed: usize,
    /// Planned for removal but already gone.
    pub already_absent: usize,
    pub failed: usize,
    pub not_attempted: usize,
    /// In flight when the run stopped: the write may or may not have happened.
    pub unknown: usize,
    /// Written, but not shown by the listings within the settle window.
    pub not_visible: usize,
}

/// Calls made, by kind and by operation, and the HTTP attempts behind them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Calls {
    pub reads: u64,
    pub writes: u64,
    pub by_operation: BTreeMap<&'static str, u64>,
    /// Attempts, retries, throttled and failed answers on the wire.
    pub wire: crate::seam::WireStats,
}

/// Wall time of each phase, in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Timings {
    pub read_ms: u64,
    pub apply_ms: u64,
    pub verify_ms: u64,
}

/// The result of an apply: every declared triple's outcome (and every pruned one's), and how
/// the run went.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// How the state was read; absent for a plan applied from a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<DirectionChoice>,
    pub summary: Summary,
    pub outcomes: Vec<Outcome>,
    pub calls: Calls,
    pub timings: Timings,
    /// How the writes were settled: absent when verification was off or there was nothing to
    /// verify.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settle: Option<Settlement>,
    /// Each declared service action's outcome, by name; empty when the manifest declares none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionOutcome>,
}

impl Report {
    /// True when every declared triple is now associated (and every pruned one removed), and
    /// the listings show it.
    pub fn converged(&self) -> bool {
        self.summary.failed == 0
            && self.summary.not_attempted == 0
            && self.summary.unknown == 0
            && self.summary.not_visible == 0
            && self.actions.iter().all(ActionOutcome::ok_status)
    }

    pub fn failures(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter().filter(|o| o.status == Status::Failed)
    }
}

/// Applies a prepared plan, verifies it, and reports on every declared triple.
pub async fn execute<C: Catalog>(
    catalog: &C,
    prepared: &Prepared,
    settings: &Settings,
    reporter: &dyn Reporter,
) -> Report {
    let started = Instant::now();
    let plan = &prepared.plan;
    let guarded = Guarded::new(catalog, settings.control.clone());
    let catalog = &guarded;
    // Actions first: an association may name one this run creates, by its pending id until the
    // create answers with the real one.
    let writes = apply_actions(catalog, &prepared.actions, settings).await;
    let mut waiting: Vec<Outcome> = Vec::new();
    let to_add: Vec<Triple> = plan
        .to_add
        .iter()
        .filter_map(|triple| {
            if pending_name(&triple.action).is_none() {
                return Some(triple.clone());
            }
            if let Some(id) = writes.created.get(&triple.action) {
                return Some(Triple::new(&triple.product, &triple.artifact, id));
            }
            // Its action was not created: the association cannot be made.
            waiting.push(match writes.not_created.get(&triple.action) {
                Some(error) => Outcome::from_error(triple.clone(), error),
                None => Outcome::ok(triple.clone(), Status::NotAttempted),
            });
            None
        })
        .collect();
    let mut applied = apply_changes(catalog, &plan.to_remove, &to_add, settings, reporter).await;
    // Deletes last: an action still associated cannot be deleted.
    let unremoved: BTreeSet<&str> = applied
        .iter()
        .filter(|o| {
            plan.to_remove.contains(&o.triple)
                && !matches!(o.status, Status::Removed | Status::AlreadyAbsent)
        })
        .map(|o| o.triple.action.as_str())
        .collect();
    let mut action_outcomes = writes.outcomes;
    action_outcomes.extend(
        delete_actions(
            catalog,
            &prepared.actions,
            &|id| unremoved.contains(id),
            settings,
        )
        .await,
    );
    action_outcomes.sort_by(|a, b| a.name.cmp(&b.name));
    let apply_time = started.elapsed();
    let started = Instant::now();
    let mut settlement = None;
    // After an interrupt or a deadline, the user wants out: verification would make new calls.
    if let Verify::On { settle: window } = settings.verify
        && !settings.stopped()
        && !applied.is_empty()
    {
        let salt = fresh_salt();
        let settle_options = SettleOptions {
            window,
            strategy: settings.strategy,
            concurrency: settings.concurrency,
            control: &settings.control,
            salt: &salt,
            known: prepared.plan.present.iter().cloned().collect(),
        };
        let (settled, result) = settle(catalog, &mut applied, &settle_options, reporter).await;
        if let Err(error) = result {
            reporter.warn(&format!("verification stopped: {error}"));
        }
        settlement = Some(settled);
    }
    let verify_time = started.elapsed();
    let mut outcomes: Vec<Outcome> = applied;
    outcomes.append(&mut waiting);
    outcomes.extend(
        prepared
            .plan
            .present
            .iter()
            .map(|t| Outcome::ok(t.clone(), Status::AlreadyPresent)),
    );
    outcomes.extend(
        prepared
            .unreadable
            .iter()
            .map(|(t, error)| Outcome::failed(t.clone(), error)),
    );
    outcomes.sort_by(|a, b| a.triple.cmp(&b.triple));
    let mut summary = Summary {
        desired: prepared.desired_count,
        ..Summary::default()
    };
    for outcome in &outcomes {
        match outcome.status {
            Status::Created => summary.created += 1,
            Status::AlreadyPresent => summary.already_present += 1,
            Status::Adopted => summary.adopted += 1,
            Status::Healed => summary.healed += 1,
            Status::Removed => summary.removed += 1,
            Status::AlreadyAbsent => summary.already_absent += 1,
            Status::Failed => summary.failed += 1,
            Status::NotAttempted => summary.not_attempted += 1,
            Status::Unknown => summary.unknown += 1,
            Status::NotVisible => summary.not_visible += 1,
        }
    }
    let by_operation = catalog.call_counts();
    let total: u64 = by_operation.values().sum();
    let writes: u64 = by_operation
        .iter()
        .filter(|(operation, _)| is_write(operation))
        .map(|(_, count)| count)
        .sum();
    Report {
        direction: prepared.direction,
        summary,
        outcomes,
        calls: Calls {
            reads: total - writes,
            writes,
            by_operation,
            wire: catalog.wire_stats(),
        },
        timings: Timings {
            read_ms: prepared.read_time.as_millis() as u64,
            apply_ms: apply_time.as_millis() as u64,
            verify_ms: verify_time.as_millis() as u64,
        },
        settle: settlement,
        actions: action_outcomes,
    }
}

/// Operations that change associations or service actions.
fn is_write(name: &str) -> bool {
    use crate::seam::operation::{
        ASSOCIATE, BATCH_ASSOCIATE, BATCH_DISASSOCIATE, CREATE_SERVICE_ACTION,
        DELETE_SERVICE_ACTION, DISASSOCIATE, UPDATE_SERVICE_ACTION,
    };
    [
        ASSOCIATE,
        DISASSOCIATE,
        BATCH_ASSOCIATE,
        BATCH_DISASSOCIATE,
        CREATE_SERVICE_ACTION,
        UPDATE_SERVICE_ACTION,
        DELETE_SERVICE_ACTION,
    ]
    .contains(&name)
}
