//! Manifests: reading YAML files into a validated, located set of desired triples. This module
//! owns the file format (version 1), its JSON Schema, and every check that can be made without
//! asking AWS. Reading goes in stages, each in its own submodule: `files` finds and decodes the
//! files; `validate` parses one file (one pass of yaml-rust2 into a `tree` that keeps every
//! value's position) into the checked form, built from the serde types in `raw`; `merge` combines
//! files into the [`DesiredSet`] the rest of the program reconciles against. Names and artifact
//! selectors are checked for shape here and kept as [`Declaration`]s; resolving them needs the
//! catalog and happens in [`crate::resolve`].
//!
//! A file's `targets:` section (accounts, regions, and how to reach them) is checked in
//! `targets`, which also merges, for each target, exactly the files that name it:
//! [`load_targets`] and [`parse_str_targets`] return one [`DesiredSet`] per target. [`load`] and
//! [`parse_str`] keep returning one set, and refuse a file with `targets:` rather than merge
//! several accounts' associations into one.
//!
//! Every problem is reported, not just the first, each at `file:line:col`.

mod actions;
mod declaration;
mod diagnostic;
mod files;
mod lines;
mod merge;
pub mod raw;
mod targets;
mod tree;
mod validate;
mod wording;

pub use actions::{DeclaredAction, valid_action_name};
pub use declaration::{Declaration, DeclaredArtifacts, Located, Ref};
pub use diagnostic::{Diagnostic, Location, ManifestErrors, Severity};
pub use files::MAX_FILE_BYTES;
pub use merge::MAX_ACTIONS_PER_ARTIFACT;
pub(crate) use merge::{declare, sort_diagnostics, too_many_actions};
pub use raw::{
    AcceptLanguage, ArtifactSelector, ID_PATTERN, MANIFEST_VERSION, ParameterType, json_schema,
    json_schema_string,
};
pub(crate) use wording::edit_distance;

use crate::target::TargetSpec;
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
    /// Where each product and artifact id of `triples` is first given.
    pub places: IdPlaces,
    /// The service actions the files declare for this target, by name.
    pub actions: BTreeMap<String, DeclaredAction>,
}

/// Where each product id and each (product, artifact) is first given in the manifests: a
/// problem with the id itself (it does not exist) is reported there, not at the action that
/// happens to complete a triple.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IdPlaces {
    pub products: BTreeMap<String, Location>,
    pub artifacts: BTreeMap<(String, String), Location>,
}

impl IdPlaces {
    /// Notes `product` at `location`, unless it was given earlier.
    pub fn note_product(&mut self, product: &str, location: &Location) {
        if !self.products.contains_key(product) {
            self.products.insert(product.to_string(), location.clone());
        }
    }

    /// Notes `artifact` of `product` at `location`, unless it was given earlier.
    pub fn note_artifact(&mut self, product: &str, artifact: &str, location: &Location) {
        self.artifacts
            .entry((product.to_string(), artifact.to_string()))
            .or_insert_with(|| location.clone());
    }
}

/// What the manifests ask for, per target (account and region).
#[derive(Debug, Clone)]
pub struct Targeted {
    /// One entry per target, in first-declared order; exactly one entry, TargetSpec::current(),
    /// when no file declares `targets:`.
    pub targets: Vec<TargetDesired>,
    /// True when at least one file has a `targets:` section.
    pub declared: bool,
    /// The files read, in load order.
    pub files: Vec<PathBuf>,
    /// Warnings (duplicate triples…), each once even if it shows in several targets' merges.
    pub warnings: Vec<Diagnostic>,
    /// The language all files agree on.
    pub accept_language: Option<AcceptLanguage>,
    /// The organisational units the files' `targets:` name, each once, in first-named order:
    /// their accounts are targets only once [`Targeted::with_units`] is given what each unit
    /// expanded to ([`crate::org::expand`]). Empty when no file names one.
    pub units: Vec<Located<String>>,
    /// What each unit stood for, once expanded.
    pub expanded: Vec<crate::org::UnitExpansion>,
    /// The accounts of the units that `exclude_accounts` left out, each where the exclusion is
    /// written (an exclusion that left nothing out is not here).
    pub excluded: Vec<Located<String>>,
    /// The files as validated, kept while units wait for their expansion.
    pending: Option<Box<PendingUnits>>,
}

/// What [`Targeted::with_units`] assembles again.
#[derive(Debug, Clone)]
struct PendingUnits {
    valid: Vec<validate::ManifestFile>,
    diagnostics: Vec<Diagnostic>,
    files: Vec<PathBuf>,
}

