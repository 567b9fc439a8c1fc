//! Reading the current associations for the manifest's scope: which listing direction to use,
//! and running the list calls concurrently under the same bound as apply. A list target that
//! cannot be read marks the triples that depend on it as failed instead of stopping the run.
//!
//! With `--prune` the read is always per artifact (`read_scope`): removing what the manifest
//! does not declare needs every action on each in-scope artifact, and reading per action only
//! ever sees the declared actions. A saved plan records, and checks again before it is
//! applied, the state of its planned scope (`read_planned_scope`).

use crate::dispatch::bounded;
use crate::plan::Plan;
use crate::progress::{Phase, Reporter};
use crate::seam::{ApiError, Catalog};
use crate::triple::Triple;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Items one list page can hold (the API's PageSize maximum).
const PAGE: usize = 20;

/// Which list call reads the observed state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Direction {
    /// ListServiceActionsForProvisioningArtifact, once per declared (product, artifact).
    ByArtifact,
    /// ListProvisioningArtifactsForServiceAction, once per declared action.
    ByAction,
}

/// The estimated read calls for each direction, and the one chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DirectionChoice {
    pub direction: Direction,
    pub by_artifact_calls: usize,
    pub by_action_calls: usize,
}

/// Chooses the direction that needs fewer list calls for this manifest.
///
/// Each page holds 20 items, so reading one artifact costs ⌈actions on it / 20⌉ calls (at least
/// one) and reading one action costs ⌈artifacts carrying it / 20⌉. Before reading we only know
/// the declared counts, which are lower bounds of the real ones; they are what decides, because
/// a manifest of many artifacts sharing a few actions (the common shape: "every version gets
/// Restart and Patch") costs a few calls per action against one per artifact. Ties go to
/// per-artifact reads, which also see undeclared actions (exact quota checks).
pub fn choose_direction<'a>(desired: impl IntoIterator<Item = &'a Triple>) -> DirectionChoice {
    choose_direction_knowing(desired, &BTreeSet::new())
}

/// [`choose_direction`] for reading `wanted` when an earlier read saw `known`: a listing holds
/// every association of its artifact or action, not only the wanted ones, so what was seen
/// before says how many pages each really takes. Settling uses it to re-read a few artifacts
/// of actions that are on hundreds of others.
pub fn choose_direction_knowing<'a>(
    wanted: impl IntoIterator<Item = &'a Triple>,
    known: &BTreeSet<Triple>,
) -> DirectionChoice {
    let mut per_artifact: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut per_action: BTreeMap<&str, usize> = BTreeMap::new();
    let mut wanted_set: BTreeSet<&Triple> = BTreeSet::new();
    for triple in wanted {
        *per_artifact
            .entry((&triple.product, &triple.artifact))
            .or_default() += 1;
        *per_action.entry(&triple.action).or_default() += 1;
        wanted_set.insert(triple);
    }
    for triple in known.iter().filter(|t| !wanted_set.contains(t)) {
        if let Some(n) = per_artifact.get_mut(&(triple.product.as_str(), triple.artifact.as_str()))
        {
            *n += 1;
        }
        if let Some(n) = per_action.get_mut(triple.action.as_str()) {
            *n += 1;
        }
    }
    let pages = |n: usize| n.div_ceil(PAGE).max(1);
    let by_artifact_calls = per_artifact.values().map(|&n| pages(n)).sum();
    let by_action_calls = per_action.values().map(|&n| pages(n)).sum();
    let direction = if by_action_calls < by_artifact_calls {
        Direction::ByAction
    } else {
        Direction::ByArtifact
    };
    DirectionChoice {
        direction,
        by_artifact_calls,
        by_action_calls,
    }
}

/// What the read phase found.
#[derive(Debug, Default)]
pub struct Observed {
    /// Associations seen on the declared artifacts (ByArtifact: all of them; ByAction: those of
    /// declared actions only).
    pub associations: BTreeSet<Triple>,
    /// Declared triples whose state could not be read, with the reason. Apply skips them.
    pub unreadable: BTreeMap<Triple, ApiError>,
}

/// Credentials refused, the endpoint unreachable or misbehaving, or the run stopped: reading on
/// would only repeat the failure, so the read ends.
fn ends_the_read(error: &ApiError) -> bool {
    error.kind.is_fatal() || error.kind.is_stop()
}

