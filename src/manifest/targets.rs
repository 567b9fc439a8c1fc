//! The `targets:` section: which accounts and regions a file's associations apply to, and how
//! each is reached. This module owns the section's rules, in two halves. Within one file, the
//! validator's walk (`Checker::targets`) checks each entry's keys and values (account ids,
//! region names, the role ARN filled in per account, STS's limits on the external id and session
//! name) and expands the entry into [`TargetSpec`]s, accounts × regions. Across files,
//! `assemble` gathers the targets in first-declared order, refuses a target reached two ways,
//! and merges for each target exactly the files that name it; a file without `targets:` names
//! [`TargetSpec::current`], so a run without targets is the one merge it always was.
//!
//! The external id is never put into a message: it stays inside [`AssumeRole`], whose `Debug`
//! hides it.

mod assemble;
mod units;

use assemble::{Identity, conflict};
pub(super) use assemble::{assemble, refuse_targets};
pub use units::UnitTargets;

use super::raw::{RawAccountId, RawExternalId, RawRegion, RawRole, RawSessionName, TARGET_KEYS};
use super::tree::{Pos, Value, deserialize_leaf};
use super::validate::{At, Checker, Cursor, describe};
use super::wording::shorten;
use crate::target::{
    ACCOUNT_PLACEHOLDER, Access, AssumeRole, DEFAULT_SESSION_NAME, TargetSpec, is_account_id,
    is_region, role_arn_account,
};
use std::collections::HashMap;

/// STS `AssumeRole` takes an `ExternalId` of 2 to this many of letters, digits and
/// [`EXTERNAL_ID_SYMBOLS`].
const EXTERNAL_ID_MAX: usize = 1224;
const EXTERNAL_ID_SYMBOLS: &str = "_+=,.@:/-";
/// STS `AssumeRole` takes a `RoleSessionName` of 2 to this many of letters, digits and
/// [`SESSION_NAME_SYMBOLS`].
const SESSION_NAME_MAX: usize = 64;
const SESSION_NAME_SYMBOLS: &str = "_+=,.@-";

/// A file's `targets:` section, validated: where the key is (for `load`'s refusal) and every
/// target its valid entries expand to, each once, in declaration order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileTargets {
    pub key: Pos,
    pub targets: Vec<At<TargetSpec>>,
    /// Entries with `organizational_units`, whose accounts are known only once AWS
    /// Organizations is asked (at plan time).
    pub units: Vec<UnitTargets>,
}

/// One key of an entry: where the key is, and its value if the value was valid.
type Given<T> = Option<(Pos, Option<T>)>;

/// Every key of an entry, as found.
#[derive(Default)]
struct Entry {
    accounts: Given<Vec<At<String>>>,
    units: Given<Vec<At<String>>>,
    exclude: Given<Vec<At<String>>>,
    regions: Given<Vec<At<String>>>,
    role: Given<At<String>>,
    external_id: Given<String>,
    session_name: Given<String>,
    profile: Given<At<String>>,
}

/// The value of an optional key that was given and valid.
fn valid<T>(given: &Given<T>) -> Option<&T> {
    given.as_ref().and_then(|(_, value)| value.as_ref())
}

