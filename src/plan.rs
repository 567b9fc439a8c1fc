//! The pure heart of sc-assoc: given the desired triples and the observed ones, which
//! associations must be added, which are already present, and — with prune — which must go. No I/O, clock or environment is
//! touched here, and every output is sorted, so the same inputs always print the same plan and
//! what a reviewer read is exactly what apply carries out.

use crate::triple::Triple;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The API's quota of service actions per provisioning artifact: one constant, defined where
/// the manifest's own check uses it.
pub use crate::manifest::MAX_ACTIONS_PER_ARTIFACT;

/// What apply will do, and what it leaves alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// Desired and absent: apply associates these.
    pub to_add: Vec<Triple>,
    /// Present on an artifact in the manifest's scope but not desired: apply disassociates these.
    /// Always empty without prune.
    pub to_remove: Vec<Triple>,
    /// Desired and already present: nothing to do.
    pub present: Vec<Triple>,
    /// Whether removals were planned (`--prune`): the summary mentions them only then, so a plan
    /// without prune reads as it always has.
    pub prune: bool,
}

impl Plan {
    /// The last line of the plan as shown: `Plan: 2 to add, 5 already present.` or `No
    /// changes. …`. Made on its own so that a caller showing only the summary does not render
    /// every change line of a large plan first (100k changes are ~10 MB of text).
    pub fn summary(&self) -> String {
        if (self.prune || !self.to_remove.is_empty()) && self.has_changes() {
            format!(
                "Plan: {} to add, {} to remove, {} already present.",
                self.to_add.len(),
                self.to_remove.len(),
                self.present.len()
            )
        } else if self.has_changes() {
            format!(
                "Plan: {} to add, {} already present.",
                self.to_add.len(),
                self.present.len()
            )
        } else {
            format!(
                "No changes. {} association(s) already present.",
                self.present.len()
            )
        }
    }

    pub fn has_changes(&self) -> bool {
        !self.to_add.is_empty() || !self.to_remove.is_empty()
    }
}

/// Compares desired with observed. Observed associations outside the desired set are not
/// touched (no pruning), so they do not appear in the plan. Pure: no network, clock or
/// environment, and the output is sorted.
///
/// ```
/// use sc_assoc::triple::Triple;
/// use std::collections::BTreeSet;
///
/// let restart = Triple::new("prod-web", "pa-v1", "act-restart");
/// let patch = Triple::new("prod-web", "pa-v1", "act-patch");
/// let observed = BTreeSet::from([restart.clone()]);
/// let plan = sc_assoc::plan::plan([&patch, &restart], &observed);
/// assert_eq!(plan.to_add, vec![patch]);
/// assert_eq!(plan.present, vec![restart]);
/// assert!(plan.has_changes());
/// ```
pub fn plan<'a>(
    desired: impl IntoIterator<Item = &'a Triple>,
    observed: &BTreeSet<Triple>,
) -> Plan {
    let desired: BTreeSet<&Triple> = desired.into_iter().collect();
    let (present, to_add): (Vec<&Triple>, Vec<&Triple>) =
        desired.into_iter().partition(|t| observed.contains(*t));
    Plan {
        to_add: to_add.into_iter().cloned().collect(),
        present: present.into_iter().cloned().collect(),
        ..Plan::default()
    }
}

/// [`plan`], plus removal of every observed association on an artifact of `scope` that is not
/// desired. Associations on artifacts outside `scope` are never removed, whatever `observed`
/// holds: the manifest speaks only for the artifacts it names or selects.
pub fn plan_with_prune<'a>(
    desired: impl IntoIterator<Item = &'a Triple>,
    observed: &BTreeSet<Triple>,
    scope: &BTreeSet<(String, String)>,
) -> Plan {
    let desired: BTreeSet<&Triple> = desired.into_iter().collect();
    let to_remove = observed
        .iter()
        .filter(|t| !desired.contains(t) && scope.contains(&t.artifact_key()))
        .cloned()
        .collect();
    Plan {
        to_remove,
        prune: true,
        ..plan(desired, observed)
    }
}

/// An artifact the plan would push past the quota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuotaViolation {
    pub product: String,
    pub artifact: String,
    /// Actions the artifact would carry after apply, as far as the observed state shows.
    pub total: usize,
    pub limit: usize,
}

impl fmt::Display for QuotaViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "artifact `{}` of product `{}` would carry {} service actions; the quota is {} per artifact",
            self.artifact, self.product, self.total, self.limit
        )
    }
}

