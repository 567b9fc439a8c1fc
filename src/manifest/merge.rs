//! Validated files to one desired set: compact entries written with ids expand to triples, a
//! triple declared twice is kept once with a warning naming both places, files must agree on the
//! language, and no provisioning artifact may be given more service actions than AWS allows.
//! Entries holding a name or a selector are kept as [`Declaration`]s for `crate::resolve`, which
//! re-runs the duplicate and quota rules once they are triples.

use super::DesiredSet;
use super::actions::DeclaredAction;
use super::declaration::{Declaration, DeclaredArtifacts, Located, Ref};
use super::diagnostic::{Diagnostic, Location};
use super::raw::AcceptLanguage;
use super::validate::{Artifacts, Association, At, ManifestFile};
use crate::triple::Triple;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Service actions AWS lets one provisioning artifact have.
pub const MAX_ACTIONS_PER_ARTIFACT: usize = 25;

/// Merges `files` in order. Errors are returned with the warnings found on the way.
pub fn merge(files: Vec<ManifestFile>) -> (DesiredSet, Vec<Diagnostic>) {
    let mut set = DesiredSet::default();
    let mut errors = Vec::new();
    let mut language = Language::default();
    // Where each (product, artifact) is first declared: the place to report too many actions.
    // Nested by product so a lookup borrows the ids instead of allocating a key per entry.
    let mut first_declared: BTreeMap<String, BTreeMap<String, Location>> = BTreeMap::new();

    for manifest in files {
        let file: Arc<Path> = Arc::from(manifest.file.as_path());
        let at = |pos: super::tree::Pos| Location::in_file(&file, pos.line, pos.column);
        if let Some(At { value, pos }) = manifest.accept_language {
            errors.extend(language.add(value, at(pos)));
        }
        for entry in &manifest.actions {
            let declared = DeclaredAction::of(entry, at(entry.name.pos));
            errors.extend(declare_action(&mut set.actions, declared));
        }
        for association in &manifest.associations {
            let Some(ids) = id_only(association) else {
                set.declarations.push(declaration(association, &at));
                continue;
            };
            let (product, listed, actions) = ids;
            set.places
                .note_product(product, &at(association.product.pos));
            if !first_declared.contains_key(product) {
                first_declared.insert(product.to_string(), BTreeMap::new());
            }
            let product_artifacts = first_declared.get_mut(product).expect("inserted above");
            for artifact in &listed {
                if !product_artifacts.contains_key(artifact.value) {
                    product_artifacts.insert(artifact.value.to_string(), at(artifact.pos));
                }
                for action in &actions {
                    let triple = Triple::new(product, artifact.value, action.value);
                    declare(&mut set.triples, &mut set.warnings, triple, at(action.pos));
                }
            }
        }
        set.files.push(manifest.file);
    }

    let artifacts: BTreeMap<(String, String), Location> = first_declared
        .into_iter()
        .flat_map(|(product, artifacts)| {
            artifacts
                .into_iter()
                .map(move |(artifact, location)| ((product.clone(), artifact), location))
        })
        .collect();
    errors.extend(too_many_actions(&set.triples, &artifacts));
    errors.extend(named_absent(&set));
    set.places.artifacts = artifacts;
    set.accept_language = language.agreed();
    (set, errors)
}

/// The language files agree on: the first one given, and an error for each file that differs.
/// `crate::manifest::targets` checks it across all files of a run, not per target.
#[derive(Default)]
pub(super) struct Language {
    first: Option<(AcceptLanguage, Location)>,
}

impl Language {
    /// Takes a file's `accept_language`; the error if it disagrees with the first one.
    pub(super) fn add(&mut self, value: AcceptLanguage, at: Location) -> Option<Diagnostic> {
        match &self.first {
            None => {
                self.first = Some((value, at));
                None
            }
            Some((first, first_at)) if *first != value => Some(Diagnostic::error(
                Some(at),
                format!(
                    "`accept_language` is `{value}` here but `{first}` at {first_at}; \
                     all manifests in one run must agree"
                ),
            )),
            Some(_) => None,
        }
    }

    pub(super) fn agreed(self) -> Option<AcceptLanguage> {
        self.first.map(|(value, _)| value)
    }
}

/// An entry's ids when it holds nothing but ids: product, artifacts and actions.
type Ids<'a> = (&'a str, Vec<At<&'a str>>, Vec<At<&'a str>>);

fn ids(refs: &[At<Ref>]) -> Option<Vec<At<&str>>> {
    refs.iter()
        .map(|r| r.value.as_id().map(|value| At { value, pos: r.pos }))
        .collect()
}

