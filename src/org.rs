//! Targets by organisational unit: what an OU (or the root) of AWS Organizations stands for at
//! this run. [`expand`] walks each unit named in a manifest's `targets:` down to its accounts,
//! recursively, through the [`Organization`] seam (the listing operations of AWS Organizations,
//! called with the default credentials: the management account or a delegated administrator),
//! and returns, per unit, the ACTIVE accounts below it and the accounts it skipped (suspended,
//! pending closure) with why. Nothing is passed off as whole that is not: a unit that cannot be
//! listed, or a walk past the bounds below, fails the expansion with the unit named.
//!
//! The expansion is a step before planning: the manifest layer turns it into targets
//! (`crate::manifest::Loaded::assemble`), and the plan and saved plans record what each unit
//! stood for.

use crate::seam::{ApiError, ApiResult, ErrorKind};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::future::Future;

/// The most organisational units one expansion visits. AWS Organizations allows 1,000 OUs per
/// organisation by default (raisable) and 5 levels of nesting; ten times the default is still a
/// walk of minutes, and a stand-in that loops ends here instead of never.
pub const MAX_UNITS_VISITED: usize = 10_000;

/// What AWS Organizations' listing operations answer, as sc-assoc needs them. Each call returns
/// every page.
pub trait Organization: Send + Sync {
    /// ListOrganizationalUnitsForParent: the OUs directly below `parent` (a root or an OU).
    fn list_units(&self, parent: &str) -> impl Future<Output = ApiResult<Vec<OrgUnit>>> + Send;

    /// ListAccountsForParent: the accounts directly below `parent`.
    fn list_accounts(
        &self,
        parent: &str,
    ) -> impl Future<Output = ApiResult<Vec<OrgAccount>>> + Send;
}

/// An organisational unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgUnit {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// An account of the organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgAccount {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE` (the API's `Status`).
    pub status: String,
}

impl OrgAccount {
    pub fn is_active(&self) -> bool {
        self.status == "ACTIVE"
    }
}

/// What one unit named in a manifest stood for at this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitExpansion {
    /// The OU or root id as written.
    pub unit: String,
    /// Every ACTIVE account below it (recursively), by id.
    pub accounts: Vec<OrgAccount>,
    /// Accounts below it that are not ACTIVE, left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<OrgAccount>,
    /// OUs visited below it (itself included).
    pub units_visited: usize,
}

impl UnitExpansion {
    /// `ou-ab12-cd34ef56 → 111111111111 (hub), 222222222222 (spoke-a)`, for plans.
    pub fn line(&self) -> String {
        let accounts: Vec<String> = self.accounts.iter().map(named).collect();
        let mut line = format!(
            "{} → {}",
            self.unit,
            if accounts.is_empty() {
                "no active account".to_string()
            } else {
                accounts.join(", ")
            }
        );
        if !self.skipped.is_empty() {
            let skipped: Vec<String> = self
                .skipped
                .iter()
                .map(|a| format!("{} {}", named(a), a.status))
                .collect();
            line.push_str(&format!("; skipped: {}", skipped.join(", ")));
        }
        line
    }
}

fn named(account: &OrgAccount) -> String {
    match &account.name {
        Some(name) => format!("{} ({name})", account.id),
        None => account.id.clone(),
    }
}

/// Where an expansion failed: the unit the manifest names and, when the listing that failed
/// was of a unit below it, that one. Shown as `` `ou-a` `` or `` `ou-a` (at `ou-b`) ``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitAt {
    pub unit: String,
    pub listing: Option<String>,
}

