//! Checking a saved plan against the world before applying it: the planned scope's state read
//! again ([`read_planned_scope`]), compared with what the plan saw ([`Drift`]), the account of
//! the credentials compared with the planned one, target by target ([`check_targets`]).

use super::{SavedAccess, SavedPlan, SavedTarget};
use crate::aws::SetupError;
use crate::fleet::Connect;
use crate::observe::{FatalReadError, read_scope};
use crate::plan::Plan;
use crate::progress::{Phase, Reporter};
use crate::seam::{ApiError, Catalog};
use crate::triple::Triple;
use std::collections::BTreeSet;

/// Why the planned scope's state could not be read: the plan cannot be saved, or applied.
#[derive(Debug, thiserror::Error)]
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
pub async fn read_planned_scope<C: Catalog>(
    catalog: &C,
    plan: &Plan,
    concurrency: usize,
    reporter: &dyn Reporter,
) -> Result<BTreeSet<Triple>, ScopeError> {
    let changes: BTreeSet<Triple> = plan.to_add.iter().chain(&plan.to_remove).cloned().collect();
    if changes.is_empty() {
        return Ok(BTreeSet::new());
    }
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

/// What moved in a target's planned scope since the plan was made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drift {
    /// Associated now, absent when planned.
    pub appeared: Vec<Triple>,
    /// Absent now, associated when planned.
    pub vanished: Vec<Triple>,
}

impl Drift {
    pub fn between(planned: &[Triple], now: &BTreeSet<Triple>) -> Drift {
        let then: BTreeSet<&Triple> = planned.iter().collect();
        Drift {
            appeared: now.iter().filter(|t| !then.contains(t)).cloned().collect(),
            vanished: planned
                .iter()
                .filter(|t| !now.contains(*t))
                .cloned()
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.appeared.is_empty() && self.vanished.is_empty()
    }
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if !self.appeared.is_empty() {
            parts.push(format!(
                "associated since the plan: {}",
                list(&self.appeared)
            ));
        }
        if !self.vanished.is_empty() {
            parts.push(format!("removed since the plan: {}", list(&self.vanished)));
        }
        f.write_str(&parts.join("; "))
    }
}

fn list(triples: &[Triple]) -> String {
    const SHOWN: usize = 5;
    let mut text = triples
        .iter()
        .take(SHOWN)
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if triples.len() > SHOWN {
        text.push_str(&format!(" and {} more", triples.len() - SHOWN));
    }
    text
}

/// One target of a saved plan, checked against the world and ready to apply, or why not.
pub struct Checked<C> {
    pub target: SavedTarget,
    pub outcome: Result<C, CheckError>,
}

/// Why a target of a saved plan cannot be applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    #[error("cannot set up the client for this target")]
    Connect(#[source] SetupError),
    #[error("cannot re-read the planned scope")]
    Scope(#[source] ScopeError),
    #[error("the planned scope changed since the plan was made; {0}")]
    Stale(Drift),
    /// The plan was made with the default credentials (or a profile) of another account.
    #[error("the plan is for account {expected}, but the credentials belong to account {actual}")]
    WrongAccount { expected: String, actual: String },
    #[error("cannot tell which account the credentials belong to: {0}")]
    Account(ApiError),
}

/// Connects to every target of `plan` and re-reads its planned scope, `target_concurrency` at a
/// time. Only when every target checks out should any be applied: the plan was reviewed whole.
pub async fn check_targets<K: Connect>(
    connector: &K,
    plan: &SavedPlan,
    concurrency: usize,
    target_concurrency: usize,
    control: &crate::control::RunControl,
    reporter: &dyn Reporter,
) -> Vec<Checked<K::Catalog>> {
    use futures::StreamExt;
    let mut checked: Vec<(usize, Checked<K::Catalog>)> =
        futures::stream::iter(plan.targets.iter().enumerate())
            .map(|(index, target)| async move {
                let outcome = async {
                    let catalog = connector
                        .connect(&target.spec())
                        .await
                        .map_err(CheckError::Connect)?;
                    // A role names its account; the default credentials and profiles do not,
                    // so the account they had at plan time is checked first.
                    if let (Some(expected), SavedAccess::Default | SavedAccess::Profile { .. }) =
                        (&target.account, &target.access)
                        && let Some(actual) = connector
                            .caller_account(&catalog)
                            .await
                            .map_err(CheckError::Account)?
                        && &actual != expected
                    {
                        return Err(CheckError::WrongAccount {
                            expected: expected.clone(),
                            actual,
                        });
                    }
                    let now = {
                        let guarded = crate::control::Guarded::new(&catalog, control.clone());
                        read_planned_scope(&guarded, &target.plan(), concurrency, reporter)
                            .await
                            .map_err(CheckError::Scope)?
                    };
                    let drift = Drift::between(&target.observed, &now);
                    if drift.is_empty() {
                        Ok(catalog)
                    } else {
                        Err(CheckError::Stale(drift))
                    }
                }
                .await;
                (
                    index,
                    Checked {
                        target: target.clone(),
                        outcome,
                    },
                )
            })
            .buffer_unordered(target_concurrency.max(1))
            .collect()
            .await;
    checked.sort_by_key(|(index, _)| *index);
    checked.into_iter().map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_names_what_appeared_and_what_vanished() {
        let a = Triple::new("prod-1", "pa-1", "act-a");
        let b = Triple::new("prod-1", "pa-1", "act-b");
        let now: BTreeSet<Triple> = [b.clone()].into();
        let drift = Drift::between(std::slice::from_ref(&a), &now);
        assert_eq!(drift.appeared, vec![b]);
        assert_eq!(drift.vanished, vec![a]);
        assert!(drift.to_string().contains("associated since the plan"));
        assert!(Drift::between(&[], &BTreeSet::new()).is_empty());
    }
}
