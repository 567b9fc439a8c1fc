//! Whether a saved plan still describes the world: what moved in a target's planned scope since
//! the plan was made ([`Drift`]), and why a target of a saved plan cannot be applied
//! ([`CheckError`]). Below both the pipeline (whose target errors include it) and the saved plan
//! (which checks it), so neither depends on the other for it.

use crate::observe::ScopeError;
use crate::seam::ApiError;
use crate::triple::Triple;
use std::collections::BTreeSet;

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

/// Why a target of a saved plan cannot be applied.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    #[error("cannot re-read the planned scope")]
    Scope(#[source] ScopeError),
    #[error("the planned scope changed since the plan was made; {0}")]
    Stale(Drift),
    /// The planned scope holds exactly what the plan would make: it was applied already.
    #[error(
        "the plan has already been applied: its {0} change(s) are in place; plan again to see whether anything is left to do"
    )]
    AlreadyApplied(usize),
    /// The plan was made with the default credentials (or a profile) of another account.
    #[error("the plan is for account {expected}, but the credentials belong to account {actual}")]
    WrongAccount { expected: String, actual: String },
    #[error("cannot tell which account the credentials belong to: {0}")]
    Account(ApiError),
    /// A service action the plan changes is not as the plan saw it.
    #[error("service action `{name}` changed since the plan was made: {what}; plan again")]
    ActionChanged { name: String, what: String },
    #[error("cannot read the planned service actions again")]
    Actions(#[source] ApiError),
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
