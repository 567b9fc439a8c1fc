//! The manifest as written: serde types that mirror the YAML file one to one, and the JSON Schema
//! generated from them. Nothing here is trusted yet — ids are unchecked strings and either form of
//! each axis may be present. `validate` turns these into the checked form the program uses.
//!
//! The types are the single description of the file format: the schema is derived from them, and
//! the validator builds every field by deserializing the YAML value with the field's own type, so
//! the two cannot drift apart. A reference ([`RawRef`]) is an id or `{name: ...}`; `artifacts` is
//! a list of references or a selector ([`ArtifactSelector`]). Names and selectors are resolved
//! against the catalog at plan time by [`crate::resolve`]; nothing here needs AWS. A
//! [`RawTarget`] is one entry of `targets:` (accounts, regions, and a role or profile to reach
//! them); `targets` expands them into [`crate::target::TargetSpec`]s.

use schemars::{JsonSchema, Schema, SchemaGenerator, generate::SchemaSettings, json_schema};
use serde::{Deserialize, Serialize};

mod targets;
pub use targets::*;

/// The only manifest version this build understands.
pub const MANIFEST_VERSION: u64 = 1;

/// Anchored form of the API's id pattern, for the schema. The code checks ids with
/// [`crate::triple::check_id`], which implements the same rule.
pub const ID_PATTERN: &str = "^[a-zA-Z0-9_-]{1,100}$";

/// Keys of an association entry, in the order the schema lists them. A unit test checks this
/// against the schema generated from [`RawAssociation`].
pub const ASSOCIATION_KEYS: [&str; 5] = ["product", "artifact", "artifacts", "action", "actions"];

/// Top-level keys of a manifest, checked against [`RawManifest`]'s schema like the above.
pub const MANIFEST_KEYS: [&str; 5] = [
    "version",
    "accept_language",
    "targets",
    "actions",
    "associations",
];

/// Keys of an `actions` entry, checked against [`RawAction`]'s schema like the above.
pub const ACTION_KEYS: [&str; 7] = [
    "name",
    "description",
    "document",
    "version",
    "assume_role",
    "parameters",
    "absent",
];

/// The API's rule for a service action's name (`ServiceActionName`), matched whole.
pub const ACTION_NAME_PATTERN: &str = "^[a-zA-Z0-9_\\-.]{1,256}$";

/// A manifest file: which service actions should be associated with which provisioning
/// artifacts. Several files given in one run merge into one desired set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "sc-assoc manifest")]
pub struct RawManifest {
    /// Manifest format version; must be 1.
    pub version: RawVersion,
    /// Language of AWS responses and error messages: `en` (the default), `jp` or `zh`. All files
    /// in one run must agree.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "AcceptLanguage")]
    pub accept_language: Option<AcceptLanguage>,
    /// The accounts and regions this file's associations apply to: every account of an entry
    /// in every region of it. Without `targets`, the file applies to the account of the default
    /// credentials in the default region. Files naming the same target merge for it.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Vec<RawTarget>", length(min = 1))]
    pub targets: Option<Vec<RawTarget>>,
    /// The service actions this file's targets have, by name: created where missing, updated
    /// where their definition differs, deleted where `absent: true`. Actions a manifest does
    /// not declare are left alone.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Vec<RawAction>", length(min = 1))]
    pub actions: Option<Vec<RawAction>>,
    /// The desired associations. Each entry names one product and associates every listed action
    /// with every listed artifact of it. A file may declare only `actions`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(min = 1))]
    pub associations: Vec<RawAssociation>,
}

/// One service action: an SSM Automation document run as a self-service action. Compared with
/// the catalog's by meaning (the parameters as data, an absent field as its default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Action")]
pub struct RawAction {
    /// The action's name, unique per account and region in a manifest: 1 to 256 letters,
    /// digits, `_`, `-` or `.` (no spaces).
    #[schemars(regex(pattern = ACTION_NAME_PATTERN))]
    pub name: String,
    /// What the action does, as the console shows it (at most 1024 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1024))]
    pub description: Option<String>,
    /// The SSM Automation document: its name, or its ARN when shared from another account.
    /// Required unless `absent: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub document: Option<String>,
    /// The document's version: a number, or `$DEFAULT` / `$LATEST`. Required unless
    /// `absent: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<RawActionVersion>,
    /// The role the automation runs as: a role ARN (`{account}` and `{region}` are filled per
    /// target), or `LAUNCH_ROLE` for the product's launch role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub assume_role: Option<String>,
    /// The document's parameters the action passes: `TARGET` (the provisioned product's
    /// resource) or `TEXT_VALUE` (typed in by the user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Vec<RawParameter>>,
    /// Delete the action in every target of the file (after disassociating it everywhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub absent: Option<bool>,
}