impl Targeted {
    /// True when units still wait for their expansion: the targets above lack their accounts.
    pub fn needs_units(&self) -> bool {
        self.pending.is_some()
    }

    /// The manifests' targets with the accounts of each unit: `expanded` holds what each of
    /// [`Targeted::units`] stood for. An account reached by a unit and listed by id too is one
    /// target (the two must reach it the same way); excluded accounts are left out.
    pub fn with_units(
        self,
        expanded: Vec<crate::org::UnitExpansion>,
    ) -> Result<Targeted, ManifestErrors> {
        let Some(pending) = self.pending else {
            return Ok(self);
        };
        let PendingUnits {
            valid,
            diagnostics,
            files,
        } = *pending;
        let mut targeted = targets::assemble(valid, diagnostics, files, Some(&expanded))?;
        targeted.expanded = expanded;
        Ok(targeted)
    }
}

/// One target and what the files naming it ask for there.
#[derive(Debug, Clone)]
pub struct TargetDesired {
    pub target: TargetSpec,
    /// Where the target was first declared; None for the implicit current target.
    pub location: Option<Location>,
    /// The merge of the files naming this target, in load order: its `files` are those files,
    /// its `warnings` this merge's (also in [`Targeted::warnings`], once), and its language the
    /// run's.
    pub desired: DesiredSet,
}

/// Loads manifests from `paths`: files (whatever their extension) and directories (their
/// `*.yaml`/`*.yml` files, then subdirectories, each sorted by name; hidden entries skipped).
/// On failure the error lists every problem in every file, warnings included.
///
/// A file with `targets:` is an error here: read such manifests with [`load_targets`].
pub fn load(paths: &[PathBuf]) -> Result<DesiredSet, ManifestErrors> {
    let (valid, diagnostics, found) = read_all(paths);
    finish(valid, diagnostics, found)
}

/// Loads manifests from `paths` as [`load`] does, and gives each target the merge of the files
/// naming it; a file without `targets:` names the current account in the default region. On
/// failure the error lists every problem in every file, each once.
pub fn load_targets(paths: &[PathBuf]) -> Result<Targeted, ManifestErrors> {
    let (valid, diagnostics, found) = read_all(paths);
    targets::assemble(valid, diagnostics, found, None)
}

/// Validates one manifest held in memory, as if read from `file`, into its targets.
///
/// ```
/// use std::path::Path;
///
/// let targeted = sc_assoc::manifest::parse_str_targets(
///     Path::new("spokes.yaml"),
///     "version: 1\n\
///      targets:\n  - {accounts: [\"222222222222\"], regions: [us-east-1, eu-west-1], \
///      role: \"arn:aws:iam::{account}:role/Admin\"}\n\
///      associations:\n  - {product: prod-web, artifact: pa-1, action: act-restart}\n",
/// )
/// .expect("valid");
/// let labels: Vec<String> = targeted.targets.iter().map(|t| t.target.to_string()).collect();
/// assert_eq!(labels, ["222222222222/us-east-1", "222222222222/eu-west-1"]);
/// assert!(targeted.targets.iter().all(|t| t.desired.triples.len() == 1));
/// ```
pub fn parse_str_targets(file: &Path, text: &str) -> Result<Targeted, ManifestErrors> {
    let (manifest, diagnostics) = validate::parse_file(file, text);
    targets::assemble(
        manifest.into_iter().collect(),
        diagnostics,
        vec![file.to_path_buf()],
        None,
    )
}

/// The files under `paths`: the valid part of each, every problem found, and the files found.
fn read_all(paths: &[PathBuf]) -> (Vec<validate::ManifestFile>, Vec<Diagnostic>, Vec<PathBuf>) {
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
    (valid, diagnostics, found)
}

/// Validates one manifest held in memory, as if read from `file`. Every problem comes back at
/// once, each at its `file:line:col`.
///
/// A file with `targets:` is an error here: read it with [`parse_str_targets`].
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

/// One desired set for `load` and `parse_str`, which cannot keep targets apart.
fn finish(
    valid: Vec<validate::ManifestFile>,
    mut diagnostics: Vec<Diagnostic>,
    files: Vec<PathBuf>,
) -> Result<DesiredSet, ManifestErrors> {
    diagnostics.extend(targets::refuse_targets(&valid));
    merge_all(valid, diagnostics, files)
}

/// Every file merged into one set; an error if anything found on the way is one.
fn merge_all(
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
