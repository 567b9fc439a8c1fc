//! Checking a saved plan against the world before applying it: the planned scope's state read
//! again (`read_planned_scope`), compared with what the plan saw ([`Drift`]), the account of
//! the credentials compared with the planned one, target by target ([`check`]).

use super::{SavedAccess, SavedPlan, SavedTarget};
use crate::actions::{ActionStep, Definition};
use crate::drift::{CheckError, Drift};
use crate::observe::read_planned_scope;
use crate::pipeline::{Planning, Reached, TargetError, TargetRun, for_each_target, guarded};
use crate::progress::Reporter;
use crate::seam::Connect;
use crate::seam::{Catalog, ErrorKind};
use crate::settings::Settings;
use crate::triple::Triple;
use std::collections::BTreeSet;

/// Each service action the plan changes, read again: one to create must still have no
/// namesake, one to update must still have the definition the plan saw, one to delete must
/// still exist with the associations the plan removes.
async fn check_actions<C: Catalog>(catalog: &C, target: &SavedTarget) -> Result<(), CheckError> {
    if target.actions.is_empty() {
        return Ok(());
    }
    let changed = |name: &str, what: String| CheckError::ActionChanged {
        name: name.to_string(),
        what,
    };
    let listed = catalog
        .list_service_actions()
        .await
        .map_err(CheckError::Actions)?;
    for action in &target.actions {
        match &action.step {
            ActionStep::Create { .. } => {
                if let Some(found) = listed
                    .iter()
                    .find(|a| a.name.as_deref() == Some(action.name.as_str()))
                {
                    return Err(changed(
                        &action.name,
                        format!("an action of that name exists now ({})", found.id),
                    ));
                }
            }
            ActionStep::Update { id, current, .. } => {
                let now = match catalog.describe_service_action(id).await {
                    Ok(detail) => Definition::observed(&detail),
                    Err(error) if error.kind == ErrorKind::NotFound => {
                        return Err(changed(&action.name, format!("{id} was deleted")));
                    }
                    Err(error) => return Err(CheckError::Actions(error)),
                };
                let differences = now.changes(current);
                if !differences.is_empty() {
                    let fields: Vec<&str> = differences.iter().map(|c| c.field.as_str()).collect();
                    return Err(changed(
                        &action.name,
                        format!("its {} differ from what the plan saw", fields.join(", ")),
                    ));
                }
            }
            ActionStep::Delete { id, associations } => {
                let views = match catalog.list_artifacts_for_action(id).await {
                    Ok(views) => views,
                    Err(error) if error.kind == ErrorKind::NotFound => {
                        return Err(changed(&action.name, format!("{id} was deleted")));
                    }
                    Err(error) => return Err(CheckError::Actions(error)),
                };
                let now: BTreeSet<(&str, &str)> = views
                    .iter()
                    .map(|v| (v.product_id.as_str(), v.artifact_id.as_str()))
                    .collect();
                let planned: BTreeSet<(&str, &str)> = associations
                    .iter()
                    .map(|t| (t.product.as_str(), t.artifact.as_str()))
                    .collect();
                if now != planned {
                    return Err(changed(
                        &action.name,
                        format!(
                            "it is associated with {} artifact(s) now, {} when planned",
                            now.len(),
                            planned.len()
                        ),
                    ));
                }
            }
            ActionStep::InSync { .. } | ActionStep::AlreadyAbsent => {}
        }
    }
    Ok(())
}

/// The first phase for a saved plan: every target connected, its credentials' account checked
/// against the planned one, its planned scope re-read and compared with what the plan saw,
/// through the one target loop. Only when every target checks out should any be applied: the
/// plan was reviewed whole ([`Planning::any_failed`]).
pub async fn check<K: Connect>(
    connector: &K,
    plan: &SavedPlan,
    settings: &Settings,
    reporter: &dyn Reporter,
) -> Planning<K::Catalog> {
    let specs: Vec<_> = plan.targets.iter().map(SavedTarget::spec).collect();
    let visits = for_each_target(connector, &specs, settings, reporter, |index, reached| {
        let target = &plan.targets[index];
        async move {
            check_one(connector, target, &reached, settings.concurrency)
                .await
                .map_err(TargetError::Check)?;
            Ok((reached.catalog, reached.control))
        }
    })
    .await;
    let targets = plan
        .targets
        .iter()
        .zip(visits)
        .map(|(target, visit)| {
            let (planned, client) = match visit.outcome {
                Ok(client) => (Ok(target.planned()), Some(client)),
                Err(error) => (Err(error), None),
            };
            let run = TargetRun {
                target: target.spec(),
                location: None,
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

async fn check_one<K: Connect>(
    connector: &K,
    target: &SavedTarget,
    reached: &Reached<'_, K::Catalog>,
    concurrency: usize,
) -> Result<(), CheckError> {
    // A role names its account; the default credentials and profiles do not, so the account
    // they had at plan time is checked first.
    if let (Some(expected), SavedAccess::Default | SavedAccess::Profile { .. }) =
        (&target.account, &target.access)
        && let Some(actual) = connector
            .caller_account(&reached.catalog)
            .await
            .map_err(CheckError::Account)?
        && &actual != expected
    {
        return Err(CheckError::WrongAccount {
            expected: expected.clone(),
            actual,
        });
    }
    check_actions(&guarded(reached), target).await?;
    let now = read_planned_scope(
        &guarded(reached),
        &target.plan(),
        concurrency,
        &reached.reporter,
    )
    .await
    .map_err(CheckError::Scope)?;
    let drift = Drift::between(&target.observed, &now);
    if drift.is_empty() {
        return Ok(());
    }
    // Exactly the plan's own changes, made: by this plan, applied before (or by someone who
    // did the same).
    let plan = target.plan();
    let mut applied: BTreeSet<Triple> = target.observed.iter().cloned().collect();
    applied.extend(plan.to_add.iter().cloned());
    for removed in &plan.to_remove {
        applied.remove(removed);
    }
    if applied == now {
        Err(CheckError::AlreadyApplied(target.changes.len()))
    } else {
        Err(CheckError::Stale(drift))
    }
}
