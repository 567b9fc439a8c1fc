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

/// Keys of a `targets` entry, checked against [`RawTarget`]'s schema like the above.
pub const TARGET_KEYS: [&str; 6] = [
    "accounts",
    "regions",
    "role",
    "external_id",
    "session_name",
    "profile",
];

/// An account id for the schema; the code checks [`crate::target::is_account_id`].
pub const ACCOUNT_ID_PATTERN: &str = "^[0-9]{12}$";

/// A region name for the schema, the rule of [`crate::target::is_region`].
pub const REGION_PATTERN: &str = "^[a-z]+(-[a-z]+)+-[0-9]{1,2}$";

/// A role ARN or template for the schema: the account is 12 digits or the placeholder. The code
/// checks each filled-in ARN with [`crate::target::role_arn_account`].
pub const ROLE_PATTERN: &str = "^arn:aws[^:]*:iam::([0-9]{12}|\\{account\\}):role/.*[^/]$";

/// STS `AssumeRole`'s rule for `ExternalId`: 2 to 1224 of these characters.
pub const EXTERNAL_ID_PATTERN: &str = "^[A-Za-z0-9_+=,.@:/-]{2,1224}$";

/// STS `AssumeRole`'s rule for `RoleSessionName`: 2 to 64 of these characters.
pub const SESSION_NAME_PATTERN: &str = "^[A-Za-z0-9_+=,.@-]{2,64}$";

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

/// One entry of `targets`: accounts (or the current one), regions (or the default one), and how
/// to reach them: a role assumed with the default credentials, or a named profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Target", transform = target_rules)]
pub struct RawTarget {
    /// The 12-digit ids of the accounts to reconcile; each needs `role` or `profile` to be
    /// reached. Without `accounts`, the account of the default credentials (or of `profile`).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Vec<RawAccountId>", length(min = 1))]
    pub accounts: Option<Vec<RawAccountId>>,
    /// The regions to reconcile in each account, such as `us-east-1`. Without `regions`, the
    /// default region (`--region`, `AWS_REGION`, the profile's).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Vec<RawRegion>", length(min = 1))]
    pub regions: Option<Vec<RawRegion>>,
    /// The IAM role to assume in each account with the default credentials:
    /// `arn:aws:iam::{account}:role/NAME`, where `{account}` stands for each account of
    /// `accounts` (required with more than one). Use either `role` or `profile`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "RawRole")]
    pub role: Option<RawRole>,
    /// The external id the role's trust policy asks for (STS `ExternalId`). Only with `role`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "RawExternalId")]
    pub external_id: Option<RawExternalId>,
    /// The role session name CloudTrail shows for each call (STS `RoleSessionName`); `sc-assoc`
    /// when not given. Only with `role`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "RawSessionName")]
    pub session_name: Option<RawSessionName>,
    /// A profile of the AWS config files to reach the target with, instead of `role`. A profile
    /// reaches one account: give at most one in `accounts`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "String", length(min = 1))]
    pub profile: Option<String>,
}

/// An account id as written: a string, or an integer (YAML reads `222222222222` as one). Kept as
/// its decimal text; whether it is 12 digits is checked by validation, not here.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct RawAccountId(pub String);

impl<'de> Deserialize<'de> for RawAccountId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextOrInteger;
        impl serde::de::Visitor<'_> for TextOrInteger {
            type Value = RawAccountId;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a 12-digit account id")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<RawAccountId, E> {
                Ok(RawAccountId(text.to_owned()))
            }
            fn visit_u64<E: serde::de::Error>(self, number: u64) -> Result<RawAccountId, E> {
                Ok(RawAccountId(number.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, number: i64) -> Result<RawAccountId, E> {
                Ok(RawAccountId(number.to_string()))
            }
        }
        deserializer.deserialize_any(TextOrInteger)
    }
}

impl JsonSchema for RawAccountId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AccountId".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An AWS account id: 12 digits, quoted or not.",
            "oneOf": [
                { "type": "string", "pattern": ACCOUNT_ID_PATTERN },
                { "type": "integer", "minimum": 100_000_000_000u64, "maximum": 999_999_999_999u64 }
            ]
        })
    }
}

/// A region name as written in `regions`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
#[schemars(rename = "Region")]
pub struct RawRegion(
    /// An AWS region name, such as `us-east-1` or `eu-west-1`.
    #[schemars(regex(pattern = REGION_PATTERN))]
    pub String,
);

/// A role ARN or ARN template as written in `role`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
#[schemars(rename = "Role")]
pub struct RawRole(
    /// An IAM role ARN, `arn:aws:iam::ACCOUNT:role/NAME`; `{account}` in place of the account
    /// stands for each account of the entry.
    #[schemars(regex(pattern = ROLE_PATTERN))]
    pub String,
);

/// An external id as written in `external_id`.
// Its `Debug` does not show it, like `crate::target::AssumeRole`'s: it is one of the facts an
// attacker would need.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
#[schemars(rename = "ExternalId")]
pub struct RawExternalId(
    /// 2 to 1224 letters, digits or `_+=,.@:/-`, as STS requires.
    #[schemars(regex(pattern = EXTERNAL_ID_PATTERN))]
    pub String,
);

impl std::fmt::Debug for RawExternalId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawExternalId(** redacted **)")
    }
}

/// A role session name as written in `session_name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
#[schemars(rename = "SessionName")]
pub struct RawSessionName(
    /// 2 to 64 letters, digits or `_+=,.@-`, as STS requires.
    #[schemars(regex(pattern = SESSION_NAME_PATTERN))]
    pub String,
);

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

/// Adds the rules between a target's keys that serde cannot express: `role` or `profile`, not
/// both; `role` only with `accounts`, and `accounts` only with `role` or `profile`; the STS
/// parameters only with `role`; one account per profile; `{account}` in a role given for
/// several accounts.
fn target_rules(schema: &mut Schema) {
    schema.insert(
        "dependencies".to_owned(),
        serde_json::json!({
            "accounts": { "anyOf": [ { "required": ["role"] }, { "required": ["profile"] } ] },
            "role": ["accounts"],
            "external_id": ["role"],
            "session_name": ["role"],
        }),
    );
    schema.insert(
        "not".to_owned(),
        serde_json::json!({ "required": ["role", "profile"] }),
    );
    schema.insert(
        "allOf".to_owned(),
        serde_json::json!([
            {
                "if": { "required": ["profile"] },
                "then": { "properties": { "accounts": { "maxItems": 1 } } }
            },
            {
                "if": { "required": ["accounts"], "properties": { "accounts": { "minItems": 2 } } },
                "then": { "properties": { "role": { "pattern": "\\{account\\}" } } }
            }
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
