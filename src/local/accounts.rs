//! The seed's accounts form: which AWS accounts the local catalog holds, which base access keys
//! belong to each, which regions each has enabled (each with its own catalog contents, a
//! [`Seed`]), and which IAM roles each offers to STS `AssumeRole`, with their trust and external
//! id. [`SeedFile`] reads either form of a seed file: the accounts form, or the original one
//! (products, actions and associations at the top level), which keeps its meaning: the default
//! account [`DEFAULT_ACCOUNT`] in every region, each region its own copy.
//!
//! ```yaml
//! accounts:
//!   - id: "111111111111"              # the first account's first region is the default target
//!     name: hub                       # caller ARN arn:aws:iam::111111111111:user/hub
//!     access_keys: [AKIDHUB]          # base credentials that belong to this account
//!     regions:                        # the enabled regions; any other is not enabled
//!       us-east-1: {products: [...], actions: [...], associations: [...]}
//!       eu-west-1: {}                 # enabled, empty
//!     roles:
//!       - name: ServiceCatalogAdmin   # arn:aws:iam::111111111111:role/ServiceCatalogAdmin
//!         trusted_accounts: ["111111111111"]  # default: the role's own account
//!         external_id: optional       # then required, exactly, by AssumeRole
//!         max_session_duration: 3600  # 3600..=43200, IAM's default 3600
//! ```
//!
//! Like the original form, unknown keys and dangling references (a trusted account nobody
//! declared, an association naming a product its region lacks) are errors, so a typo fails
//! loudly instead of producing a catalog that silently lacks something.

use super::LocalError;
use super::seed::Seed;
use anyhow::{Context, bail};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashSet;
use std::fmt;
use std::path::Path;

/// The account an original-form seed (and any base access key it is called with) stands for.
pub const DEFAULT_ACCOUNT: &str = "111111111111";

/// The region [`LocalCatalog::associations`](super::LocalCatalog::associations) reports for an
/// original-form seed: the region every existing test and example calls.
pub const DEFAULT_REGION: &str = "us-east-1";

/// IAM's default `MaxSessionDuration` of a role, and the most role chaining allows.
pub const ONE_HOUR: u32 = 3600;

/// A seed file in either form.
#[derive(Debug, Clone, PartialEq)]
pub enum SeedFile {
    /// Products, actions and associations at the top level: [`DEFAULT_ACCOUNT`], every region.
    Single(Seed),
    /// `accounts:` at the top level, and the organisation they belong to, if any.
    Accounts(Vec<SeedAccount>, Option<super::SeedOrganization>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountsForm {
    accounts: Vec<SeedAccount>,
    #[serde(default)]
    organization: Option<super::SeedOrganization>,
}

impl SeedFile {
    /// Parses and validates a YAML (or JSON) seed of either form.
    pub fn from_yaml_str(s: &str) -> Result<SeedFile, LocalError> {
        Self::parse(s).map_err(LocalError::seed)
    }

    fn parse(s: &str) -> anyhow::Result<SeedFile> {
        let value: serde_yaml::Value = serde_yaml::from_str(s).context("invalid catalog seed")?;
        let is_accounts_form = value
            .as_mapping()
            .is_some_and(|m| m.contains_key("accounts"));
        if !is_accounts_form {
            return Ok(SeedFile::Single(Seed::from_yaml_str(s)?));
        }
        if let Some(m) = value.as_mapping()
            && ["products", "actions", "associations"]
                .iter()
                .any(|k| m.contains_key(*k))
        {
            bail!(
                "a catalog seed gives either products/actions/associations at the top level (one \
                 account, every region) or `accounts`, not both: move them under \
                 accounts[].regions"
            );
        }
        let form: AccountsForm = serde_yaml::from_value(value).context("invalid catalog seed")?;
        validate_accounts(&form.accounts)?;
        if let Some(organization) = &form.organization {
            organization.validate()?;
        }
        Ok(SeedFile::Accounts(form.accounts, form.organization))
    }

    /// Reads, parses and validates a seed file of either form.
    pub fn from_file(p: &Path) -> Result<SeedFile, LocalError> {
        let text = std::fs::read_to_string(p).map_err(|source| LocalError::ReadSeed {
            path: p.to_path_buf(),
            source,
        })?;
        SeedFile::parse(&text)
            .with_context(|| format!("in catalog seed {}", p.display()))
            .map_err(LocalError::seed)
    }
}

/// One AWS account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedAccount {
    /// Twelve digits.
    pub id: String,
    /// For messages and the caller's user ARN (`arn:aws:iam::ID:user/NAME`); default: the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Base (long-term, `AKIA…`-like) access key ids that belong to this account. Keys nobody
    /// declares are refused as AWS refuses unknown keys.
    #[serde(default)]
    pub access_keys: Vec<String>,
    /// The regions enabled for this account, each with its catalog's contents (`{}` for an
    /// enabled region with an empty catalog). Any other region answers as an opt-in region that
    /// is not enabled.
    #[serde(default)]
    pub regions: Regions,
    /// Roles STS `AssumeRole` can issue credentials for.
    #[serde(default)]
    pub roles: Vec<SeedRole>,
}

impl SeedAccount {
    /// An account with neither keys, regions nor roles; see the builder methods.
    pub fn new(id: impl Into<String>) -> Self {
        SeedAccount {
            id: id.into(),
            name: None,
            access_keys: Vec::new(),
            regions: Regions::default(),
            roles: Vec::new(),
        }
    }

    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }

    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    pub fn with_access_key(mut self, key: impl Into<String>) -> Self {
        self.access_keys.push(key.into());
        self
    }

