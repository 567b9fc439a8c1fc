//! A `targets:` entry as written ([`RawTarget`]): the keys, the id types that read as YAML
//! writes them (an account id may be an integer), the patterns the schema states, and the rules
//! between keys that serde cannot express. Checked by `manifest::targets`.

use super::present;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// Keys of a `targets` entry, checked against [`RawTarget`]'s schema like the above.
pub const TARGET_KEYS: [&str; 8] = [
    "accounts",
    "organizational_units",
    "exclude_accounts",
    "regions",
    "role",
    "external_id",
    "session_name",
    "profile",
];

/// An OU or root id for the schema (AWS Organizations' `ParentId`); the code checks
/// [`crate::org::is_unit_id`].
pub const UNIT_ID_PATTERN: &str = "^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$";

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
    /// AWS Organizations units (`ou-…`) or the root (`r-…`): every ACTIVE account below them,
    /// recursively, found at plan time with the default credentials (the management account or
    /// a delegated administrator). Needs `role`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Vec<RawUnitId>", length(min = 1))]
    pub organizational_units: Option<Vec<String>>,
    /// Accounts of `organizational_units` to leave out.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Vec<RawAccountId>", length(min = 1))]
    pub exclude_accounts: Option<Vec<RawAccountId>>,
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

/// An OU or root id, for the schema.
#[derive(JsonSchema)]
#[schemars(rename = "UnitId")]
#[allow(dead_code)]
struct RawUnitId(#[schemars(regex(pattern = UNIT_ID_PATTERN))] String);

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

/// Adds the rules between a target's keys that serde cannot express: `role` or `profile`, not
/// both; `role` only with `accounts` or `organizational_units`, `accounts` only with `role` or
/// `profile`, units only with `role` and exclusions only with units; the STS parameters only with
/// `role`; one account per profile; `{account}` in a role given for several accounts or units.
pub(super) fn target_rules(schema: &mut Schema) {
    schema.insert(
        "dependencies".to_owned(),
        serde_json::json!({
            "accounts": { "anyOf": [ { "required": ["role"] }, { "required": ["profile"] } ] },
            "organizational_units": ["role"],
            "exclude_accounts": ["organizational_units"],
            "role": { "anyOf": [ { "required": ["accounts"] }, { "required": ["organizational_units"] } ] },
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
            },
            {
                "if": { "required": ["organizational_units"] },
                "then": { "properties": { "role": { "pattern": "\\{account\\}" } } }
            }
        ]),
    );
}
