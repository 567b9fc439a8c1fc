//! Finishing a manifest against the catalog: references by name become ids and artifact
//! selectors (`artifacts: all | active`) become the product's current provisioning artifacts.
//! This is the only step between loading a manifest and reading state that needs the API, and it
//! only reads. Every distinct name costs one lookup per run (products by SearchProductsAsAdmin,
//! artifacts by one ListProvisioningArtifacts per product, actions by one ListServiceActions), and
//! every problem — a missing or ambiguous name, an unknown product — is reported at its manifest
//! location, all at once, before anything is written.
//!
//! The result is the desired set in ids, the **scope** (the (product, artifact) pairs the manifest
//! names or selects, the only artifacts `--prune` may touch), what each selector expanded to, and
//! the [`Names`] those lookups returned, for the plan to show.

use crate::manifest::{
    ArtifactSelector, DeclaredArtifacts, DesiredSet, Diagnostic, IdPlaces, Location,
    ManifestErrors, Ref, declare, edit_distance, sort_diagnostics, too_many_actions,
};
use crate::seam::{ActionSummary, ApiError, ArtifactDetail, Catalog, ErrorKind, ProductSummary};
use crate::triple::Triple;
use futures::StreamExt;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

mod names;
pub use names::Names;

/// A (product id, artifact id) pair.
pub type ArtifactKey = (String, String);

/// The manifest in ids, ready to plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    /// Every desired triple with where it was first declared.
    pub triples: BTreeMap<Triple, Location>,
    /// The artifacts the manifest names or selects: prune never looks anywhere else.
    pub scope: BTreeSet<ArtifactKey>,
    /// What each selector stood for at this run, in manifest order.
    pub expansions: Vec<Expansion>,
    /// Problems that do not stop the run (a triple declared twice, a selector matching nothing).
    pub warnings: Vec<Diagnostic>,
    /// Every service action's id, when resolution listed them (an action named by name): the
    /// existence check then needs no listing of its own.
    pub known_actions: Option<BTreeSet<String>>,
    /// What the catalog calls the products, artifacts and actions the lookups above returned;
    /// empty for a manifest of ids only, which makes no lookup.
    pub names: Names,
    /// Where each product and artifact of `triples` is first given (its id, name or selector).
    pub places: IdPlaces,
}

impl Resolved {
    /// The desired triples without their locations.
    pub fn triple_set(&self) -> BTreeSet<Triple> {
        self.triples.keys().cloned().collect()
    }
}

/// A provisioning artifact as a plan shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactName {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One selector and the artifacts it selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expansion {
    /// Where the selector is written.
    pub location: Location,
    pub product: String,
    pub product_name: Option<String>,
    pub selector: ArtifactSelector,
    pub artifacts: Vec<ArtifactName>,
}

/// Why resolution stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// Names or selectors that cannot be resolved, each at its manifest location.
    #[error("{0}")]
    Invalid(ManifestErrors),
    /// A call failed in a way no manifest change fixes (credentials, network, throttling).
    #[error("cannot resolve the manifest's names and selectors")]
    Api(#[source] ApiError),
}

/// What the run already knows of the target's service actions when the manifest declares some
/// (`crate::actions`): the listing, and the id of each declared action, pending for one this run
/// creates. A reference by name to a declared action resolves to that id.
#[derive(Debug, Clone, Default)]
pub struct KnownActions {
    pub listed: Vec<ActionSummary>,
    pub declared: BTreeMap<String, String>,
}

/// Resolves `desired` with at most `concurrency` calls in flight. A manifest of ids only makes no
/// call at all.
pub async fn resolve<C: Catalog>(
    catalog: &C,
    desired: &DesiredSet,
    concurrency: usize,
) -> Result<Resolved, ResolveError> {
    resolve_with(catalog, desired, concurrency, None).await
}