impl Checker<'_> {
    /// The `targets` value at `at`, whose key is at `key`. Entries with an error add no targets;
    /// a target given twice in the file is reported at the second place and kept once.
    pub(super) fn targets(&mut self, key: Pos, at: Cursor<'_>) -> FileTargets {
        let mut section = FileTargets {
            key,
            targets: Vec::new(),
            units: Vec::new(),
        };
        let Value::Sequence(entries) = at.value else {
            let message = format!(
                "`targets` must be a list of targets, found {}",
                describe(at.value)
            );
            self.error(at.pos, message);
            return section;
        };
        if entries.is_empty() {
            self.error(
                at.pos,
                "`targets` is empty; list at least one target, or leave `targets` out for the \
                 current account in the default region",
            );
            return section;
        }
        let mut first: HashMap<Identity, usize> = HashMap::new();
        for entry in entries {
            let (targets, units) = self.target_entry(Cursor::of(entry));
            section.units.extend(units);
            for target in targets {
                match first.get(&Identity::of(&target.value)) {
                    Some(&index) => {
                        let earlier = &section.targets[index];
                        let first_at = self.location(earlier.pos).to_string();
                        let message = conflict(&target.value, &earlier.value.access, &first_at)
                            .unwrap_or_else(|| {
                                format!(
                                    "target `{}` is declared twice in this file; first at \
                                     {first_at}",
                                    target.value
                                )
                            });
                        self.error(target.pos, message);
                    }
                    None => {
                        first.insert(Identity::of(&target.value), section.targets.len());
                        section.targets.push(target);
                    }
                }
            }
        }
        section
    }

    /// One entry's targets, accounts × regions, and its organisational units if it names
    /// some; none if anything in it is wrong (all of which is reported).
    fn target_entry(&mut self, at: Cursor<'_>) -> (Vec<At<TargetSpec>>, Option<UnitTargets>) {
        let Value::Mapping(mapping) = at.value else {
            let message = format!(
                "a target must be a mapping with `accounts`, `organizational_units`, `regions`, \
                 `role` or `profile`; found {}",
                describe(at.value)
            );
            self.error(at.pos, message);
            return (Vec::new(), None);
        };
        let errors_before = self.errors.len();
        let mut entry = Entry::default();
        for (key, value) in mapping {
            let (key_pos, cursor) = (key.pos, Cursor::of(value));
            match self.key_name(&key.value, key_pos, &TARGET_KEYS) {
                Some("accounts") => entry.accounts = Some((key_pos, self.accounts(cursor))),
                Some("organizational_units") => {
                    entry.units = Some((key_pos, self.units(cursor)));
                }
                Some("exclude_accounts") => {
                    entry.exclude = Some((key_pos, self.exclude_accounts(cursor)));
                }
                Some("regions") => entry.regions = Some((key_pos, self.regions(cursor))),
                Some("role") => entry.role = Some((key_pos, self.role(cursor))),
                Some("external_id") => {
                    entry.external_id = Some((key_pos, self.external_id(cursor)));
                }
                Some("session_name") => {
                    entry.session_name = Some((key_pos, self.session_name(cursor)));
                }
                Some("profile") => entry.profile = Some((key_pos, self.profile(cursor))),
                _ => {}
            }
        }
        self.access_rules(&entry);
        self.unit_rules(&entry);
        if self.errors.len() != errors_before {
            return (Vec::new(), None);
        }
        let units = UnitTargets::of(&entry);
        // An entry of units alone names no account by id: it is not the current account.
        if entry.accounts.is_none() && units.is_some() {
            return (Vec::new(), units);
        }
        (expand(entry, at.pos), units)
    }

    /// The rules between keys: how the accounts are reached, and what goes with what.
    fn access_rules(&mut self, entry: &Entry) {
        if let (Some((role, _)), Some((profile, _))) = (&entry.role, &entry.profile) {
            self.error(
                *role.max(profile),
                "both `role` and `profile` are given; use one or the other",
            );
        }
        if let Some((role, _)) = &entry.role
            && entry.accounts.is_none()
            && entry.units.is_none()
        {
            self.error(
                *role,
                "`role` needs `accounts` or `organizational_units`: the accounts to assume it in",
            );
        }
        if let Some((accounts, _)) = &entry.accounts
            && entry.role.is_none()
            && entry.profile.is_none()
        {
            let message = format!(
                "`accounts` needs a way to reach them: give `role: \
                 arn:aws:iam::{ACCOUNT_PLACEHOLDER}:role/NAME` (assumed in each account with \
                 the default credentials) or `profile: NAME`"
            );
            self.error(*accounts, message);
        }
        for (given, key, what) in [
            (
                &entry.external_id,
                "external_id",
                "it is sent when assuming the role",
            ),
            (
                &entry.session_name,
                "session_name",
                "it names the role's session",
            ),
        ] {
            if let Some((pos, _)) = given
                && entry.role.is_none()
            {
                self.error(*pos, format!("`{key}` only goes with `role`: {what}"));
            }
        }
        if let (Some(profile), Some(accounts)) = (valid(&entry.profile), valid(&entry.accounts))
            && accounts.len() > 1
        {
            let message = format!(
                "a profile reaches one account, but `accounts` lists {}; give each profile its \
                 own entry, or use `role` to reach several accounts",
                accounts.len()
            );
            self.error(profile.pos, message);
        }
        if let Some(role) = valid(&entry.role) {
            self.role_accounts(role, valid(&entry.accounts).map(Vec::as_slice));
        }
    }

    /// The role, filled in for each account, must be a role ARN in that account.
    fn role_accounts(&mut self, role: &At<String>, accounts: Option<&[At<String>]>) {
        let template = &role.value;
        let placeholder = template.contains(ACCOUNT_PLACEHOLDER);
        // The shape does not depend on the account: judge it once, with any valid id.
        if role_arn_account(&template.replace(ACCOUNT_PLACEHOLDER, "000000000000")).is_none() {
            let hint = (!placeholder && template.contains('{'))
                .then(|| format!("`{ACCOUNT_PLACEHOLDER}` is the only placeholder"));
            let message = format!(
                "`role` must be an IAM role ARN such as \
                 `arn:aws:iam::{ACCOUNT_PLACEHOLDER}:role/NAME`, found `{}`",
                shorten(template)
            );
            self.error_hinted(role.pos, message, hint);
            return;
        }
        let Some(accounts) = accounts else { return };
        if accounts.len() > 1 && !placeholder {
            let message = format!(
                "`role` names one role for {} accounts; write `{ACCOUNT_PLACEHOLDER}` where the \
                 account id goes, as in `arn:aws:iam::{ACCOUNT_PLACEHOLDER}:role/NAME`",
                accounts.len()
            );
            self.error(role.pos, message);
            return;
        }
        for account in accounts {
            let arn = template.replace(ACCOUNT_PLACEHOLDER, &account.value);
            if let Some(named) = role_arn_account(&arn)
                && named != account.value
            {
                let message = format!(
                    "`role` is a role of account `{named}`, but it is given for account `{}`; \
                     write `{ACCOUNT_PLACEHOLDER}` for the account id",
                    account.value
                );
                self.error(role.pos, message);
                // One fixed account is wrong the same way for every account of the entry.
                return;
            }
        }
    }

    fn accounts(&mut self, at: Cursor<'_>) -> Option<Vec<At<String>>> {
        let list = List {
            key: "accounts",
            noun: "account",
            example: "[\"123456789012\"]",
            empty: "list at least one account id, or leave `accounts` out for the current account",
        };
        self.distinct_list(at, &list, |checker, item| {
            let Some(RawAccountId(id)) = deserialize_leaf::<RawAccountId>(item.value) else {
                let message = format!(
                    "each item of `accounts` must be a 12-digit account id, found {}",
                    describe(item.value)
                );
                checker.error(item.pos, message);
                return None;
            };
            if !is_account_id(&id) {
                let message = format!(
                    "invalid account id `{}`: it must be 12 digits",
                    shorten(&id)
                );
                checker.error(item.pos, message);
                return None;
            }
            Some(id)
        })
    }

    fn regions(&mut self, at: Cursor<'_>) -> Option<Vec<At<String>>> {
        let list = List {
            key: "regions",
            noun: "region",
            example: "[us-east-1]",
            empty: "list at least one region, or leave `regions` out for the default region",
        };
        self.distinct_list(at, &list, |checker, item| {
            let Some(RawRegion(region)) = deserialize_leaf::<RawRegion>(item.value) else {
                let message = format!(
                    "each item of `regions` must be a region name such as `us-east-1`, found {}",
                    describe(item.value)
                );
                checker.error(item.pos, message);
                return None;
            };
            if !is_region(&region) {
                let message = format!(
                    "invalid region `{}`: region names look like `us-east-1`",
                    shorten(&region)
                );
                checker.error(item.pos, message);
                return None;
            }
            Some(region)
        })
    }

    /// A non-empty list whose items `item` checks, each given once.
    fn distinct_list(
        &mut self,
        at: Cursor<'_>,
        list: &List,
        item: impl Fn(&mut Self, Cursor<'_>) -> Option<String>,
    ) -> Option<Vec<At<String>>> {
        let List {
            key,
            noun,
            example,
            empty,
        } = list;
        let Value::Sequence(items) = at.value else {
            let message = format!(
                "`{key}` must be a list of {noun}s, found {}; write a list even for one, as in \
                 `{key}: {example}`",
                describe(at.value)
            );
            self.error(at.pos, message);
            return None;
        };
        if items.is_empty() {
            self.error(at.pos, format!("`{key}` is empty; {empty}"));
            return None;
        }
        let mut values: Vec<At<String>> = Vec::with_capacity(items.len());
        let mut ok = true;
        for node in items {
            let cursor = Cursor::of(node);
            let Some(value) = item(self, cursor) else {
                ok = false;
                continue;
            };
            if let Some(first) = values.iter().find(|v| v.value == value) {
                let message = format!(
                    "{noun} `{value}` is listed twice; first at {}",
                    self.location(first.pos)
                );
                self.error(cursor.pos, message);
                ok = false;
                continue;
            }
            values.push(At {
                value,
                pos: cursor.pos,
            });
        }
        ok.then_some(values)
    }

    fn role(&mut self, at: Cursor<'_>) -> Option<At<String>> {
        match deserialize_leaf::<RawRole>(at.value) {
            Some(RawRole(arn)) => Some(At {
                value: arn,
                pos: at.pos,
            }),
            None => {
                let message = format!(
                    "`role` must be an IAM role ARN such as \
                     `arn:aws:iam::{ACCOUNT_PLACEHOLDER}:role/NAME`, found {}",
                    describe(at.value)
                );
                self.error(at.pos, message);
                None
            }
        }
    }

    fn profile(&mut self, at: Cursor<'_>) -> Option<At<String>> {
        match deserialize_leaf::<String>(at.value) {
            Some(name) if !name.trim().is_empty() && !name.chars().any(char::is_control) => {
                Some(At {
                    value: name,
                    pos: at.pos,
                })
            }
            _ => {
                let message = format!(
                    "`profile` must be the name of a profile in the AWS config files, found {}",
                    describe(at.value)
                );
                self.error(at.pos, message);
                None
            }
        }
    }

    /// Never echoes the value: an external id is one of the facts an attacker would need.
    fn external_id(&mut self, at: Cursor<'_>) -> Option<String> {
        let rule = format!("2 to {EXTERNAL_ID_MAX} letters, digits or `{EXTERNAL_ID_SYMBOLS}`");
        let Some(RawExternalId(id)) = deserialize_leaf::<RawExternalId>(at.value) else {
            let found = match at.value {
                Value::Number(_) => "a number; quote it so YAML keeps it as written",
                Value::Bool(_) => "a boolean",
                Value::Null => "null",
                Value::Sequence(_) => "a list",
                Value::Mapping(_) => "a mapping",
                Value::String(_) => "a string it cannot read",
                Value::Tagged(_) => "a tagged value",
            };
            self.error(
                at.pos,
                format!("`external_id` must be a string of {rule}, found {found}"),
            );
            return None;
        };
        match sts_text(&id, EXTERNAL_ID_MAX, EXTERNAL_ID_SYMBOLS) {
            Ok(()) => Some(id),
            Err(problem) => {
                let problem = match problem {
                    StsText::Length(count) => format!("this one is {count} long"),
                    StsText::Character(_) => "this one has another character".to_string(),
                };
                let message = format!("invalid `external_id`: STS takes {rule}; {problem}");
                self.error(at.pos, message);
                None
            }
        }
    }

    fn session_name(&mut self, at: Cursor<'_>) -> Option<String> {
        let rule = format!("2 to {SESSION_NAME_MAX} letters, digits or `{SESSION_NAME_SYMBOLS}`");
        let Some(RawSessionName(name)) = deserialize_leaf::<RawSessionName>(at.value) else {
            let message = format!(
                "`session_name` must be a string of {rule}, found {}",
                describe(at.value)
            );
            self.error(at.pos, message);
            return None;
        };
        match sts_text(&name, SESSION_NAME_MAX, SESSION_NAME_SYMBOLS) {
            Ok(()) => Some(name),
            Err(problem) => {
                let problem = match problem {
                    StsText::Length(count) => format!("`{}` is {count} long", shorten(&name)),
                    StsText::Character(c) => format!("`{}` has {c:?}", shorten(&name)),
                };
                let message = format!("invalid `session_name`: STS takes {rule}; {problem}");
                self.error(at.pos, message);
                None
            }
        }
    }
}