/// An action's document version as written: `1` or `"1"`, `"$LATEST"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "ActionVersion")]
pub enum RawActionVersion {
    Number(u64),
    Text(#[schemars(length(min = 1, max = 1024))] String),
}

/// One parameter of an action's document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Parameter")]
pub struct RawParameter {
    #[schemars(length(min = 1))]
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ParameterType,
}

/// How a parameter is filled.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ParameterType {
    /// The provisioned product's resource (an instance id, …).
    Target,
    /// Typed in by the user who runs the action.
    TextValue,
}

impl ParameterType {
    pub fn as_str(self) -> &'static str {
        match self {
            ParameterType::Target => "TARGET",
            ParameterType::TextValue => "TEXT_VALUE",
        }
    }
}

/// The `version` field: any integer deserializes, so an unsupported version is reported as such
/// rather than as a type error; the schema only admits 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawVersion(pub u64);

impl JsonSchema for RawVersion {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Version".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "const": MANIFEST_VERSION })
    }
}

/// Language of AWS responses (the API's `AcceptLanguage`): `en` English (the default), `jp`
/// Japanese, `zh` Chinese.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum AcceptLanguage {
    // No doc comments on the variants: with them schemars writes a `oneOf` of constants
    // instead of the plain `enum` editors complete best.
    En,
    Jp,
    Zh,
}

impl AcceptLanguage {
    /// The value to send as `AcceptLanguage`, or `None` for English: leaving the parameter out
    /// means English, and keeps requests identical to those of tools that never set it.
    pub fn api_value(&self) -> Option<&'static str> {
        match self {
            AcceptLanguage::En => None,
            AcceptLanguage::Jp => Some("jp"),
            AcceptLanguage::Zh => Some("zh"),
        }
    }

    /// The manifest spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            AcceptLanguage::En => "en",
            AcceptLanguage::Jp => "jp",
            AcceptLanguage::Zh => "zh",
        }
    }
}

impl std::fmt::Display for AcceptLanguage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of `associations`: a product, its artifacts (`artifact` or `artifacts`) and the
/// actions (`action` or `actions`). Every listed action is associated with every listed artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Association", transform = one_form_per_axis)]
pub struct RawAssociation {
    /// The product: its id (`prod-...`) or `{name: "Web Server"}`.
    pub product: RawRef,
    /// One provisioning artifact of the product: its id (`pa-...`) or `{name: "v2"}`. Use either
    /// `artifact` or `artifacts`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "RawRef")]
    pub artifact: Option<RawRef>,
    /// Several provisioning artifacts of the product (ids or `{name: ...}`), or a selector
    /// expanded at plan time: `all` (every current version) or `active` (Active and not
    /// deprecated). Use either `artifact` or `artifacts`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "RawArtifacts")]
    pub artifacts: Option<RawArtifacts>,
    /// One service action: its id (`act-...`) or `{name: "Restart"}`. Use either `action` or
    /// `actions`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "RawRef")]
    pub action: Option<RawRef>,
    /// Several service actions (ids or `{name: ...}`). Use either `action` or `actions`. An
    /// empty list declares that the artifacts carry no action: with `--prune`, every action on
    /// them is removed; without it, the entry changes nothing.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Vec<RawRef>")]
    pub actions: Option<Vec<RawRef>>,
}

/// A reference to a product, artifact or action: its id, or `{name: ...}` resolved through the
/// API at plan time (an artifact's name within its product).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "Ref")]
pub enum RawRef {
    Id(RawId),
    Name(RawName),
}