/// [`resolve`], with the service actions already listed and those the manifest declares.
pub async fn resolve_with<C: Catalog>(
    catalog: &C,
    desired: &DesiredSet,
    concurrency: usize,
    known_actions: Option<&KnownActions>,
) -> Result<Resolved, ResolveError> {
    let mut resolved = Resolved {
        triples: desired.triples.clone(),
        // Every artifact the manifests give, those declared with no action (`actions: []`)
        // included: prune acts on them too.
        scope: desired
            .triples
            .keys()
            .map(Triple::artifact_key)
            .chain(desired.places.artifacts.keys().cloned())
            .collect(),
        places: desired.places.clone(),
        ..Resolved::default()
    };
    if desired.declarations.is_empty() {
        return Ok(resolved);
    }
    let lookups = Lookups::fetch(catalog, desired, concurrency.max(1), known_actions).await?;
    let actions_listed = desired
        .declarations
        .iter()
        .flat_map(|d| &d.actions)
        .any(|a| a.value.as_id().is_none());
    if actions_listed {
        resolved.known_actions = Some(
            lookups
                .actions
                .iter()
                .map(|a| a.id.clone())
                .chain(lookups.declared_actions.values().cloned())
                .collect(),
        );
    }
    resolved.names = lookups.names();
    let mut errors = Vec::new();
    // Where each artifact is first given, for the quota message: ids-only artifacts at their
    // first triple, resolved ones at their reference or selector.
    let mut first_declared: BTreeMap<ArtifactKey, Location> = BTreeMap::new();
    for (triple, location) in &desired.triples {
        first_declared
            .entry(triple.artifact_key())
            .or_insert_with(|| location.clone());
    }
    for declaration in &desired.declarations {
        // Actions first: their names do not depend on the product, so they are judged even
        // when the product's name is wrong.
        let mut actions = Vec::with_capacity(declaration.actions.len());
        for action in &declaration.actions {
            match lookups.action(&action.value) {
                Ok(id) => actions.push((id, action.location.clone())),
                Err(message) => errors.push(error_at(&action.location, message)),
            }
        }
        let product = match lookups.product(&declaration.product.value) {
            Ok(product) => product,
            Err(message) => {
                errors.push(error_at(&declaration.product.location, message));
                continue;
            }
        };
        let (artifacts, from_selector) = match &declaration.artifacts {
            DeclaredArtifacts::Listed(refs) => {
                let mut ids = Vec::with_capacity(refs.len());
                for artifact in refs {
                    match lookups.artifact(&product, &artifact.value) {
                        Ok(id) => ids.push((id, artifact.location.clone())),
                        Err(message) => errors.push(error_at(&artifact.location, message)),
                    }
                }
                (ids, false)
            }
            DeclaredArtifacts::Selected(selector) => {
                match lookups.select(&product, selector.value) {
                    Ok(selected) => {
                        if selected.is_empty() {
                            resolved.warnings.push(Diagnostic::warning(
                                Some(selector.location.clone()),
                                format!(
                                    "`artifacts: {}` selects no provisioning artifact of product {}",
                                    selector.value,
                                    product.describe()
                                ),
                            ));
                        }
                        resolved.expansions.push(Expansion {
                            location: selector.location.clone(),
                            product: product.id.clone(),
                            product_name: product.name.clone(),
                            selector: selector.value,
                            artifacts: selected.clone(),
                        });
                        let ids = selected
                            .into_iter()
                            .map(|a| (a.id, selector.location.clone()))
                            .collect();
                        (ids, true)
                    }
                    Err(message) => {
                        errors.push(error_at(&selector.location, message.into()));
                        continue;
                    }
                }
            }
        };
        resolved
            .places
            .note_product(&product.id, &declaration.product.location);
        for (artifact, artifact_at) in &artifacts {
            resolved
                .places
                .note_artifact(&product.id, artifact, artifact_at);
            let key = (product.id.clone(), artifact.clone());
            first_declared
                .entry(key.clone())
                .or_insert_with(|| artifact_at.clone());
            resolved.scope.insert(key);
            for (action, action_at) in &actions {
                let triple = Triple::new(&product.id, artifact, action);
                if from_selector {
                    // A selector is a set expression: overlapping an explicit entry ("every
                    // version gets Restart" and "v4 gets Restart and Patch") is not a mistake.
                    resolved
                        .triples
                        .entry(triple)
                        .or_insert_with(|| action_at.clone());
                } else {
                    declare(
                        &mut resolved.triples,
                        &mut resolved.warnings,
                        triple,
                        action_at.clone(),
                    );
                }
            }
        }
    }
    errors.extend(too_many_actions(&resolved.triples, &first_declared));
    sort_diagnostics(&mut resolved.warnings, &desired.files);
    if errors.is_empty() {
        return Ok(resolved);
    }
    errors.append(&mut resolved.warnings);
    sort_diagnostics(&mut errors, &desired.files);
    Err(ResolveError::Invalid(ManifestErrors {
        diagnostics: errors,
    }))
}