impl std::fmt::Display for UnitAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}`", self.unit)?;
        match &self.listing {
            Some(listing) => write!(f, " (at `{listing}`)"),
            None => Ok(()),
        }
    }
}

/// Why the units could not be expanded. Nothing is planned from a partial expansion.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum OrgError {
    /// The credentials' account is in no organisation.
    #[error("the credentials' account is not in an AWS organisation, so {unit} cannot be expanded")]
    NotInUse {
        unit: UnitAt,
        #[source]
        error: ApiError,
    },
    /// Listing is refused: not the management account nor a delegated administrator.
    #[error(
        "AWS Organizations refused to list {unit}: only the management account or a delegated administrator can list an organisation's units and accounts"
    )]
    Denied {
        unit: UnitAt,
        #[source]
        error: ApiError,
    },
    /// The credentials themselves were refused (unknown key, bad signature, expired session):
    /// not a question of Organizations permissions.
    #[error("AWS Organizations refused the credentials while listing {unit}")]
    Refused {
        unit: UnitAt,
        #[source]
        error: ApiError,
    },
    /// The unit does not exist.
    #[error("organisational unit {unit} does not exist in this organisation")]
    NotFound {
        unit: UnitAt,
        #[source]
        error: ApiError,
    },
    /// The walk passed [`MAX_UNITS_VISITED`].
    #[error(
        "expanding {unit} visited more than {MAX_UNITS_VISITED} organisational units; nothing was planned"
    )]
    TooLarge { unit: UnitAt },
    /// Another failure (throttling past the retries, the network).
    #[error("cannot list the accounts below {unit}")]
    Failed {
        unit: UnitAt,
        #[source]
        error: ApiError,
    },
}

impl OrgError {
    /// The API error behind this one, if any.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            OrgError::NotInUse { error, .. }
            | OrgError::Denied { error, .. }
            | OrgError::Refused { error, .. }
            | OrgError::NotFound { error, .. }
            | OrgError::Failed { error, .. } => Some(error),
            OrgError::TooLarge { .. } => None,
        }
    }

    /// The unit whose expansion failed, as the manifest names it.
    pub fn unit(&self) -> &str {
        &self.at().unit
    }

    /// Where the expansion failed: the unit, and the unit below it being listed.
    pub fn at(&self) -> &UnitAt {
        match self {
            OrgError::NotInUse { unit, .. }
            | OrgError::Denied { unit, .. }
            | OrgError::Refused { unit, .. }
            | OrgError::NotFound { unit, .. }
            | OrgError::TooLarge { unit }
            | OrgError::Failed { unit, .. } => unit,
        }
    }

    /// What the user can do about it; for refused credentials, the caller's usual hint.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            OrgError::NotInUse { .. } | OrgError::Denied { .. } => Some(
                "run with the management account's credentials, or a delegated administrator's, allowed organizations:ListOrganizationalUnitsForParent and organizations:ListAccountsForParent",
            ),
            OrgError::NotFound { .. } => Some(
                "OU ids look like ou-ab12-cd34ef56 and roots like r-ab12; `aws organizations list-roots` and `list-organizational-units-for-parent` show them",
            ),
            _ => None,
        }
    }

    fn of(unit: UnitAt, error: ApiError) -> OrgError {
        match error.code.as_str() {
            "AWSOrganizationsNotInUseException" => OrgError::NotInUse { unit, error },
            "AccessDeniedException" => OrgError::Denied { unit, error },
            "ParentNotFoundException" | "OrganizationalUnitNotFoundException" => {
                OrgError::NotFound { unit, error }
            }
            _ if error.kind == ErrorKind::Auth => OrgError::Refused { unit, error },
            _ => OrgError::Failed { unit, error },
        }
    }
}

/// Expands each of `units` to the accounts below it, at most `concurrency` listings in flight
/// per unit. The first unit that cannot be expanded fails the whole.
pub async fn expand<O: Organization>(
    org: &O,
    units: &[String],
    concurrency: usize,
) -> Result<Vec<UnitExpansion>, OrgError> {
    let mut expansions = Vec::with_capacity(units.len());
    for unit in units {
        expansions.push(expand_one(org, unit, concurrency).await?);
    }
    Ok(expansions)
}

/// What one unit holds directly: its child units and its accounts.
type Children = (Vec<OrgUnit>, Vec<OrgAccount>);

async fn expand_one<O: Organization>(
    org: &O,
    unit: &str,
    concurrency: usize,
) -> Result<UnitExpansion, OrgError> {
    let mut visited: BTreeSet<String> = BTreeSet::from([unit.to_string()]);
    let mut frontier: VecDeque<String> = VecDeque::from([unit.to_string()]);
    let mut accounts: BTreeMap<String, OrgAccount> = BTreeMap::new();
    while !frontier.is_empty() {
        // One level at a time, its units listed side by side.
        let level: Vec<String> = frontier.drain(..).collect();
        let listed: Vec<(String, ApiResult<Children>)> = futures::stream::iter(level)
            .map(|parent| async move {
                let both =
                    futures::future::try_join(org.list_units(&parent), org.list_accounts(&parent))
                        .await;
                (parent, both)
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        for (parent, result) in listed {
            let (children, found) = result.map_err(|error| {
                // The unit asked for is named; a failure deeper down names both.
                let at = UnitAt {
                    unit: unit.to_string(),
                    listing: (parent != unit).then_some(parent),
                };
                OrgError::of(at, error)
            })?;
            for child in children {
                if visited.insert(child.id.clone()) {
                    frontier.push_back(child.id);
                }
            }
            for account in found {
                accounts.entry(account.id.clone()).or_insert(account);
            }
            if visited.len() > MAX_UNITS_VISITED {
                return Err(OrgError::TooLarge {
                    unit: UnitAt {
                        unit: unit.to_string(),
                        listing: None,
                    },
                });
            }
        }
    }
    let (active, skipped): (Vec<OrgAccount>, Vec<OrgAccount>) =
        accounts.into_values().partition(OrgAccount::is_active);
    Ok(UnitExpansion {
        unit: unit.to_string(),
        accounts: active,
        skipped,
        units_visited: visited.len(),
    })
}

/// Whether `id` is an OU id (`ou-…`) or a root id (`r-…`) by the API's pattern.
pub fn is_unit_id(id: &str) -> bool {
    let lower_alnum = |s: &str, min: usize, max: usize| {
        (min..=max).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    };
    if let Some(root) = id.strip_prefix("r-") {
        return lower_alnum(root, 4, 32);
    }
    let Some(rest) = id.strip_prefix("ou-") else {
        return false;
    };
    match rest.split_once('-') {
        Some((root, unit)) => lower_alnum(root, 4, 32) && lower_alnum(unit, 8, 32),
        None => false,
    }
}

#[cfg(test)]
mod tests;
