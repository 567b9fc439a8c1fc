//! The `actions:` section: service actions declared by name, each its SSM Automation document,
//! version, role and parameters, or `absent: true`. Every rule the API would apply to the fields
//! is checked here, offline, at the field's `file:line:col`: the name's pattern and length,
//! lengths of the definition's values, a role ARN (with `{account}` and `{region}` filled per
//! target) or `LAUNCH_ROLE`, parameter types, one declaration per name in a file.

use super::diagnostic::Location;
use super::raw::ParameterType;
use super::tree::{Pos, Value, deserialize_leaf};
use super::validate::{At, Checker, Cursor, describe};
use super::wording::shorten;
use crate::target::{ACCOUNT_PLACEHOLDER, REGION_PLACEHOLDER};

/// Longest value of a definition, and of a description (the model's limits).
const MAX_VALUE: usize = 1024;
/// Longest action name (the model's).
const MAX_NAME: usize = 256;

/// A validated `actions` entry of one file (positions in the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionEntry {
    pub pos: Pos,
    pub name: At<String>,
    pub description: Option<String>,
    pub document: String,
    pub version: String,
    /// A role ARN template (`{account}`, `{region}`) or `LAUNCH_ROLE`.
    pub assume_role: Option<String>,
    pub parameters: Vec<(String, ParameterType)>,
    pub absent: bool,
}

/// A service action as the manifests declare it for a target, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredAction {
    pub location: Location,
    pub name: String,
    pub description: Option<String>,
    /// Empty for an `absent` action, which declares no definition.
    pub document: String,
    pub version: String,
    pub assume_role: Option<String>,
    pub parameters: Vec<(String, ParameterType)>,
    /// Delete it (after disassociating it everywhere).
    pub absent: bool,
}

impl DeclaredAction {
    pub(super) fn of(entry: &ActionEntry, location: Location) -> Self {
        DeclaredAction {
            location,
            name: entry.name.value.clone(),
            description: entry.description.clone(),
            document: entry.document.clone(),
            version: entry.version.clone(),
            assume_role: entry.assume_role.clone(),
            parameters: entry.parameters.clone(),
            absent: entry.absent,
        }
    }

    /// The same declaration, wherever it is.
    pub fn same_as(&self, other: &DeclaredAction) -> bool {
        DeclaredAction {
            location: other.location.clone(),
            ..self.clone()
        } == *other
    }
}