/// Why a name or selector does not resolve, and what is close to it.
#[derive(Debug)]
struct Problem {
    message: String,
    hint: Option<String>,
}

impl From<String> for Problem {
    fn from(message: String) -> Self {
        Problem {
            message,
            hint: None,
        }
    }
}

fn error_at(location: &Location, problem: Problem) -> Diagnostic {
    Diagnostic::error(Some(location.clone()), problem.message).with_hint(problem.hint)
}

/// A product as resolution knows it.
#[derive(Debug, Clone)]
struct Product {
    id: String,
    name: Option<String>,
}

impl Product {
    /// `` `prod-1` `` or `` `prod-1` (`Web Server`) `` for messages.
    fn describe(&self) -> String {
        match &self.name {
            Some(name) => format!("`{}` (`{name}`)", self.id),
            None => format!("`{}`", self.id),
        }
    }
}

/// Everything the catalog said, fetched once per distinct name or product.
#[derive(Default)]
struct Lookups {
    /// Products whose name matches exactly, by the name asked for.
    products_by_name: HashMap<String, Vec<ProductSummary>>,
    /// Every product, read only when a name matched none, to suggest what was meant.
    all_products: Vec<ProductSummary>,
    /// Every service action, read only when an action is referenced by name.
    actions: Vec<ActionSummary>,
    /// The id of each action the manifest declares (pending for one to create), by name.
    declared_actions: BTreeMap<String, String>,
    /// Provisioning artifacts by product id, or why they could not be listed.
    artifacts: HashMap<String, Result<Vec<ArtifactDetail>, ApiError>>,
}

/// Errors that a different manifest would avoid are reported at their place; the rest stop the
/// run, since no manifest change fixes them.
fn is_about_the_manifest(error: &ApiError) -> bool {
    matches!(
        error.kind,
        ErrorKind::NotFound | ErrorKind::InvalidParameters
    )
}

impl Lookups {
    async fn fetch<C: Catalog>(
        catalog: &C,
        desired: &DesiredSet,
        concurrency: usize,
        known_actions: Option<&KnownActions>,
    ) -> Result<Lookups, ResolveError> {
        let declarations = &desired.declarations;
        let product_names: BTreeSet<&str> = declarations
            .iter()
            .filter_map(|d| match &d.product.value {
                Ref::Name(name) => Some(name.as_str()),
                Ref::Id(_) => None,
            })
            .collect();
        let actions_by_name = declarations
            .iter()
            .flat_map(|d| &d.actions)
            .any(|a| a.value.as_id().is_none());

        let products = futures::stream::iter(product_names)
            .map(|name| async move {
                // Full-text search narrows the listing; only an exact match counts.
                let found = catalog.search_products(Some(name)).await;
                (name, found)
            })
            .buffer_unordered(concurrency)
            .collect::<Vec<_>>();
        let actions = async {
            if let Some(known) = known_actions {
                Ok(known.listed.clone())
            } else if actions_by_name {
                catalog.list_service_actions().await
            } else {
                Ok(Vec::new())
            }
        };
        let (products, actions) = futures::join!(products, actions);

        let mut lookups = Lookups {
            actions: actions.map_err(ResolveError::Api)?,
            declared_actions: known_actions
                .map(|k| k.declared.clone())
                .unwrap_or_default(),
            ..Lookups::default()
        };
        for (name, found) in products {
            let exact = found
                .map_err(ResolveError::Api)?
                .into_iter()
                .filter(|p| p.name.as_deref() == Some(name))
                .collect();
            lookups.products_by_name.insert(name.to_string(), exact);
        }
        if lookups.products_by_name.values().any(Vec::is_empty) {
            lookups.all_products = catalog
                .search_products(None)
                .await
                .map_err(ResolveError::Api)?;
        }

        let listed: BTreeSet<String> = declarations
            .iter()
            .filter(|d| d.needs_artifact_list())
            .filter_map(|d| lookups.product(&d.product.value).ok())
            .map(|p| p.id)
            .collect();
        let mut artifacts = futures::stream::iter(listed)
            .map(|product| async move {
                let found = catalog.list_provisioning_artifacts(&product).await;
                (product, found)
            })
            .buffer_unordered(concurrency);
        while let Some((product, found)) = artifacts.next().await {
            match found {
                Err(error) if !is_about_the_manifest(&error) => {
                    return Err(ResolveError::Api(error));
                }
                found => {
                    lookups.artifacts.insert(product, found);
                }
            }
        }
        Ok(lookups)
    }

