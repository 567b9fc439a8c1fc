//! Manifests: reading YAML files into a validated, located set of desired triples. This module
//! owns the file format (version 1), its JSON Schema, and every check that can be made without
//! asking AWS. Reading goes in stages, each in its own submodule: `files` finds and decodes the
//! files; `validate` parses one file (one pass of yaml-rust2 into a `tree` that keeps every
//! value's position) into the checked form, built from the serde types in `raw`; `merge` combines
//! files into the [`DesiredSet`] the rest of the program reconciles against. Names and artifact
//! selectors are checked for shape here and kept as [`Declaration`]s; resolving them needs the
//! catalog and happens in [`crate::resolve`].
//!
//! Every problem is reported, not just the first, each at `file:line:col`.

mod declaration;
mod diagnostic;
mod files;
mod lines;
mod merge;
mod raw;
mod tree;
mod validate;
mod wording;

pub use declaration::{Declaration, DeclaredArtifacts, Located, Ref};
pub use diagnostic::{Diagnostic, Location, ManifestErrors, Severity};
pub use files::MAX_FILE_BYTES;
pub use merge::MAX_ACTIONS_PER_ARTIFACT;
pub(crate) use merge::{declare, sort_diagnostics, too_many_actions};
pub use raw::{
    AcceptLanguage, ArtifactSelector, ID_PATTERN, MANIFEST_VERSION, RawArtifacts, RawAssociation,
    RawId, RawManifest, RawName, RawRef, RawVersion, json_schema, json_schema_string,
};
pub(crate) use wording::edit_distance;

use crate::triple::Triple;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What the manifests ask for, merged across files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DesiredSet {
    /// The language all files agree on; `None` when none sets one (AWS then answers in English).
    pub accept_language: Option<AcceptLanguage>,
    /// Every triple declared with ids only, with where it was first declared (the action's id
    /// in the file).
    pub triples: BTreeMap<Triple, Location>,
    /// Entries holding a name or a selector, in file order: only the catalog can turn them into
    /// triples ([`crate::resolve`]). Empty for a manifest written with ids only.
    pub declarations: Vec<Declaration>,
    /// Problems that do not stop a run, such as a triple declared twice.
    pub warnings: Vec<Diagnostic>,
    /// The files read, in load order.
    pub files: Vec<PathBuf>,
}

/// Loads manifests from `paths`: files (whatever their extension) and directories (their
/// `*.yaml`/`*.yml` files, then subdirectories, each sorted by name; hidden entries skipped).
/// On failure the error lists every problem in every file, warnings included.
pub fn load(paths: &[PathBuf]) -> Result<DesiredSet, ManifestErrors> {
    let (found, mut diagnostics) = files::discover(paths);
    if found.is_empty() && diagnostics.is_empty() {
        diagnostics.push(Diagnostic::error(None, "no manifest files given"));
    }
    let mut valid = Vec::with_capacity(found.len());
    for path in &found {
        match files::read(path) {
            Ok(text) => {
                let (manifest, problems) = validate::parse_file(path, &text);
                valid.extend(manifest);
                diagnostics.extend(problems);
            }
            Err(problem) => diagnostics.push(problem),
        }
    }
    finish(valid, diagnostics, found)
}

/// Validates one manifest held in memory, as if read from `file`. Every problem comes back at
/// once, each at its `file:line:col`.
///
/// ```
/// use std::path::Path;
///
/// let desired = sc_assoc::manifest::parse_str(
///     Path::new("web.yaml"),
///     "version: 1\nassociations:\n  - {product: prod-web, artifacts: [pa-1, pa-2], action: act-restart}\n",
/// )
/// .expect("valid");
/// assert_eq!(desired.triples.len(), 2);
///
/// let invalid = sc_assoc::manifest::parse_str(Path::new("bad.yaml"), "version: 1\nasociations: []\n")
///     .expect_err("a misspelt key");
/// let misspelt = invalid
///     .diagnostics
///     .iter()
///     .find(|d| d.message.contains("asociations"))
///     .expect("the misspelt key is named");
/// let location = misspelt.location.as_ref().expect("located");
/// assert_eq!((location.line, location.column), (2, 1));
/// ```
pub fn parse_str(file: &Path, text: &str) -> Result<DesiredSet, ManifestErrors> {
    let (manifest, diagnostics) = validate::parse_file(file, text);
    finish(
        manifest.into_iter().collect(),
        diagnostics,
        vec![file.to_path_buf()],
    )
}

fn finish(
    valid: Vec<validate::ManifestFile>,
    mut diagnostics: Vec<Diagnostic>,
    files: Vec<PathBuf>,
) -> Result<DesiredSet, ManifestErrors> {
    let (mut set, errors) = merge::merge(valid);
    diagnostics.extend(errors);
    if diagnostics.iter().any(Diagnostic::is_error) {
        diagnostics.append(&mut set.warnings);
        merge::sort_diagnostics(&mut diagnostics, &files);
        return Err(ManifestErrors { diagnostics });
    }
    merge::sort_diagnostics(&mut set.warnings, &files);
    set.files = files;
    Ok(set)
}