/// An error that makes every further call pointless (credentials), which ends the run.
#[derive(Debug, Clone, thiserror::Error)]
#[error("reading the current associations failed: {0}")]
pub struct FatalReadError(pub ApiError);

/// Reads the observed state for `desired` with at most `concurrency` list calls in flight.
pub(crate) async fn read_observed<C: Catalog>(
    catalog: &C,
    desired: &[&Triple],
    direction: Direction,
    concurrency: usize,
    phase: Phase,
    reporter: &dyn Reporter,
) -> Result<Observed, FatalReadError> {
    let mut observed = Observed::default();
    match direction {
        Direction::ByArtifact => {
            // Per artifact with no extra scope is exactly what prune's read does.
            return read_scope(
                catalog,
                desired,
                &BTreeSet::new(),
                concurrency,
                phase,
                reporter,
            )
            .await;
        }
        Direction::ByAction => {
            let mut targets: BTreeMap<&str, Vec<&Triple>> = BTreeMap::new();
            for &triple in desired {
                targets.entry(&triple.action).or_default().push(triple);
            }
            read_each(
                &targets,
                |action| async move {
                    let views = catalog.list_artifacts_for_action(action).await?;
                    Ok(views
                        .into_iter()
                        .map(|view| Triple::new(view.product_id, view.artifact_id, *action))
                        .collect())
                },
                &mut observed,
                concurrency,
                phase,
                reporter,
            )
            .await?;
        }
    }
    reporter.finish(phase);
    Ok(observed)
}

/// Reads every action on each artifact of `scope` and of `desired`, per artifact, whatever
/// [`choose_direction`] would pick: the complete picture prune needs. An artifact that cannot be
/// read contributes no associations, so nothing on it is removed.
pub(crate) async fn read_scope<C: Catalog>(
    catalog: &C,
    desired: &[&Triple],
    scope: &BTreeSet<(String, String)>,
    concurrency: usize,
    phase: Phase,
    reporter: &dyn Reporter,
) -> Result<Observed, FatalReadError> {
    let mut targets: BTreeMap<(&str, &str), Vec<&Triple>> = scope
        .iter()
        .map(|(product, artifact)| ((product.as_str(), artifact.as_str()), Vec::new()))
        .collect();
    for &triple in desired {
        targets
            .entry((&triple.product, &triple.artifact))
            .or_default()
            .push(triple);
    }
    let mut observed = Observed::default();
    read_by_artifact(
        catalog,
        &targets,
        &mut observed,
        concurrency,
        phase,
        reporter,
    )
    .await?;
    reporter.finish(phase);
    Ok(observed)
}

/// ListServiceActionsForProvisioningArtifact for each target; a target that fails marks its
/// triples unreadable.
async fn read_by_artifact<C: Catalog>(
    catalog: &C,
    targets: &BTreeMap<(&str, &str), Vec<&Triple>>,
    observed: &mut Observed,
    concurrency: usize,
    phase: Phase,
    reporter: &dyn Reporter,
) -> Result<(), FatalReadError> {
    read_each(
        targets,
        |&(product, artifact)| async move {
            let actions = catalog.list_actions_for_artifact(product, artifact).await?;
            Ok(actions
                .into_iter()
                .map(|action| Triple::new(product, artifact, action.id))
                .collect())
        },
        observed,
        concurrency,
        phase,
        reporter,
    )
    .await
}

/// One listing per key of `targets`, at most `concurrency` at once: what each lists joins the
/// observed associations; a key whose listing fails marks its triples unreadable, and a failure
/// that ends the read (credentials, transport, a stop) stops dispatching and is returned.
async fn read_each<'t, K, Fut>(
    targets: &'t BTreeMap<K, Vec<&Triple>>,
    list: impl Fn(&'t K) -> Fut,
    observed: &mut Observed,
    concurrency: usize,
    phase: Phase,
    reporter: &dyn Reporter,
) -> Result<(), FatalReadError>
where
    K: Ord,
    Fut: std::future::Future<Output = Result<Vec<Triple>, ApiError>>,
{
    reporter.start(phase, targets.len() as u64);
    // A Mutex, not a RefCell: the run's future must stay `Send` so callers can spawn it.
    let fatal: std::sync::Mutex<Option<ApiError>> = std::sync::Mutex::new(None);
    bounded(
        targets.keys(),
        concurrency,
        || fatal.lock().map(|f| f.is_some()).unwrap_or(true),
        list,
        |key, listed| {
            reporter.advance(phase, 1);
            match listed {
                Ok(found) => observed.associations.extend(found),
                Err(error) if ends_the_read(&error) => {
                    if let Ok(mut fatal) = fatal.lock() {
                        fatal.get_or_insert(error);
                    }
                }
                Err(error) => {
                    for triple in &targets[key] {
                        observed.unreadable.insert((*triple).clone(), error.clone());
                    }
                }
            }
        },
    )
    .await;
    match fatal.into_inner() {
        Ok(Some(error)) => Err(FatalReadError(error)),
        _ => Ok(()),
    }
}