    /// Every name the answers carried, including those of things the manifest does not mention:
    /// an action listing names the actions prune removes too, and a product's artifact listing
    /// names the versions around the one selected.
    fn names(&self) -> Names {
        let mut names = Names::default();
        for product in self.products_by_name.values().flatten() {
            names.insert_product(&product.id, product.name.as_deref());
        }
        for (product, listed) in &self.artifacts {
            for artifact in listed.iter().flatten() {
                names.insert_artifact(product, &artifact.id, artifact.name.as_deref());
            }
        }
        for action in &self.actions {
            names.insert_action(&action.id, action.name.as_deref());
        }
        for (name, id) in &self.declared_actions {
            names.insert_action(id, Some(name));
        }
        names
    }

    fn product(&self, reference: &Ref) -> Result<Product, Problem> {
        let name = match reference {
            Ref::Id(id) => {
                return Ok(Product {
                    id: id.clone(),
                    name: None,
                });
            }
            Ref::Name(name) => name,
        };
        match self.products_by_name.get(name).map(Vec::as_slice) {
            Some([one]) => Ok(Product {
                id: one.id.clone(),
                name: one.name.clone(),
            }),
            Some([]) | None => Err(Problem {
                message: format!("no product is named `{name}`"),
                hint: closest(
                    name,
                    self.all_products
                        .iter()
                        .map(|p| (p.name.as_deref(), p.id.as_str())),
                ),
            }),
            Some(many) => Err(ambiguous(
                &format!("{} products are named `{name}`", many.len()),
                many.iter().map(|p| p.id.as_str()),
            )
            .into()),
        }
    }

    fn action(&self, reference: &Ref) -> Result<String, Problem> {
        let name = match reference {
            Ref::Id(id) => return Ok(id.clone()),
            Ref::Name(name) => name,
        };
        if let Some(id) = self.declared_actions.get(name) {
            return Ok(id.clone());
        }
        let matching: Vec<&ActionSummary> = self
            .actions
            .iter()
            .filter(|a| a.name.as_deref() == Some(name.as_str()))
            .collect();
        match matching.as_slice() {
            [one] => Ok(one.id.clone()),
            [] => Err(Problem {
                message: format!("no service action is named `{name}`"),
                hint: closest(
                    name,
                    self.actions
                        .iter()
                        .map(|a| (a.name.as_deref(), a.id.as_str())),
                ),
            }),
            many => Err(ambiguous(
                &format!("{} service actions are named `{name}`", many.len()),
                many.iter().map(|a| a.id.as_str()),
            )
            .into()),
        }
    }

    fn artifacts_of(&self, product: &Product) -> Result<&[ArtifactDetail], String> {
        match self.artifacts.get(&product.id) {
            Some(Ok(artifacts)) => Ok(artifacts),
            Some(Err(error)) => Err(format!(
                "cannot list the provisioning artifacts of product {}: {error}",
                product.describe()
            )),
            // Only products whose artifacts are needed are listed; asking for another is a bug
            // worth an error rather than a panic.
            None => Err(format!(
                "the provisioning artifacts of product {} were not read",
                product.describe()
            )),
        }
    }

    fn artifact(&self, product: &Product, reference: &Ref) -> Result<String, Problem> {
        let name = match reference {
            Ref::Id(id) => return Ok(id.clone()),
            Ref::Name(name) => name,
        };
        let artifacts = self.artifacts_of(product)?;
        let matching: Vec<&ArtifactDetail> = artifacts
            .iter()
            .filter(|a| a.name.as_deref() == Some(name.as_str()))
            .collect();
        match matching.as_slice() {
            [one] => Ok(one.id.clone()),
            [] => Err(Problem {
                message: format!(
                    "product {} has no provisioning artifact named `{name}`",
                    product.describe()
                ),
                hint: closest(
                    name,
                    artifacts.iter().map(|a| (a.name.as_deref(), a.id.as_str())),
                ),
            }),
            many => Err(ambiguous(
                &format!(
                    "product {} has {} provisioning artifacts named `{name}`",
                    product.describe(),
                    many.len()
                ),
                many.iter().map(|a| a.id.as_str()),
            )
            .into()),
        }
    }