/// `name` follows the API's rule: 1 to 256 of `[a-zA-Z0-9_\-.]`.
pub fn valid_action_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl Checker<'_> {
    /// The `actions` list; entries with errors are left out (and reported).
    pub(super) fn actions(&mut self, at: Cursor<'_>) -> Option<Vec<ActionEntry>> {
        let Value::Sequence(items) = at.value else {
            let message = format!(
                "`actions` must be a list of service actions, found {}",
                describe(at.value)
            );
            self.error(at.pos, message);
            return None;
        };
        if items.is_empty() {
            self.error(at.pos, "`actions` is empty; declare at least one");
            return None;
        }
        let mut entries: Vec<ActionEntry> = Vec::with_capacity(items.len());
        for item in items {
            let Some(entry) = self.action(Cursor::of(item)) else {
                continue;
            };
            if let Some(first) = entries.iter().find(|e| e.name.value == entry.name.value) {
                let first_at = self.location(first.name.pos);
                let message = format!(
                    "service action `{}` is declared twice; it is first declared at {first_at}",
                    entry.name.value
                );
                self.error(entry.name.pos, message);
                continue;
            }
            entries.push(entry);
        }
        Some(entries)
    }

    fn action(&mut self, at: Cursor<'_>) -> Option<ActionEntry> {
        let Value::Mapping(mapping) = at.value else {
            let message = format!(
                "a service action must be a mapping with `name`, `document` and `version`; found {}",
                describe(at.value)
            );
            self.error(at.pos, message);
            return None;
        };
        let errors_before = self.errors.len();
        let mut name = None;
        let mut description = None;
        let mut document = None;
        let mut version = None;
        let mut assume_role = None;
        let mut parameters = Vec::new();
        let mut absent = false;
        for (key, value) in mapping {
            let cursor = Cursor::of(value);
            let Some(key) = self.key_name(&key.value, key.pos, &super::raw::ACTION_KEYS) else {
                continue;
            };
            match key {
                "name" => name = self.action_name(cursor),
                "description" => description = self.text(cursor, "description", 0, MAX_VALUE),
                "document" => document = self.text(cursor, "document", 1, MAX_VALUE),
                "version" => version = self.action_version(cursor),
                "assume_role" => assume_role = self.assume_role(cursor),
                "parameters" => parameters = self.parameters(cursor).unwrap_or_default(),
                _ => match deserialize_leaf::<bool>(cursor.value) {
                    Some(value) => absent = value,
                    None => {
                        let message = format!(
                            "`absent` must be `true` or `false`, found {}",
                            describe(cursor.value)
                        );
                        self.error(cursor.pos, message);
                    }
                },
            }
        }
        if at.value.get("name").is_none() {
            self.error(at.pos, "missing `name`");
        }
        // An action to delete needs only its name; one to have needs its definition.
        if !absent {
            if at.value.get("document").is_none() {
                self.error(
                    at.pos,
                    "missing `document` (the SSM Automation document's name or ARN)",
                );
            }
            if at.value.get("version").is_none() {
                self.error(
                    at.pos,
                    "missing `version` (the document's version, such as `1`)",
                );
            }
        }
        if self.errors.len() != errors_before {
            return None;
        }
        Some(ActionEntry {
            pos: at.pos,
            name: name?,
            description,
            document: document.unwrap_or_default(),
            version: version.unwrap_or_default(),
            assume_role,
            parameters,
            absent,
        })
    }

    fn action_name(&mut self, at: Cursor<'_>) -> Option<At<String>> {
        let Value::String(name) = at.value else {
            let message = format!("`name` must be a string, found {}", describe(at.value));
            self.error(at.pos, message);
            return None;
        };
        if !valid_action_name(name) {
            let message = format!(
                "invalid service action name `{}`: 1 to {MAX_NAME} letters, digits, `_`, `-` or `.`, no spaces",
                shorten(name)
            );
            self.error(at.pos, message);
            return None;
        }
        Some(At {
            value: name.to_string(),
            pos: at.pos,
        })
    }

    /// A string of `min..=max` characters.
    fn text(&mut self, at: Cursor<'_>, key: &str, min: usize, max: usize) -> Option<String> {
        let Value::String(text) = at.value else {
            let message = format!("`{key}` must be a string, found {}", describe(at.value));
            self.error(at.pos, message);
            return None;
        };
        let length = text.chars().count();
        if length < min || length > max {
            let message = if length < min {
                format!("`{key}` is empty")
            } else {
                format!("`{key}` is {length} characters long; at most {max} are allowed")
            };
            self.error(at.pos, message);
            return None;
        }
        Some(text.to_string())
    }

    fn action_version(&mut self, at: Cursor<'_>) -> Option<String> {
        match at.value {
            Value::Number(number) if number.parse::<u64>().is_ok() => Some(number.clone()),
            Value::String(_) => self.text(at, "version", 1, MAX_VALUE),
            other => {
                let message = format!(
                    "`version` must be a version number or `$DEFAULT` / `$LATEST`, found {}",
                    describe(other)
                );
                self.error(at.pos, message);
                None
            }
        }
    }

    /// `LAUNCH_ROLE`, or a role ARN whose account may be `{account}` (and anything `{region}`).
    fn assume_role(&mut self, at: Cursor<'_>) -> Option<String> {
        let role = self.text(at, "assume_role", 1, MAX_VALUE)?;
        if role == "LAUNCH_ROLE" {
            return Some(role);
        }
        let filled = role
            .replace(ACCOUNT_PLACEHOLDER, "000000000000")
            .replace(REGION_PLACEHOLDER, "us-east-1");
        if filled.contains('{') || crate::target::role_arn_account(&filled).is_none() {
            let message = format!(
                "`assume_role` must be `LAUNCH_ROLE` or an IAM role ARN such as \
                 `arn:aws:iam::{ACCOUNT_PLACEHOLDER}:role/NAME`, found `{}`",
                shorten(&role)
            );
            let hint = filled.contains('{').then(|| {
                format!("`{ACCOUNT_PLACEHOLDER}` and `{REGION_PLACEHOLDER}` are the placeholders")
            });
            self.error_hinted(at.pos, message, hint);
            return None;
        }
        Some(role)
    }

    fn parameters(&mut self, at: Cursor<'_>) -> Option<Vec<(String, ParameterType)>> {
        let Value::Sequence(items) = at.value else {
            let message = format!(
                "`parameters` must be a list of `{{name, type}}`, found {}",
                describe(at.value)
            );
            self.error(at.pos, message);
            return None;
        };
        let mut parameters: Vec<(String, ParameterType)> = Vec::with_capacity(items.len());
        for item in items {
            let cursor = Cursor::of(item);
            let (name, kind) = (
                item.value.get("name").map(|n| (n.pos, &n.value)),
                item.value.get("type").map(|t| (t.pos, &t.value)),
            );
            let keys_ok = match &item.value {
                Value::Mapping(entries) => entries
                    .iter()
                    .all(|(k, _)| self.key_name(&k.value, k.pos, &["name", "type"]).is_some()),
                _ => false,
            };
            let (Some((name_pos, Value::String(name))), Some((kind_pos, kind))) = (name, kind)
            else {
                if keys_ok {
                    let message = format!(
                        "each parameter is `{{name: ..., type: TARGET | TEXT_VALUE}}`, found {}",
                        describe(cursor.value)
                    );
                    self.error(cursor.pos, message);
                }
                continue;
            };
            let Some(kind) = deserialize_leaf::<ParameterType>(kind) else {
                let message = format!(
                    "a parameter's `type` is `TARGET` or `TEXT_VALUE`, found {}",
                    describe(kind)
                );
                self.error(kind_pos, message);
                continue;
            };
            if name.is_empty() {
                self.error(name_pos, "a parameter's `name` is empty");
                continue;
            }
            if parameters.iter().any(|(n, _)| n.as_str() == &**name) {
                let message = format!("parameter `{}` is given twice", shorten(name));
                self.error(name_pos, message);
                continue;
            }
            parameters.push((name.to_string(), kind));
        }
        Some(parameters)
    }
}