fn id_only(association: &Association) -> Option<Ids<'_>> {
    let product = association.product.value.as_id()?;
    let Artifacts::Listed(listed) = &association.artifacts else {
        return None;
    };
    Some((product, ids(listed)?, ids(&association.actions)?))
}

/// The entry with each position made a full location.
fn declaration(
    association: &Association,
    at: &impl Fn(super::tree::Pos) -> Location,
) -> Declaration {
    let locate = |r: &At<Ref>| Located {
        value: r.value.clone(),
        location: at(r.pos),
    };
    Declaration {
        location: at(association.pos),
        product: locate(&association.product),
        artifacts: match &association.artifacts {
            Artifacts::Listed(refs) => DeclaredArtifacts::Listed(refs.iter().map(locate).collect()),
            Artifacts::Selected(selector) => DeclaredArtifacts::Selected(Located {
                value: selector.value,
                location: at(selector.pos),
            }),
        },
        actions: association.actions.iter().map(locate).collect(),
    }
}

/// Adds `declared`, unless an action of its name is declared already: the same declaration in
/// two files is one action; two different ones for one target are an error.
fn declare_action(
    actions: &mut BTreeMap<String, DeclaredAction>,
    declared: DeclaredAction,
) -> Option<Diagnostic> {
    match actions.entry(declared.name.clone()) {
        Entry::Vacant(slot) => {
            slot.insert(declared);
            None
        }
        Entry::Occupied(first) if first.get().same_as(&declared) => None,
        Entry::Occupied(first) => Some(Diagnostic::error(
            Some(declared.location),
            format!(
                "service action `{}` is declared differently at {}; a target has one \
                 definition of each action",
                first.key(),
                first.get().location
            ),
        )),
    }
}

/// An association cannot name an action the same target deletes (`absent: true`).
fn named_absent(set: &DesiredSet) -> Vec<Diagnostic> {
    set.declarations
        .iter()
        .flat_map(|d| &d.actions)
        .filter_map(|reference| {
            let super::Ref::Name(name) = &reference.value else {
                return None;
            };
            let declared = set.actions.get(name).filter(|a| a.absent)?;
            Some(Diagnostic::error(
                Some(reference.location.clone()),
                format!(
                    "service action `{name}` is declared `absent: true` at {}; an association \
                     cannot name an action this run deletes",
                    declared.location
                ),
            ))
        })
        .collect()
}

/// Adds `triple`, or warns that it was declared before (naming both places).
pub(crate) fn declare(
    triples: &mut BTreeMap<Triple, Location>,
    warnings: &mut Vec<Diagnostic>,
    triple: Triple,
    location: Location,
) {
    match triples.entry(triple) {
        Entry::Vacant(slot) => {
            slot.insert(location);
        }
        Entry::Occupied(first) => {
            let message = format!(
                "association `{}` is declared twice; also at {}",
                first.key(),
                first.get()
            );
            warnings.push(Diagnostic::warning(Some(location), message));
        }
    }
}

/// One error per (product, artifact) with more than [`MAX_ACTIONS_PER_ARTIFACT`] actions. The
/// triples are sorted by product then artifact, so each group is one run.
pub(crate) fn too_many_actions(
    triples: &BTreeMap<Triple, Location>,
    first_declared: &BTreeMap<(String, String), Location>,
) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    let mut triples = triples.keys().peekable();
    while let Some(first) = triples.next() {
        let mut count = 1;
        while triples
            .next_if(|t| t.product == first.product && t.artifact == first.artifact)
            .is_some()
        {
            count += 1;
        }
        if count > MAX_ACTIONS_PER_ARTIFACT {
            let location = first_declared
                .get(&(first.product.clone(), first.artifact.clone()))
                .cloned();
            errors.push(Diagnostic::error(
                location,
                format!(
                    "artifact `{}` of product `{}` is given {count} service actions; \
                     AWS allows at most {MAX_ACTIONS_PER_ARTIFACT} per provisioning artifact",
                    first.artifact, first.product
                ),
            ));
        }
    }
    errors
}

/// Orders diagnostics by file (in load order) and position, so a report reads top to bottom.
/// Problems without a position (unreadable paths) come first.
pub fn sort_diagnostics(diagnostics: &mut [Diagnostic], files: &[PathBuf]) {
    let rank: HashMap<&Path, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.as_path(), i + 1))
        .collect();
    diagnostics.sort_by_cached_key(|d| match &d.location {
        None => (0, 0, 0),
        Some(l) => (
            rank.get(&*l.file).copied().unwrap_or(usize::MAX),
            l.line,
            l.column,
        ),
    });
}