    pub fn with_region(mut self, region: impl Into<String>, contents: Seed) -> Self {
        self.regions.0.push((region.into(), contents));
        self
    }

    pub fn with_role(mut self, role: SeedRole) -> Self {
        self.roles.push(role);
        self
    }
}

/// An IAM role: `arn:aws:iam::ACCOUNT:role/NAME`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedRole {
    pub name: String,
    /// Accounts whose principals the trust policy admits (every principal of a listed account,
    /// as a trust policy naming `arn:aws:iam::ID:root` does). Default: the role's own account.
    #[serde(default)]
    pub trusted_accounts: Vec<String>,
    /// The `sts:ExternalId` the trust policy requires, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The role's `MaxSessionDuration` in seconds (3600..=43200, IAM's default 3600).
    #[serde(default = "one_hour")]
    pub max_session_duration: u32,
}

fn one_hour() -> u32 {
    ONE_HOUR
}

impl SeedRole {
    /// A role trusted by its own account only, with no external id.
    pub fn new(name: impl Into<String>) -> Self {
        SeedRole {
            name: name.into(),
            trusted_accounts: Vec::new(),
            external_id: None,
            max_session_duration: ONE_HOUR,
        }
    }

    pub fn trusting(mut self, account: impl Into<String>) -> Self {
        self.trusted_accounts.push(account.into());
        self
    }

    pub fn with_external_id(mut self, id: impl Into<String>) -> Self {
        self.external_id = Some(id.into());
        self
    }
}

/// Region name → catalog contents, in the order written (the first region of the first account
/// is the default target). Written as a YAML mapping; a region named twice is an error.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Regions(pub Vec<(String, Seed)>);

impl Serialize for Regions {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (region, seed) in &self.0 {
            map.serialize_entry(region, seed)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Regions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = Regions;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of region name to catalog contents")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Regions, A::Error> {
                let mut out: Vec<(String, Seed)> = Vec::new();
                while let Some((region, seed)) = map.next_entry::<String, Seed>()? {
                    if out.iter().any(|(r, _)| *r == region) {
                        return Err(serde::de::Error::custom(format!(
                            "region {region:?} appears twice"
                        )));
                    }
                    out.push((region, seed));
                }
                Ok(Regions(out))
            }
        }
        deserializer.deserialize_map(InOrder)
    }
}

/// A twelve-digit account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Shaped like an AWS region name: lowercase words and a number joined by dashes, beginning
/// with a two-letter area (`us-east-1`, `us-gov-west-1`, `ap-southeast-4`, `il-central-1`).
pub fn is_region_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    s.len() <= 32
        && parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// STS's `[\w+=,.@-]`, the characters of role session names (and, IAM's rule, role names).
/// `\w` is ASCII here, as in the Java regular expressions AWS's validators use by default.
pub fn is_session_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || "+=,.@-".contains(c)
}

/// STS's `externalIdType` pattern `[\w+=,.@:\/-]*`.
pub fn is_external_id_char(c: char) -> bool {
    is_session_name_char(c) || c == ':' || c == '/'
}

