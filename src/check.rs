//! Proving that the ids a manifest names exist, so a plan never promises what apply cannot do.
//! A manifest naming `act-nosuchaction` would otherwise plan `+ …/act-nosuchaction` and exit 2,
//! and only apply would find out. The proof costs few calls, and reuses what the read already
//! learnt:
//! - every service action: one paged `ListServiceActions` lists them all;
//! - artifacts read one by one (`ListServiceActionsForProvisioningArtifact`): the read itself
//!   answers ResourceNotFound for an unknown product or artifact, or an artifact of another
//!   product;
//! - artifacts read per action: one `ListProvisioningArtifacts` per product proves the product
//!   and every artifact of it.
//!
//! Each problem is a diagnostic at the manifest location that declared the triple.

use crate::manifest::{Diagnostic, Location};
use crate::observe::Direction;
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
}

/// Checks the ids of `known.triples`. Errors that say nothing about the manifest (throttling,
/// 5xx) are returned as `Err` so the caller can stop.
pub async fn check_ids<C: Catalog>(
    catalog: &C,
    known: &Known<'_>,
    concurrency: usize,
) -> Result<Existence, ApiError> {
    let (triples, direction, unreadable) = (known.triples, known.direction, known.unreadable);
    let mut found = Existence::default();
    if triples.is_empty() {
        return Ok(found);
    }
    let actions: BTreeSet<String> = match known.actions {
        Some(actions) => actions.clone(),
        None => catalog
            .list_service_actions()
            .await?
            .into_iter()
            .map(|a| a.id)
            .collect(),
    };
    let mut reported: BTreeSet<String> = BTreeSet::new();
    for (triple, location) in triples {
        if !actions.contains(&triple.action) {
            found.missing.insert(triple.clone());
            if reported.insert(format!("action/{}", triple.action)) {
                found.errors.push(Diagnostic::error(
                    Some(location.clone()),
                    format!("service action `{}` does not exist", triple.action),
                ));
            }
        }
    }
    match direction {
        Direction::ByArtifact => {
            for (triple, error) in unreadable {
                if error.kind != ErrorKind::NotFound {
                    continue;
                }
                let Some(location) = triples.get(triple) else {
                    continue;
                };
                found.missing.insert(triple.clone());
                if reported.insert(format!("artifact/{}/{}", triple.product, triple.artifact)) {
                    found.errors.push(Diagnostic::error(
                        Some(location.clone()),
                        format!(
                            "product `{}` has no provisioning artifact `{}` ({})",
                            triple.product, triple.artifact, error.message
                        ),
                    ));
                }
            }
        }
        Direction::ByAction => {
            let products: BTreeSet<&str> = triples.keys().map(|t| t.product.as_str()).collect();
            let listed: Vec<(&str, Result<Vec<_>, ApiError>)> = futures::stream::iter(products)
                .map(|product| async move {
                    (product, catalog.list_provisioning_artifacts(product).await)
                })
                .buffer_unordered(concurrency.max(1))
                .collect()
                .await;
            let mut artifacts: BTreeMap<&str, Result<BTreeSet<String>, ApiError>> = BTreeMap::new();
            for (product, result) in listed {
                let result = match result {
                    Ok(list) => Ok(list.into_iter().map(|a| a.id).collect()),
                    Err(error) if error.kind == ErrorKind::NotFound => Err(error),
                    Err(error) => return Err(error),
                };
                artifacts.insert(product, result);
            }
            for (triple, location) in triples {
                let message = match artifacts.get(triple.product.as_str()) {
                    Some(Err(error)) if reported.insert(format!("product/{}", triple.product)) => {
                        format!(
                            "product `{}` does not exist ({})",
                            triple.product, error.message
                        )
                    }
                    Some(Err(_)) => {
                        found.missing.insert(triple.clone());
                        continue;
                    }
                    Some(Ok(ids)) if !ids.contains(&triple.artifact) => {
                        found.missing.insert(triple.clone());
                        if !reported
                            .insert(format!("artifact/{}/{}", triple.product, triple.artifact))
                        {
                            continue;
                        }
                        format!(
                            "product `{}` has no provisioning artifact `{}`",
                            triple.product, triple.artifact
                        )
                    }
                    _ => continue,
                };
                found.missing.insert(triple.clone());
                found
                    .errors
                    .push(Diagnostic::error(Some(location.clone()), message));
            }
        }
    }
    Ok(found)
}