/// How a list key is spoken of in its messages.
struct List {
    key: &'static str,
    noun: &'static str,
    example: &'static str,
    empty: &'static str,
}

/// Why a text breaks one of STS's parameter rules.
enum StsText {
    /// Its length in characters, outside 2 to the maximum.
    Length(usize),
    /// The first character not allowed.
    Character(char),
}

fn sts_text(text: &str, max: usize, symbols: &str) -> Result<(), StsText> {
    let count = text.chars().count();
    if !(2..=max).contains(&count) {
        return Err(StsText::Length(count));
    }
    match text
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && !symbols.contains(*c))
    {
        Some(c) => Err(StsText::Character(c)),
        None => Ok(()),
    }
}

/// A valid entry's targets: every account (or the current one) in every region (or the
/// default one). Each is placed at its account, else its region, else the entry.
fn expand(entry: Entry, entry_pos: Pos) -> Vec<At<TargetSpec>> {
    let accounts: Vec<Option<At<String>>> = match entry.accounts {
        Some((_, Some(accounts))) => accounts.into_iter().map(Some).collect(),
        _ => vec![None],
    };
    let regions: Vec<Option<At<String>>> = match entry.regions {
        Some((_, Some(regions))) => regions.into_iter().map(Some).collect(),
        _ => vec![None],
    };
    let role = entry.role.and_then(|(_, role)| role);
    let profile = entry.profile.and_then(|(_, profile)| profile);
    let external_id = entry.external_id.and_then(|(_, id)| id);
    let session_name = entry
        .session_name
        .and_then(|(_, name)| name)
        .unwrap_or_else(|| DEFAULT_SESSION_NAME.to_string());
    let mut targets = Vec::with_capacity(accounts.len() * regions.len());
    for account in &accounts {
        let access = match (&role, &profile, account) {
            (Some(role), _, Some(account)) => Access::Role(AssumeRole {
                role_arn: role.value.replace(ACCOUNT_PLACEHOLDER, &account.value),
                external_id: external_id.clone(),
                session_name: session_name.clone(),
            }),
            (_, Some(profile), _) => Access::Profile(profile.value.clone()),
            _ => Access::Default,
        };
        for region in &regions {
            let pos = account
                .as_ref()
                .or(region.as_ref())
                .map_or(entry_pos, |at| at.pos);
            targets.push(At {
                value: TargetSpec {
                    account: account.as_ref().map(|a| a.value.clone()),
                    region: region.as_ref().map(|r| r.value.clone()),
                    access: access.clone(),
                },
                pos,
            });
        }
    }
    targets
}
