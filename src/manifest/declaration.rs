//! Manifest entries that only the catalog can finish: references by name and artifact selectors.
//! Validation checks their shape offline; `merge` collects every entry that holds one into a
//! [`Declaration`] with full locations, and [`crate::resolve`] turns those into triples at plan
//! time. Entries written with ids only never become declarations: they expand to triples at once.

use super::diagnostic::Location;
use super::raw::ArtifactSelector;
use std::fmt;

/// A validated reference: an id that passed the API's id rule, or a non-empty name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ref {
    Id(String),
    Name(String),
}

impl Ref {
    /// The id, when the reference is one.
    pub fn as_id(&self) -> Option<&str> {
        match self {
            Ref::Id(id) => Some(id),
            Ref::Name(_) => None,
        }
    }
}

/// As written in the manifest: `prod-1` or `{name: "Web Server"}`.
impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ref::Id(id) => f.write_str(id),
            Ref::Name(name) => write!(f, "{{name: {name:?}}}"),
        }
    }
}

/// A value and the place in a manifest it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub location: Location,
}

/// The artifacts of a declaration: listed one by one, or chosen by a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeclaredArtifacts {
    Listed(Vec<Located<Ref>>),
    Selected(Located<ArtifactSelector>),
}

/// One manifest entry that holds a name or a selector: every action on every artifact, once
/// resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    /// The entry itself.
    pub location: Location,
    pub product: Located<Ref>,
    pub artifacts: DeclaredArtifacts,
    pub actions: Vec<Located<Ref>>,
}

impl Declaration {
    /// True when the entry needs the product's list of provisioning artifacts.
    pub fn needs_artifact_list(&self) -> bool {
        match &self.artifacts {
            DeclaredArtifacts::Selected(_) => true,
            DeclaredArtifacts::Listed(refs) => refs.iter().any(|r| r.value.as_id().is_none()),
        }
    }
}
