//! Validated files to one desired set: compact entries expand to triples, a triple declared twice
//! is kept once with a warning naming both places, files must agree on the language, and no
//! provisioning artifact may be given more service actions than AWS allows.

use super::DesiredSet;
use super::diagnostic::{Diagnostic, Location};
use super::raw::AcceptLanguage;
use super::validate::{At, ManifestFile};
use crate::triple::Triple;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Service actions AWS lets one provisioning artifact have.
pub const MAX_ACTIONS_PER_ARTIFACT: usize = 25;

/// Merges `files` in order. Errors are returned with the warnings found on the way.
pub fn merge(files: Vec<ManifestFile>) -> (DesiredSet, Vec<Diagnostic>) {
    let mut set = DesiredSet::default();
    let mut errors = Vec::new();
    let mut language: Option<(AcceptLanguage, Location)> = None;
    // Where each (product, artifact) is first declared: the place to report too many actions.
    let mut artifacts: BTreeMap<(String, String), Location> = BTreeMap::new();

    for manifest in files {
        let file = manifest.file.as_path();
        let at = |pos: super::marks::Pos| Location::new(file, pos.line, pos.column);
        if let Some(At { value, pos }) = manifest.accept_language {
            match &language {
                None => language = Some((value, at(pos))),
                Some((first, first_at)) if *first != value => errors.push(Diagnostic::error(
                    Some(at(pos)),
                    format!(
                        "`accept_language` is `{value}` here but `{first}` at {first_at}; \
                         all manifests in one run must agree"
                    ),
                )),
                Some(_) => {}
            }
        }
        for association in &manifest.associations {
            let product = &association.product.value;
            for artifact in &association.artifacts {
                artifacts
                    .entry((product.clone(), artifact.value.clone()))
                    .or_insert_with(|| at(artifact.pos));
                for action in &association.actions {
                    let triple = Triple::new(product, &artifact.value, &action.value);
                    declare(&mut set, triple, at(action.pos));
                }
            }
        }
        set.files.push(manifest.file);
    }

    errors.extend(too_many_actions(&set, &artifacts));
    set.accept_language = language.map(|(value, _)| value);
    (set, errors)
}

fn declare(set: &mut DesiredSet, triple: Triple, location: Location) {
    match set.triples.entry(triple) {
        Entry::Vacant(slot) => {
            slot.insert(location);
        }
        Entry::Occupied(first) => {
            let message = format!(
                "association `{}` is declared twice; also at {}",
                first.key(),
                first.get()
            );
            set.warnings
                .push(Diagnostic::warning(Some(location), message));
        }
    }
}

/// One error per (product, artifact) with more than [`MAX_ACTIONS_PER_ARTIFACT`] actions. The
/// triples are sorted by product then artifact, so each group is one run.
fn too_many_actions(
    set: &DesiredSet,
    first_declared: &BTreeMap<(String, String), Location>,
) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    let mut triples = set.triples.keys().peekable();
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
            rank.get(l.file.as_path()).copied().unwrap_or(usize::MAX),
            l.line,
            l.column,
        ),
    });
}
