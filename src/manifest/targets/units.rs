//! `organizational_units:` and `exclude_accounts:` in a `targets:` entry: the accounts of AWS
//! Organizations units (or the root), known only when Organizations is asked at plan time
//! ([`crate::org::expand`]). Here: the keys' rules, offline (unit ids by the API's pattern, a
//! role with `{account}`, exclusions only beside units), and turning an entry and what its units
//! expanded to into targets, each placed at the unit that reached it.

use super::super::tree::Pos;
use super::super::validate::{At, Checker, Cursor, describe};
use super::super::wording::shorten;
use super::{Entry, List, valid};
use crate::manifest::tree::deserialize_leaf;
use crate::org::{UnitExpansion, is_unit_id};
use crate::target::{
    ACCOUNT_PLACEHOLDER, Access, AssumeRole, DEFAULT_SESSION_NAME, TargetSpec, is_account_id,
};
use std::collections::BTreeMap;

/// A `targets:` entry's organisational units, waiting for their expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitTargets {
    /// The units, each where it is written.
    pub units: Vec<At<String>>,
    /// Accounts to leave out, each where it is written.
    pub exclude: Vec<At<String>>,
    /// The regions (`None`: the default one).
    pub regions: Vec<Option<String>>,
    /// The role ARN template, with `{account}`.
    pub role: String,
    pub external_id: Option<String>,
    pub session_name: String,
}

impl UnitTargets {
    /// The entry's units, when it has valid ones.
    pub(super) fn of(entry: &Entry) -> Option<UnitTargets> {
        let units = valid(&entry.units)?.clone();
        let role = valid(&entry.role)?.value.clone();
        Some(UnitTargets {
            units,
            exclude: valid(&entry.exclude).cloned().unwrap_or_default(),
            regions: match valid(&entry.regions) {
                Some(regions) => regions.iter().map(|r| Some(r.value.clone())).collect(),
                None => vec![None],
            },
            role,
            external_id: entry.external_id.as_ref().and_then(|(_, id)| id.clone()),
            session_name: entry
                .session_name
                .as_ref()
                .and_then(|(_, name)| name.clone())
                .unwrap_or_else(|| DEFAULT_SESSION_NAME.to_string()),
        })
    }

    /// The targets these units stand for, given what each expanded to (by unit id): every
    /// account not excluded, in every region, reached through the role; each placed at the first
    /// of the entry's units that reached it. An account two units reach is one target.
    pub fn targets(&self, expanded: &BTreeMap<&str, &UnitExpansion>) -> Vec<At<TargetSpec>> {
        let mut accounts: Vec<(String, Pos)> = Vec::new();
        for unit in &self.units {
            let Some(expansion) = expanded.get(unit.value.as_str()) else {
                continue;
            };
            for account in &expansion.accounts {
                if self.exclude.iter().any(|e| e.value == account.id)
                    || accounts.iter().any(|(id, _)| *id == account.id)
                {
                    continue;
                }
                accounts.push((account.id.clone(), unit.pos));
            }
        }
        let mut targets = Vec::with_capacity(accounts.len() * self.regions.len());
        for (account, pos) in accounts {
            let access = Access::Role(AssumeRole {
                role_arn: self.role.replace(ACCOUNT_PLACEHOLDER, &account),
                external_id: self.external_id.clone(),
                session_name: self.session_name.clone(),
            });
            for region in &self.regions {
                targets.push(At {
                    value: TargetSpec {
                        account: Some(account.clone()),
                        region: region.clone(),
                        access: access.clone(),
                    },
                    pos,
                });
            }
        }
        targets
    }
}

impl UnitTargets {
    /// The exclusions that left an account of these units out (an exclusion of an account no
    /// unit reached left nothing out), each where it is written.
    pub fn excluded(&self, expanded: &BTreeMap<&str, &UnitExpansion>) -> Vec<At<String>> {
        let reached = |id: &str| {
            self.units.iter().any(|unit| {
                expanded
                    .get(unit.value.as_str())
                    .is_some_and(|e| e.accounts.iter().chain(&e.skipped).any(|a| a.id == id))
            })
        };
        self.exclude
            .iter()
            .filter(|e| reached(&e.value))
            .cloned()
            .collect()
    }
}

impl Checker<'_> {
    pub(super) fn units(&mut self, at: Cursor<'_>) -> Option<Vec<At<String>>> {
        let list = List {
            key: "organizational_units",
            noun: "organizational unit",
            example: "[ou-ab12-cd34ef56]",
            empty: "list at least one OU id (ou-…) or the root (r-…)",
        };
        self.distinct_list(at, &list, |checker, item| {
            let Some(id) = deserialize_leaf::<String>(item.value) else {
                let message = format!(
                    "each item of `organizational_units` must be an OU id such as \
                     `ou-ab12-cd34ef56` or a root id such as `r-ab12`, found {}",
                    describe(item.value)
                );
                checker.error(item.pos, message);
                return None;
            };
            if !is_unit_id(&id) {
                let hint = is_account_id(&id).then(|| {
                    "an account id goes in `accounts`; `organizational_units` takes OU and root ids"
                        .to_string()
                });
                let message = format!(
                    "invalid organizational unit `{}`: OU ids look like `ou-ab12-cd34ef56` \
                     (lowercase letters and digits) and roots like `r-ab12`",
                    shorten(&id)
                );
                checker.error_hinted(item.pos, message, hint);
                return None;
            }
            Some(id)
        })
    }

    pub(super) fn exclude_accounts(&mut self, at: Cursor<'_>) -> Option<Vec<At<String>>> {
        let list = List {
            key: "exclude_accounts",
            noun: "excluded account",
            example: "[\"123456789012\"]",
            empty: "list the accounts to leave out, or leave `exclude_accounts` out",
        };
        self.distinct_list(at, &list, |checker, item| {
            let id = deserialize_leaf::<crate::manifest::raw::RawAccountId>(item.value)
                .map(|a| a.0)
                .filter(|id| is_account_id(id));
            if id.is_none() {
                let message = format!(
                    "each item of `exclude_accounts` must be a 12-digit account id, found {}",
                    describe(item.value)
                );
                checker.error(item.pos, message);
            }
            id
        })
    }

    /// What goes with `organizational_units` and `exclude_accounts`.
    pub(super) fn unit_rules(&mut self, entry: &Entry) {
        if let Some((exclude, _)) = &entry.exclude
            && entry.units.is_none()
        {
            self.error(
                *exclude,
                "`exclude_accounts` only goes with `organizational_units`: it leaves accounts of \
                 the units out",
            );
        }
        let Some((units, _)) = &entry.units else {
            return;
        };
        match (&entry.role, &entry.profile) {
            (None, _) => {
                let message = format!(
                    "`organizational_units` needs `role: arn:aws:iam::{ACCOUNT_PLACEHOLDER}:role/NAME`, \
                     assumed in each of their accounts with the default credentials"
                );
                self.error(*units, message);
            }
            (Some((_, Some(role))), _) if !role.value.contains(ACCOUNT_PLACEHOLDER) => {
                let message = format!(
                    "`role` names one role for every account of `organizational_units`; write \
                     `{ACCOUNT_PLACEHOLDER}` where the account id goes"
                );
                self.error(role.pos, message);
            }
            _ => {}
        }
    }
}