fn validate_accounts(accounts: &[SeedAccount]) -> anyhow::Result<()> {
    if accounts.is_empty() {
        bail!("`accounts` must list at least one account");
    }
    let mut ids = HashSet::new();
    for a in accounts {
        if !is_account_id(&a.id) {
            bail!("account id {:?} is not twelve digits", a.id);
        }
        if !ids.insert(a.id.as_str()) {
            bail!("account {:?} appears twice", a.id);
        }
    }
    let mut keys = HashSet::new();
    for a in accounts {
        let at = || format!("account {} ({})", a.id, a.name());
        if a.name.as_deref().is_some_and(|n| {
            n.is_empty() || n.chars().count() > 64 || !n.chars().all(is_session_name_char)
        }) {
            bail!("{}: name must be 1..=64 characters of [\\w+=,.@-]", at());
        }
        for key in &a.access_keys {
            // Word characters, at most accessKeyIdType's 128 (its minimum of 16 is waived so
            // seeds can use short, readable keys). ASIA… is what STS issues, so a seeded key
            // there could collide with an issued one.
            if !(1..=128).contains(&key.len())
                || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                bail!(
                    "{}: access key {key:?} must be 1..=128 letters, digits or _",
                    at()
                );
            }
            if key.starts_with("ASIA") {
                bail!(
                    "{}: access key {key:?} starts with ASIA, which is reserved for the temporary \
                     keys AssumeRole issues",
                    at()
                );
            }
            if !keys.insert(key.as_str()) {
                bail!("access key {key:?} belongs to two accounts");
            }
        }
        for (region, seed) in &a.regions.0 {
            if !is_region_name(region) {
                bail!("{}: {region:?} is not a region name (like us-east-1)", at());
            }
            seed.validate()
                .with_context(|| format!("{}, region {region}", at()))?;
        }
        let mut names = HashSet::new();
        for r in &a.roles {
            let role = || format!("{}, role {:?}", at(), r.name);
            if r.name.is_empty()
                || r.name.chars().count() > 64
                || !r.name.chars().all(is_session_name_char)
            {
                bail!("{}: name must be 1..=64 characters of [\\w+=,.@-]", role());
            }
            if !names.insert(r.name.as_str()) {
                bail!("{}: appears twice", role());
            }
            if let Some(t) = r
                .trusted_accounts
                .iter()
                .find(|t| !ids.contains(t.as_str()))
            {
                bail!(
                    "{}: trusted account {t:?} is not one of the seed's accounts",
                    role()
                );
            }
            if let Some(x) = &r.external_id
                && (!(2..=1224).contains(&x.chars().count()) || !x.chars().all(is_external_id_char))
            {
                bail!(
                    "{}: external_id must be 2..=1224 characters of [\\w+=,.@:/-]",
                    role()
                );
            }
            if !(ONE_HOUR..=43_200).contains(&r.max_session_duration) {
                bail!("{}: max_session_duration must be 3600..=43200", role());
            }
        }
    }
    Ok(())
}

/// Validates accounts built in code (tests, benchmarks), as a seed file's are.
pub fn validate(accounts: &[SeedAccount]) -> Result<(), LocalError> {
    validate_accounts(accounts).map_err(LocalError::seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = r#"
accounts:
  - id: "111111111111"
    name: hub
    access_keys: [AKIDHUB]
    regions:
      us-east-1:
        products: [{id: prod-a, name: Web, artifacts: [{id: pa-a, name: v1}]}]
      eu-west-1: {}
  - id: "222222222222"
    roles:
      - {name: Admin, trusted_accounts: ["111111111111"], external_id: ext-1}
"#;

    #[test]
    fn reads_the_accounts_form_in_order() {
        let SeedFile::Accounts(accounts, _) = SeedFile::from_yaml_str(TWO).expect("valid") else {
            panic!("accounts form expected");
        };
        let regions: Vec<&str> = accounts[0].regions.0.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(regions, ["us-east-1", "eu-west-1"]);
        assert_eq!(accounts[1].name(), "222222222222");
        assert_eq!(accounts[1].roles[0].max_session_duration, ONE_HOUR);
    }

    #[test]
    fn the_original_form_still_reads() {
        let file = SeedFile::from_yaml_str("actions: [{id: act-1, name: A}]").expect("valid");
        assert!(matches!(file, SeedFile::Single(s) if s.actions.len() == 1));
    }

    #[test]
    fn mistakes_are_errors() {
        for (bad, why) in [
            (TWO.replace("name: hub", "nmae: hub"), "unknown field"),
            (TWO.replace("\"222222222222\"", "\"111111111111\""), "twice"),
            (TWO.replace("trusted_accounts: [\"111111111111\"]", "trusted_accounts: [\"333333333333\"]"), "not one of"),
            (TWO.replace("eu-west-1", "Europe"), "not a region"),
            (TWO.replace("AKIDHUB", "ASIAHUBEXAMPLE00"), "reserved"),
            (TWO.replace("pa-a, name: v1}]}]", "pa-a, name: v1}]}]\n        associations: [{product: prod-x, artifact: pa-a, action: act-1}]"), "unknown product"),
            (format!("products: []\n{TWO}"), "not both"),
            (TWO.replace("id: \"222222222222\"", "id: \"2222\""), "twelve digits"),
        ] {
            let err = SeedFile::from_yaml_str(&bad).expect_err(why);
            assert!(format!("{err:#}").contains(why), "{why}: {err:#}");
        }
    }

    #[test]
    fn region_names() {
        for good in [
            "us-east-1",
            "us-gov-west-1",
            "ap-southeast-4",
            "il-central-1",
        ] {
            assert!(is_region_name(good), "{good}");
        }
        for bad in [
            "",
            "us-east",
            "useast1",
            "US-EAST-1",
            "us--1",
            "u-east-1",
            "us-east-1a",
        ] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }
}