/// Why the planned scope's state could not be read: the plan cannot be saved, or applied.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeError {
    #[error(transparent)]
    Fatal(FatalReadError),
    #[error("cannot read the associations of {} planned artifact(s): {first}", .count)]
    Unreadable { count: usize, first: ApiError },
    /// Who the credentials belong to could not be learned (STS `GetCallerIdentity`).
    #[error("cannot tell which account the credentials belong to: {0}")]
    Account(ApiError),
}

/// Every association on each artifact `plan` touches: the planned scope's state.
pub(crate) async fn read_planned_scope<C: Catalog>(
    catalog: &C,
    plan: &Plan,
    concurrency: usize,
    reporter: &dyn Reporter,
) -> Result<BTreeSet<Triple>, ScopeError> {
    let changes: BTreeSet<&Triple> = plan.to_add.iter().chain(&plan.to_remove).collect();
    if changes.is_empty() {
        return Ok(BTreeSet::new());
    }
    let changes: Vec<&Triple> = changes.into_iter().collect();
    let observed = read_scope(
        catalog,
        &changes,
        &BTreeSet::new(),
        concurrency,
        Phase::Read,
        reporter,
    )
    .await
    .map_err(ScopeError::Fatal)?;
    if let Some((_, first)) = observed.unreadable.iter().next() {
        let artifacts: BTreeSet<(&str, &str)> = observed
            .unreadable
            .keys()
            .map(|t| (t.product.as_str(), t.artifact.as_str()))
            .collect();
        return Err(ScopeError::Unreadable {
            count: artifacts.len(),
            first: first.clone(),
        });
    }
    Ok(observed.associations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_actions_over_many_artifacts_are_read_per_action() {
        let desired: Vec<Triple> = (0..100)
            .flat_map(|a| ["restart", "patch"].map(|x| Triple::new("p", format!("pa-{a}"), x)))
            .collect();
        let choice = choose_direction(&desired);
        assert_eq!(choice.direction, Direction::ByAction);
        assert_eq!(choice.by_artifact_calls, 100);
        assert_eq!(choice.by_action_calls, 10);
    }

    #[test]
    fn many_actions_on_few_artifacts_are_read_per_artifact() {
        let desired: Vec<Triple> = (0..10)
            .map(|x| Triple::new("p", "pa-1", format!("act-{x}")))
            .collect();
        let choice = choose_direction(&desired);
        assert_eq!(choice.direction, Direction::ByArtifact);
        assert_eq!((choice.by_artifact_calls, choice.by_action_calls), (1, 10));
    }

    #[test]
    fn what_an_earlier_read_saw_counts_toward_each_listing() {
        // Two artifacts to re-read, of an action already on 200 others: 2 listings per
        // artifact against 11 pages for the action.
        let wanted: Vec<Triple> = (0..2)
            .map(|a| Triple::new("p", format!("pa-new-{a}"), "act"))
            .collect();
        let known: BTreeSet<Triple> = (0..200)
            .map(|a| Triple::new("p", format!("pa-{a}"), "act"))
            .collect();
        assert_eq!(choose_direction(&wanted).direction, Direction::ByAction);
        let choice = choose_direction_knowing(&wanted, &known);
        assert_eq!(choice.direction, Direction::ByArtifact);
        assert_eq!((choice.by_artifact_calls, choice.by_action_calls), (2, 11));
    }

    #[test]
    fn ties_prefer_per_artifact_reads() {
        let choice = choose_direction(&[Triple::new("p", "a", "x")]);
        assert_eq!(choice.direction, Direction::ByArtifact);
    }
}
