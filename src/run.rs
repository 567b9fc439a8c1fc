//! One reconciliation, end to end, in the order a reviewer expects: read the observed state for
//! the manifest's scope, compute the plan, check it against the quota, then (for apply) carry it
//! out. Both `plan` and `apply` go through [`prepare_target`], so what `plan` printed is what
//! `apply` would do. The [`Report`] gathers every triple's outcome, call counts and timings.

use crate::apply::{ApplyOptions, Outcome, Status, apply_changes};
use crate::observe::{
    Direction, DirectionChoice, FatalReadError, choose_direction, read_observed, read_scope,
};
use crate::plan::{
    MAX_ACTIONS_PER_ARTIFACT, Plan, QuotaViolation, plan, plan_with_prune, quota_violations,
};
use crate::progress::{Phase, Reporter};
use crate::resolve::Resolved;
use crate::seam::{ApiError, Catalog};
use crate::triple::Triple;
use crate::verify::verify_and_heal;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// The observed state and the plan drawn from it.
#[derive(Debug)]
pub struct Prepared {
    pub direction: DirectionChoice,
    pub plan: Plan,
    /// Declared triples whose state could not be read; they are left out of the plan.
    pub unreadable: BTreeMap<Triple, ApiError>,
    pub quota_violations: Vec<QuotaViolation>,
    pub desired_count: usize,
    pub read_time: Duration,
    pub read_calls: u64,
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
    /// The resolved manifest, pruning its scope when `prune` is set.
    pub fn from_resolved(resolved: &Resolved, prune: bool) -> Self {
        Self {
            desired: resolved.triple_set(),
            prune: prune.then(|| resolved.scope.clone()),
        }
    }
}

/// Reads the observed state for `desired` and plans against it (no prune).
pub async fn prepare<C: Catalog>(
    catalog: &C,
    desired: &BTreeSet<Triple>,
    concurrency: usize,
    reporter: &dyn Reporter,
) -> Result<Prepared, FatalReadError> {
    let target = Target {
        desired: desired.clone(),
        prune: None,
    };
    prepare_target(catalog, &target, concurrency, reporter).await
}

/// Reads the observed state for `target` and plans against it.
pub async fn prepare_target<C: Catalog>(
    catalog: &C,
    target: &Target,
    concurrency: usize,
    reporter: &dyn Reporter,
) -> Result<Prepared, FatalReadError> {
    let started = Instant::now();
    let calls_before = total_calls(catalog);
    let desired = &target.desired;
    let mut direction = choose_direction(desired);
    if target.prune.is_some() {
        // Pruning must see every action on each in-scope artifact (see `observe`).
        direction.direction = Direction::ByArtifact;
    }
    tracing::info!(
        direction = ?direction.direction,
        by_artifact_calls = direction.by_artifact_calls,
        by_action_calls = direction.by_action_calls,
        desired = desired.len(),
        prune = target.prune.is_some(),
        "reading current associations"
    );
    let observed = match &target.prune {
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
        .filter(|t| !observed.unreadable.contains_key(*t));
    let plan = match &target.prune {
        Some(scope) => plan_with_prune(readable, &observed.associations, scope),
        None => plan(readable, &observed.associations),
    };
    let quota_violations =
        quota_violations(&plan, &observed.associations, MAX_ACTIONS_PER_ARTIFACT);
    Ok(Prepared {
        direction,
        plan,
        unreadable: observed.unreadable,
        quota_violations,
        desired_count: desired.len(),
        read_time: started.elapsed(),
        read_calls: total_calls(catalog) - calls_before,
    })
}

fn total_calls<C: Catalog>(catalog: &C) -> u64 {
    catalog.call_counts().values().sum()
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
}

/// Calls made, by kind and by operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Calls {
    pub reads: u64,
    pub writes: u64,
    pub by_operation: BTreeMap<&'static str, u64>,
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
    pub direction: DirectionChoice,
    pub summary: Summary,
    pub outcomes: Vec<Outcome>,
    pub calls: Calls,
    pub timings: Timings,
}

impl Report {
    /// True when every declared triple is now associated (and every pruned one removed).
    pub fn converged(&self) -> bool {
        self.summary.failed == 0 && self.summary.not_attempted == 0
    }

    pub fn failures(&self) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter().filter(|o| o.status == Status::Failed)
    }
}

/// Whether and how to read back what apply made.
#[derive(Debug, Clone)]
pub enum Verify {
    /// Trust the write replies.
    Off,
    /// Read back created triples and re-apply missing ones with tokens salted by this string.
    On { salt: String },
}

/// Applies a prepared plan, verifies it, and reports on every declared triple.
pub async fn execute<C: Catalog>(
    catalog: &C,
    prepared: &Prepared,
    options: &ApplyOptions,
    verify: &Verify,
    reporter: &dyn Reporter,
) -> Report {
    let started = Instant::now();
    let plan = &prepared.plan;
    let mut applied =
        apply_changes(catalog, &plan.to_remove, &plan.to_add, options, reporter).await;
    let apply_time = started.elapsed();
    let started = Instant::now();
    // After an interrupt or a deadline, the user wants out: verification would make new calls.
    if let Verify::On { salt } = verify
        && !options.stopped()
        && let Err(error) =
            verify_and_heal(catalog, &mut applied, salt, options.concurrency, reporter).await
    {
        reporter.warn(&format!("verification skipped: {error}"));
    }
    let verify_time = started.elapsed();
    let mut outcomes: Vec<Outcome> = applied;
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
        },
        timings: Timings {
            read_ms: prepared.read_time.as_millis() as u64,
            apply_ms: apply_time.as_millis() as u64,
            verify_ms: verify_time.as_millis() as u64,
        },
    }
}

/// Operations that change associations.
fn is_write(operation: &str) -> bool {
    operation.starts_with("Associate")
        || operation.starts_with("Disassociate")
        || operation.starts_with("BatchAssociate")
        || operation.starts_with("BatchDisassociate")
}