/// An AWS id as written in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
#[schemars(rename = "Id")]
pub struct RawId(
    /// An AWS id: 1 to 100 letters, digits, `_` or `-`.
    #[schemars(regex(pattern = ID_PATTERN))]
    pub String,
);

/// A reference by name: exactly one product, artifact (of the entry's product) or action must
/// carry it, or the run stops before any write.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Name")]
pub struct RawName {
    /// The name as the console shows it, matched exactly (case included).
    #[schemars(length(min = 1))]
    pub name: String,
}

/// Only the mapping form: serde's derived struct impl would also take a one-item list
/// (`artifact: [a]`), which in a manifest is a mistake, not a name.
impl<'de> Deserialize<'de> for RawName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Mapping {
            name: String,
        }
        struct MappingOnly;
        impl<'de> serde::de::Visitor<'de> for MappingOnly {
            type Value = RawName;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a mapping `{name: ...}`")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<RawName, A::Error> {
                let Mapping { name } =
                    Mapping::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(RawName { name })
            }
        }
        deserializer.deserialize_map(MappingOnly)
    }
}

/// The value of `artifacts`: a list of references, or a selector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "Artifacts")]
pub enum RawArtifacts {
    Select(ArtifactSelector),
    List(#[schemars(length(min = 1))] Vec<RawRef>),
}

/// Which of a product's provisioning artifacts a selector stands for, expanded at plan time
/// (so a manifest keeps up with new versions): `all` of them, or the `active` ones (Active and
/// Guidance DEFAULT, that is, offered to users and not deprecated).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactSelector {
    // No doc comments on the variants, for the plain `enum` in the schema (see AcceptLanguage).
    All,
    Active,
}

impl ArtifactSelector {
    /// The manifest spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            ArtifactSelector::All => "all",
            ArtifactSelector::Active => "active",
        }
    }
}

impl std::fmt::Display for ArtifactSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An optional key, present: serde's `Option` would also take an explicit `null` (`artifact:`
/// with nothing after it), which in a manifest is a mistake rather than a way of leaving the key
/// out.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Adds the rule serde cannot express in the derived schema: exactly one of `artifact` and
/// `artifacts`, and exactly one of `action` and `actions`.
fn one_form_per_axis(schema: &mut Schema) {
    let exactly_one = |a: &str, b: &str| serde_json::json!({ "oneOf": [ { "required": [a] }, { "required": [b] } ] });
    schema.insert(
        "allOf".to_owned(),
        serde_json::json!([
            exactly_one("artifact", "artifacts"),
            exactly_one("action", "actions"),
        ]),
    );
}

/// The manifest's JSON Schema (draft-07, which editors' YAML language servers support best).
pub fn json_schema() -> serde_json::Value {
    let generator = SchemaSettings::draft07().into_generator();
    generator.into_root_schema_for::<RawManifest>().to_value()
}

/// [`json_schema()`] pretty-printed with a trailing newline: exactly the bytes of
/// `schema/manifest.schema.json`.
pub fn json_schema_string() -> String {
    // Serializing a `Value` cannot fail: every map key is already a string.
    let mut text = serde_json::to_string_pretty(&json_schema()).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn property_names(schema: &serde_json::Value) -> Vec<String> {
        schema["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    #[test]
    fn key_lists_match_the_serde_types() {
        let schema = json_schema();
        let mut top = property_names(&schema);
        let mut expected: Vec<String> = MANIFEST_KEYS.iter().map(|k| k.to_string()).collect();
        top.sort();
        expected.sort();
        assert_eq!(top, expected);

        for (definition, keys) in [
            ("Association", ASSOCIATION_KEYS.as_slice()),
            ("Target", TARGET_KEYS.as_slice()),
            ("Action", ACTION_KEYS.as_slice()),
        ] {
            let mut entry = property_names(&schema["definitions"][definition]);
            let mut expected: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            entry.sort();
            expected.sort();
            assert_eq!(entry, expected, "{definition}");
        }
    }

    #[test]
    fn english_is_sent_as_no_language() {
        assert_eq!(AcceptLanguage::En.api_value(), None);
        assert_eq!(AcceptLanguage::Jp.api_value(), Some("jp"));
        assert_eq!(AcceptLanguage::Zh.api_value(), Some("zh"));
    }
}
