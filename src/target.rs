//! Where a reconciliation happens: one AWS account in one region, and how to reach it. Service
//! actions and their associations live per account and region, so a manifest's `targets:`
//! section expands to a list of [`TargetSpec`]s, and [`crate::pipeline`] runs the whole pipeline
//! once per target. A manifest without `targets:` has one target, [`TargetSpec::current`]: the
//! account of the default credentials in the default region, which is what every run meant
//! before targets existed.
//!
//! A target is reached with the default credentials, by assuming a role with them
//! ([`Access::Role`]), or through a named profile ([`Access::Profile`]).

use serde::Serialize;
use std::fmt;

/// The role session name used when a manifest names none: CloudTrail shows it beside each call.
pub const DEFAULT_SESSION_NAME: &str = "sc-assoc";

/// The placeholder a role ARN template writes for the target's account id.
pub const ACCOUNT_PLACEHOLDER: &str = "{account}";

/// The placeholder a service action's role ARN writes for the target's region.
pub const REGION_PLACEHOLDER: &str = "{region}";

/// One account and region, and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct TargetSpec {
    /// The 12-digit account id; `None` for whatever account the credentials belong to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The region; `None` for the default one (`--region`, `AWS_REGION`, the profile's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub access: Access,
}

/// How a target's credentials are obtained.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Access {
    /// The default credential chain as it is (or `--profile`).
    Default,
    /// Assume this role with the default credentials (STS `AssumeRole`).
    Role(AssumeRole),
    /// The named profile of the AWS config files.
    Profile(String),
}

/// An STS `AssumeRole` request for one target.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct AssumeRole {
    /// The role's ARN, the manifest's template with the account filled in.
    pub role_arn: String,
    /// The external id the role's trust policy requires. Never printed: AWS does not treat it
    /// as a secret, but it is one of the facts an attacker would need.
    #[serde(skip)]
    pub external_id: Option<String>,
    pub session_name: String,
}

impl fmt::Debug for AssumeRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumeRole")
            .field("role_arn", &self.role_arn)
            .field(
                "external_id",
                &self.external_id.as_ref().map(|_| "** redacted **"),
            )
            .field("session_name", &self.session_name)
            .finish()
    }
}

impl TargetSpec {
    /// The target of a manifest without `targets:`.
    pub fn current() -> Self {
        Self {
            account: None,
            region: None,
            access: Access::Default,
        }
    }

    /// True for the account of the default credentials in the default region.
    pub fn is_current(&self) -> bool {
        *self == Self::current()
    }

    /// Whether `filter` (`--target`) selects this target.
    pub fn matches(&self, filter: &TargetFilter) -> bool {
        let account = match &self.account {
            Some(account) => account.as_str(),
            None => "current",
        };
        account == filter.account
            && filter
                .region
                .as_ref()
                .is_none_or(|region| self.region.as_ref() == Some(region))
    }
}

/// `ACCOUNT/REGION`, `current/REGION`, or `current` for the default account in the default
/// region; a profile's name is added in parentheses when it reaches an account not named.
impl fmt::Display for TargetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.account, &self.access) {
            (Some(account), _) => f.write_str(account)?,
            (None, Access::Profile(profile)) => write!(f, "profile {profile}")?,
            (None, _) => f.write_str("current")?,
        }
        if let Some(region) = &self.region {
            write!(f, "/{region}")?;
        }
        Ok(())
    }
}

/// A `--target ACCOUNT[/REGION]` selection: an account id (or `current`), optionally one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetFilter {
    pub account: String,
    pub region: Option<String>,
}

impl std::str::FromStr for TargetFilter {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (account, region) = match text.split_once('/') {
            Some((account, region)) => (account, Some(region)),
            None => (text, None),
        };
        if account != "current" && !is_account_id(account) {
            return Err(format!(
                "`{text}`: the account must be 12 digits (or `current`), as in 123456789012/us-east-1"
            ));
        }
        if let Some(region) = region
            && !is_region(region)
        {
            return Err(format!(
                "`{text}`: `{region}` is not a region name such as us-east-1"
            ));
        }
        Ok(Self {
            account: account.to_string(),
            region: region.map(str::to_string),
        })
    }
}