/// Artifacts that would exceed `limit` actions once the plan's additions land on top of what is
/// observed, less the plan's removals (apply removes first). When observed state was read per action rather than per artifact, actions outside
/// the manifest are not seen, so this is a lower bound; the API's LimitExceededException still
/// catches the rest, triple by triple.
pub fn quota_violations(
    plan: &Plan,
    observed: &BTreeSet<Triple>,
    limit: usize,
) -> Vec<QuotaViolation> {
    let mut actions: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    for triple in plan.to_add.iter() {
        actions
            .entry((&triple.product, &triple.artifact))
            .or_default()
            .insert(&triple.action);
    }
    // Only artifacts that gain actions can newly break the quota.
    let removed: BTreeSet<&Triple> = plan.to_remove.iter().collect();
    for triple in observed.iter().filter(|t| !removed.contains(t)) {
        if let Some(set) = actions.get_mut(&(triple.product.as_str(), triple.artifact.as_str())) {
            set.insert(&triple.action);
        }
    }
    actions
        .into_iter()
        .filter(|(_, set)| set.len() > limit)
        .map(|((product, artifact), set)| QuotaViolation {
            product: product.to_string(),
            artifact: artifact.to_string(),
            total: set.len(),
            limit,
        })
        .collect()
}

/// The plan as a reviewer reads it, in the manner of `terraform plan`: one line per change,
/// `+` to associate and `-` to disassociate, in triple order so an artifact's changes sit
/// together.
impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut changes: Vec<(&Triple, char)> = self
            .to_add
            .iter()
            .map(|t| (t, '+'))
            .chain(self.to_remove.iter().map(|t| (t, '-')))
            .collect();
        changes.sort();
        for (triple, sign) in &changes {
            writeln!(f, "  {sign} {triple}")?;
        }
        if !changes.is_empty() {
            writeln!(f)?;
        }
        write!(f, "{}", self.summary())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(product: &str, artifact: &str, action: &str) -> Triple {
        Triple::new(product, artifact, action)
    }

    #[test]
    fn missing_triples_are_added_and_present_ones_kept() {
        let desired = [t("p", "a2", "x"), t("p", "a1", "x"), t("p", "a1", "y")];
        let observed = BTreeSet::from([t("p", "a1", "y"), t("p", "other", "z")]);
        let plan = plan(&desired, &observed);
        assert_eq!(plan.to_add, vec![t("p", "a1", "x"), t("p", "a2", "x")]);
        assert_eq!(plan.present, vec![t("p", "a1", "y")]);
        assert!(plan.has_changes());
    }

    #[test]
    fn a_fully_present_manifest_plans_no_changes() {
        let desired = [t("p", "a", "x")];
        let observed = BTreeSet::from([t("p", "a", "x")]);
        let plan = plan(&desired, &observed);
        assert!(!plan.has_changes());
        assert_eq!(
            plan.to_string(),
            "No changes. 1 association(s) already present."
        );
    }

    #[test]
    fn plan_text_lists_additions_then_a_summary() {
        let plan = plan(&[t("p", "a", "x")], &BTreeSet::new());
        assert_eq!(
            plan.to_string(),
            "  + p / a / x\n\nPlan: 1 to add, 0 already present."
        );
    }

    #[test]
    fn prune_removes_undeclared_associations_only_on_artifacts_in_scope() {
        let desired = [t("p", "a1", "x")];
        let observed = BTreeSet::from([
            t("p", "a1", "x"),
            t("p", "a1", "stale"),
            t("p", "outside", "stale"),
        ]);
        let scope = BTreeSet::from([("p".to_string(), "a1".to_string())]);
        let plan = plan_with_prune(&desired, &observed, &scope);
        assert_eq!(plan.to_remove, vec![t("p", "a1", "stale")]);
        assert_eq!(plan.present, vec![t("p", "a1", "x")]);
        assert!(plan.to_add.is_empty());
        assert_eq!(
            plan.to_string(),
            "  - p / a1 / stale\n\nPlan: 0 to add, 1 to remove, 1 already present."
        );
    }

    #[test]
    fn removals_free_quota_for_additions_on_the_same_artifact() {
        let observed: BTreeSet<Triple> = (0..25).map(|i| t("p", "a", &format!("old{i}"))).collect();
        let desired: Vec<Triple> = (0..25).map(|i| t("p", "a", &format!("new{i}"))).collect();
        let scope = BTreeSet::from([("p".to_string(), "a".to_string())]);
        let plan = plan_with_prune(&desired, &observed, &scope);
        assert_eq!((plan.to_add.len(), plan.to_remove.len()), (25, 25));
        assert!(quota_violations(&plan, &observed, MAX_ACTIONS_PER_ARTIFACT).is_empty());
    }

    #[test]
    fn quota_counts_observed_actions_on_artifacts_that_gain_actions() {
        let desired: Vec<Triple> = (0..3).map(|i| t("p", "a", &format!("new{i}"))).collect();
        let observed: BTreeSet<Triple> = (0..23)
            .map(|i| t("p", "a", &format!("old{i}")))
            .chain([t("p", "untouched", "z")])
            .collect();
        let plan = plan(&desired, &observed);
        let violations = quota_violations(&plan, &observed, MAX_ACTIONS_PER_ARTIFACT);
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].total, 26);
        assert_eq!(violations[0].artifact, "a");
    }
}