    fn select(
        &self,
        product: &Product,
        selector: ArtifactSelector,
    ) -> Result<Vec<ArtifactName>, String> {
        let artifacts = self.artifacts_of(product)?;
        Ok(artifacts
            .iter()
            .filter(|a| selector == ArtifactSelector::All || is_active(a))
            .map(|a| ArtifactName {
                id: a.id.clone(),
                name: a.name.clone(),
            })
            .collect())
    }
}

/// Active and not deprecated. The API omits neither field in practice; a missing one is read as
/// its default (Active true, Guidance DEFAULT), so an older or partial answer selects rather than
/// silently drops a version.
pub fn is_active(artifact: &ArtifactDetail) -> bool {
    artifact.active.unwrap_or(true)
        && artifact.guidance.as_deref().unwrap_or("DEFAULT") == "DEFAULT"
}

/// "…; write the id instead: `a`, `b`".
fn ambiguous<'a>(what: &str, ids: impl Iterator<Item = &'a str>) -> String {
    let ids: Vec<String> = ids.map(|id| format!("`{id}`")).collect();
    format!("{what}: {}; write one of these ids instead", ids.join(", "))
}

/// The candidates worth showing for a name that matched nothing: the few closest by spelling
/// (ignoring case), or every one when there are only a few. `None` when nothing is close.
fn closest<'a>(
    wanted: &str,
    candidates: impl Iterator<Item = (Option<&'a str>, &'a str)>,
) -> Option<String> {
    const SHOWN: usize = 5;
    let wanted_lower = wanted.to_lowercase();
    let mut ranked: Vec<(usize, &str, &str)> = candidates
        .filter_map(|(name, id)| name.map(|n| (n, id)))
        .map(|(name, id)| {
            let lower = name.to_lowercase();
            let distance = if lower.contains(&wanted_lower) || wanted_lower.contains(&lower) {
                0
            } else {
                edit_distance(&wanted_lower, &lower)
            };
            (distance, name, id)
        })
        .collect();
    ranked.sort();
    let threshold = (wanted.chars().count() / 3).max(2);
    let close = ranked
        .iter()
        .filter(|(distance, ..)| *distance <= threshold)
        .count();
    // The close ones if any; otherwise every candidate when there are only a few.
    let keep = match close {
        0 if ranked.len() <= SHOWN => ranked.len(),
        n => n.min(SHOWN),
    };
    let shown: Vec<String> = ranked
        .into_iter()
        .take(keep)
        .map(|(_, name, id)| format!("`{name}` (`{id}`)"))
        .collect();
    match shown.len() {
        0 => None,
        1 => Some(format!("did you mean {}?", shown[0])),
        _ => Some(format!("candidates: {}", shown.join(", "))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(id: &str, active: Option<bool>, guidance: Option<&str>) -> ArtifactDetail {
        ArtifactDetail {
            id: id.to_string(),
            name: None,
            description: None,
            active,
            guidance: guidance.map(str::to_string),
        }
    }

    #[test]
    fn active_means_active_and_not_deprecated() {
        assert!(is_active(&detail("a", Some(true), Some("DEFAULT"))));
        assert!(!is_active(&detail("b", Some(false), Some("DEFAULT"))));
        assert!(!is_active(&detail("c", Some(true), Some("DEPRECATED"))));
        assert!(is_active(&detail("d", None, None)));
    }

    #[test]
    fn a_close_name_is_suggested_and_far_ones_are_not() {
        let names = [
            (Some("Web Server"), "prod-web"),
            (Some("Database"), "prod-db"),
            (Some("Batch Worker"), "prod-batch"),
            (Some("Cache"), "prod-cache"),
            (Some("Queue"), "prod-queue"),
            (Some("Search"), "prod-search"),
        ];
        assert_eq!(
            closest("Web Srever", names.into_iter()).as_deref(),
            Some("did you mean `Web Server` (`prod-web`)?")
        );
        assert_eq!(closest("Nothing alike at all", names.into_iter()), None);
        assert_eq!(
            closest("x", names[..2].iter().copied()).as_deref(),
            Some("candidates: `Database` (`prod-db`), `Web Server` (`prod-web`)")
        );
    }
}