impl fmt::Display for TargetFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.account)?;
        if let Some(region) = &self.region {
            write!(f, "/{region}")?;
        }
        Ok(())
    }
}

/// An AWS account id: exactly 12 ASCII digits.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// A region name as AWS spells them: lowercase words joined by `-`, ending in a number
/// (`us-east-1`, `us-gov-west-1`, `ap-southeast-3`).
pub fn is_region(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    words.len() >= 2
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && !number.is_empty()
        && number.len() <= 2
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// `--shard I/N`: the I-th of N deterministic slices of a run's targets, so N pipeline jobs
/// cover an organisation with no coordination and no account list. A target's slice is a hash
/// of its account and region, so an account that joins adds targets to some slices and moves
/// none of the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Whether `target` is in this slice.
    pub fn contains(&self, target: &TargetSpec) -> bool {
        use sha2::{Digest, Sha256};
        let account = target.account.as_deref().unwrap_or("current");
        let region = target.region.as_deref().unwrap_or("");
        let digest = Sha256::digest(format!("sc-assoc/shard/v1\0{account}\0{region}"));
        let head = u64::from_be_bytes([
            digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
        ]);
        head % u64::from(self.count) == u64::from(self.index - 1)
    }
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let wrong = || format!("`{text}` is not a shard: write I/N, such as 2/10 (the 2nd of 10)");
        let (index, count) = text.split_once('/').ok_or_else(wrong)?;
        let (index, count): (u32, u32) = (
            index.trim().parse().map_err(|_| wrong())?,
            count.trim().parse().map_err(|_| wrong())?,
        );
        if count == 0 || index == 0 || index > count {
            return Err(format!(
                "`{text}` is not a shard: I must be 1 to N, and N at least 1"
            ));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The account id an IAM role ARN names (`arn:PARTITION:iam::ACCOUNT:role/NAME`), if it is one.
pub fn role_arn_account(arn: &str) -> Option<&str> {
    let mut fields = arn.splitn(6, ':');
    let (arn_, partition, service, region, account, resource) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    let role_name = resource.strip_prefix("role/")?;
    (arn_ == "arn"
        && partition.starts_with("aws")
        && service == "iam"
        && region.is_empty()
        && is_account_id(account)
        && !role_name.is_empty()
        && !role_name.ends_with('/'))
    .then_some(account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_account_and_region() {
        let mut target = TargetSpec::current();
        assert_eq!(target.to_string(), "current");
        target.region = Some("eu-west-1".into());
        assert_eq!(target.to_string(), "current/eu-west-1");
        target.account = Some("222222222222".into());
        assert_eq!(target.to_string(), "222222222222/eu-west-1");
        let by_profile = TargetSpec {
            account: None,
            region: Some("us-east-1".into()),
            access: Access::Profile("spoke".into()),
        };
        assert_eq!(by_profile.to_string(), "profile spoke/us-east-1");
    }

    #[test]
    fn filters_select_an_account_or_one_region_of_it() {
        let target = TargetSpec {
            account: Some("222222222222".into()),
            region: Some("us-east-1".into()),
            access: Access::Default,
        };
        let parse = |s: &str| s.parse::<TargetFilter>().unwrap();
        assert!(target.matches(&parse("222222222222")));
        assert!(target.matches(&parse("222222222222/us-east-1")));
        assert!(!target.matches(&parse("222222222222/eu-west-1")));
        assert!(!target.matches(&parse("333333333333")));
        assert!(TargetSpec::current().matches(&parse("current")));
        for bad in [
            "22222222222",
            "abc",
            "222222222222/",
            "222222222222/US-EAST-1",
        ] {
            assert!(bad.parse::<TargetFilter>().is_err(), "{bad}");
        }
    }

    fn account(id: u64, region: &str) -> TargetSpec {
        TargetSpec {
            account: Some(format!("{id:012}")),
            region: Some(region.to_string()),
            access: Access::Default,
        }
    }

    #[test]
    fn every_target_is_in_exactly_one_shard_and_the_shards_are_even() {
        let targets: Vec<TargetSpec> = (0..2_000)
            .flat_map(|n| [account(n, "us-east-1"), account(n, "eu-west-1")])
            .collect();
        let shards: Vec<Shard> = (1..=10).map(|index| Shard { index, count: 10 }).collect();
        let mut sizes = [0usize; 10];
        for target in &targets {
            let owners: Vec<usize> = (0..10).filter(|&i| shards[i].contains(target)).collect();
            assert_eq!(owners.len(), 1, "{target} is in {owners:?}");
            sizes[owners[0]] += 1;
        }
        // 4,000 targets in 10 slices: each within 15% of 400.
        assert!(sizes.iter().all(|&n| (340..=460).contains(&n)), "{sizes:?}");
        let whole = Shard { index: 1, count: 1 };
        assert!(targets.iter().all(|t| whole.contains(t)));
    }

    #[test]
    fn a_shard_depends_on_account_and_region_only_so_new_accounts_move_no_others() {
        let before: Vec<TargetSpec> = (0..300).map(|n| account(n, "us-east-1")).collect();
        let slice = |t: &TargetSpec| (1..=7).find(|&index| Shard { index, count: 7 }.contains(t));
        let placed: Vec<_> = before.iter().map(slice).collect();
        // The same targets, with others around them and another access, land where they were.
        let mut after: Vec<TargetSpec> = (300..400).map(|n| account(n, "us-east-1")).collect();
        after.extend(before.iter().cloned().map(|mut t| {
            t.access = Access::Profile("spoke".into());
            t
        }));
        let replaced: Vec<_> = after[100..].iter().map(slice).collect();
        assert_eq!(placed, replaced);
    }

    #[test]
    fn shards_are_written_i_of_n() {
        assert_eq!(
            "2/10".parse::<Shard>(),
            Ok(Shard {
                index: 2,
                count: 10
            })
        );
        assert_eq!(
            Shard {
                index: 2,
                count: 10
            }
            .to_string(),
            "2/10"
        );
        for bad in ["0/3", "4/3", "1/0", "2", "a/b", "-1/3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn regions_are_aws_spellings() {
        for good in [
            "us-east-1",
            "us-gov-west-1",
            "ap-southeast-3",
            "eu-central-2",
        ] {
            assert!(is_region(good), "{good}");
        }
        for bad in [
            "us-east",
            "east-1",
            "US-EAST-1",
            "us--east-1",
            "us-east-1a",
            "",
        ] {
            assert!(!is_region(bad), "{bad}");
        }
    }

    #[test]
    fn role_arns_name_their_account() {
        assert_eq!(
            role_arn_account("arn:aws:iam::222222222222:role/ServiceCatalogAdmin"),
            Some("222222222222")
        );
        assert_eq!(
            role_arn_account("arn:aws-us-gov:iam::222222222222:role/path/Admin"),
            Some("222222222222")
        );
        for bad in [
            "arn:aws:iam::222222222222:user/x",
            "arn:aws:iam::2222:role/x",
            "arn:aws:sts::222222222222:role/x",
            "arn:aws:iam::222222222222:role/",
            "ServiceCatalogAdmin",
        ] {
            assert_eq!(role_arn_account(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_external_id_is_never_printed() {
        let role = AssumeRole {
            role_arn: "arn:aws:iam::222222222222:role/A".into(),
            external_id: Some("hub-7f3a".into()),
            session_name: DEFAULT_SESSION_NAME.into(),
        };
        assert!(!format!("{role:?}").contains("hub-7f3a"));
        assert!(!serde_json::to_string(&role).unwrap().contains("hub-7f3a"));
    }
}
