//! Proving that the ids a manifest names exist, so a plan never promises what apply cannot do.
//! A manifest naming `act-nosuchaction` would otherwise plan `+ …/act-nosuchaction` and exit 2,
//! and only apply would find out. The proof costs few calls, and reuses what the read already
//! learnt:
//! - every service action: one paged `ListServiceActions` lists them all;
//! - artifacts read one by one (`ListServiceActionsForProvisioningArtifact`): the read itself
//!   answers ResourceNotFound for an unknown product or artifact, or an artifact of another
//!   product, without saying which; one `ListProvisioningArtifacts` per such product tells;
//! - artifacts read per action: one `ListProvisioningArtifacts` per product proves the product
//!   and every artifact of it.
//!
//! Each problem is a diagnostic at the manifest location of the id at fault: a missing product
//! where the product is given, a missing artifact where the artifact is, a missing action where
//! the action is.

use crate::manifest::{Diagnostic, IdPlaces, Location};
use crate::observe::Direction;
use crate::progress::{Phase, Reporter};
use crate::seam::{ApiError, Catalog, ErrorKind};
use crate::triple::Triple;
use futures::StreamExt;
use std::collections::{BTreeMap, BTreeSet};

/// What the existence check found.
#[derive(Debug, Default)]
pub struct Existence {
    /// One error per missing id, at the first triple that names it.
    pub errors: Vec<Diagnostic>,
    /// Triples whose ids are proven missing (they leave the plan).
    pub missing: BTreeSet<Triple>,
}

/// What the check works from: the desired triples with their locations, and what the run
/// already learnt.
pub struct Known<'a> {
    pub triples: &'a BTreeMap<Triple, Location>,
    /// How the state was read.
    pub direction: Direction,
    /// What the read could not list: a NotFound there proves the product or artifact missing.
    pub unreadable: &'a BTreeMap<Triple, ApiError>,
    /// Every action id, if resolution already listed them.
    pub actions: Option<&'a BTreeSet<String>>,
    /// Where each product and artifact is first given, to report a missing one there.
    pub places: &'a IdPlaces,
}

/// Checks the ids of `known.triples`. Errors that say nothing about the manifest (throttling,
/// 5xx) are returned as `Err` so the caller can stop.
pub async fn check_ids<C: Catalog>(
    catalog: &C,
    known: &Known<'_>,
    concurrency: usize,
    reporter: &dyn Reporter,
) -> Result<Existence, ApiError> {
    let (triples, direction, unreadable) = (known.triples, known.direction, known.unreadable);
    let mut found = Existence::default();
    if triples.is_empty() {
        return Ok(found);
    }
    // Every action id, and the id of each action name: an id that is missing but a name that
    // is there is a bare name written where an id goes.
    let (actions, action_named): (BTreeSet<String>, BTreeMap<String, String>) = match known.actions
    {
        Some(actions) => (actions.clone(), BTreeMap::new()),
        None => {
            let listed = catalog.list_service_actions().await?;
            let named = listed
                .iter()
                .filter_map(|a| a.name.clone().map(|n| (n, a.id.clone())))
                .collect();
            (listed.into_iter().map(|a| a.id).collect(), named)
        }
    };
    let mut reported: BTreeSet<String> = BTreeSet::new();
    for (triple, location) in triples {
        if !actions.contains(&triple.action) {
            found.missing.insert(triple.clone());
            if reported.insert(format!("action/{}", triple.action)) {
                let hint = action_named.get(&triple.action).map(|id| {
                    format!(
                        "an action is named `{0}` (`{id}`): write `{{name: {0}}}` to name it",
                        triple.action
                    )
                });
                found.errors.push(
                    Diagnostic::error(
                        Some(location.clone()),
                        format!("service action `{}` does not exist", triple.action),
                    )
                    .with_hint(hint),
                );
            }
        }
    }
    // The products and artifacts still in doubt: read per artifact, a listing that answered
    // NotFound (the product, the artifact, or an artifact of another product: the answer does
    // not say which); read per action, every product.
    let in_doubt: BTreeSet<&str> = match direction {
        Direction::ByArtifact => unreadable
            .iter()
            .filter(|(t, error)| error.kind == ErrorKind::NotFound && triples.contains_key(*t))
            .map(|(t, _)| t.product.as_str())
            .collect(),
        Direction::ByAction => triples.keys().map(|t| t.product.as_str()).collect(),
    };
    // One ListProvisioningArtifacts per product tells which: the product, or its artifacts.
    // Seconds at a high latency: shown, so the screen is not blank while it runs.
    if !in_doubt.is_empty() {
        reporter.start(Phase::Check, in_doubt.len() as u64);
    }
    let doubtful = in_doubt.len();
    let listed: Vec<(&str, Result<Vec<_>, ApiError>)> = futures::stream::iter(in_doubt)
        .map(|product| async move {
            let listed = catalog.list_provisioning_artifacts(product).await;
            reporter.advance(Phase::Check, 1);
            (product, listed)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    if doubtful > 0 {
        reporter.finish(Phase::Check);
    }
    let mut artifacts: BTreeMap<&str, Result<BTreeSet<String>, ApiError>> = BTreeMap::new();
    let mut artifact_named: BTreeMap<(&str, String), String> = BTreeMap::new();
    for (product, result) in listed {
        let result = match result {
            Ok(list) => {
                for artifact in &list {
                    if let Some(name) = &artifact.name {
                        artifact_named.insert((product, name.clone()), artifact.id.clone());
                    }
                }
                Ok(list.into_iter().map(|a| a.id).collect())
            }
            Err(error) if error.kind == ErrorKind::NotFound => Err(error),
            Err(error) => return Err(error),
        };
        artifacts.insert(product, result);
    }
    for (triple, location) in triples {
        let (key, place, message, hint) = match artifacts.get(triple.product.as_str()) {
            Some(Err(_)) => (
                format!("product/{}", triple.product),
                known.places.products.get(&triple.product),
                format!("no product `{}`", triple.product),
                None,
            ),
            Some(Ok(ids)) if !ids.contains(&triple.artifact) => (
                format!("artifact/{}/{}", triple.product, triple.artifact),
                known
                    .places
                    .artifacts
                    .get(&(triple.product.clone(), triple.artifact.clone())),
                format!(
                    "product `{}` has no provisioning artifact `{}`",
                    triple.product, triple.artifact
                ),
                artifact_named
                    .get(&(triple.product.as_str(), triple.artifact.clone()))
                    .map(|id| {
                        format!(
                            "a version of it is named `{0}` (`{id}`): write `{{name: {0}}}` to name it",
                            triple.artifact
                        )
                    }),
            ),
            _ => continue,
        };
        found.missing.insert(triple.clone());
        if reported.insert(key) {
            // At the id itself; at the triple's declaration if the manifests did not say where.
            let at = place.unwrap_or(location).clone();
            found
                .errors
                .push(Diagnostic::error(Some(at), message).with_hint(hint));
        }
    }
    Ok(found)
}
