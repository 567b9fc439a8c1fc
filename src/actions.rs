//! Service actions as code: the `actions:` a manifest declares for a target, compared with the
//! catalog's and planned (create, update field by field, leave in sync, delete an `absent` one
//! after disassociating it everywhere), before any association is planned. Planning only reads:
//! one ListServiceActions, one DescribeServiceAction per declared action the catalog has, one
//! ListProvisioningArtifactsForServiceAction per action to delete. The writes are [`write`]'s.
//!
//! A definition is compared by meaning, not by text ([`Definition`]): `Parameters` is a JSON
//! string on the wire and compared as data, in any order; an absent description is the empty
//! one; absent parameters are none. An action the catalog has under the declared name is
//! adopted as it is when its definition matches, and updated when not; several actions with the
//! name are an error naming their ids, since sc-assoc cannot tell which one the manifest means.
//!
//! An association may name an action this run creates: until it exists, its id is the
//! [`pending_id`] of its name, which no catalog id can be (ids have no `:`), and the write
//! phase puts the created action's id in its place.

mod write;

pub use write::{ActionOutcome, ActionStatus, ActionWrites, apply_actions, delete_actions};

use crate::manifest::{DeclaredAction, Diagnostic, Location, ParameterType};
use crate::seam::{ActionDetail, ActionSpec, ActionSummary, ApiError, Catalog};
use crate::target::{ACCOUNT_PLACEHOLDER, REGION_PLACEHOLDER};
use crate::triple::Triple;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Service actions AWS lets one account have in one region.
pub const MAX_ACTIONS_PER_REGION: usize = 200;

/// The prefix of a pending id: an action this run creates, named by its name until then.
const PENDING_PREFIX: &str = "new:";

/// The id an association uses for the action named `name` that this run creates.
pub fn pending_id(name: &str) -> String {
    format!("{PENDING_PREFIX}{name}")
}

/// The name behind a pending id; `None` for a catalog id.
pub fn pending_name(id: &str) -> Option<&str> {
    id.strip_prefix(PENDING_PREFIX)
}

/// The target's account and region, for the `{account}` and `{region}` of a role ARN.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Place {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// What a service action is, as compared: its description and definition by meaning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// Empty when there is none: the API does not tell an absent description from an empty one.
    pub description: String,
    /// The SSM Automation document (`Name` in the definition).
    pub document: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assume_role: Option<String>,
    pub parameters: Parameters,
}

/// An action's `Parameters`: the list as data (by name), or, when the catalog's JSON is not a
/// list of `{Name, Type}`, its text as it is (then it differs from every declaration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Parameters {
    Listed(BTreeMap<String, String>),
    Unreadable(String),
}

impl Parameters {
    /// The wire form: `[{"Name":"InstanceId","Type":"TARGET"}]`; `None` for no parameters.
    fn to_wire(&self) -> Option<String> {
        match self {
            Parameters::Listed(listed) if listed.is_empty() => None,
            Parameters::Listed(listed) => {
                let items: Vec<serde_json::Value> = listed
                    .iter()
                    .map(|(name, kind)| serde_json::json!({"Name": name, "Type": kind}))
                    .collect();
                Some(serde_json::Value::Array(items).to_string())
            }
            Parameters::Unreadable(text) => Some(text.clone()),
        }
    }

    fn from_wire(text: Option<&str>) -> Parameters {
        let Some(text) = text else {
            return Parameters::Listed(BTreeMap::new());
        };
        let parsed: Option<BTreeMap<String, String>> =
            serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|value| {
                    value
                        .as_array()?
                        .iter()
                        .map(|item| {
                            let object = item.as_object()?;
                            let name = object.get("Name")?.as_str()?;
                            let kind = object.get("Type")?.as_str()?;
                            (object.len() == 2).then(|| (name.to_string(), kind.to_string()))
                        })
                        .collect()
                });
        parsed.map_or_else(
            || Parameters::Unreadable(text.to_string()),
            Parameters::Listed,
        )
    }

    /// `InstanceId (TARGET), Note (TEXT_VALUE)`, or `none`.
    fn shown(&self) -> String {
        match self {
            Parameters::Listed(listed) if listed.is_empty() => "none".to_string(),
            Parameters::Listed(listed) => listed
                .iter()
                .map(|(name, kind)| format!("{name} ({kind})"))
                .collect::<Vec<_>>()
                .join(", "),
            Parameters::Unreadable(text) => text.clone(),
        }
    }
}

/// Why a declaration cannot be made a definition for a target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`assume_role` needs the target's {0}, which is not known for this target")]
pub struct Unfilled(pub &'static str);

impl Definition {
    /// The declaration for the target at `place`: `{account}` and `{region}` filled.
    pub fn declared(action: &DeclaredAction, place: &Place) -> Result<Definition, Unfilled> {
        let assume_role = match &action.assume_role {
            None => None,
            Some(template) => Some(fill(template, place)?),
        };
        let parameters = action
            .parameters
            .iter()
            .map(|(name, kind)| (name.clone(), ParameterType::as_str(*kind).to_string()))
            .collect();
        Ok(Definition {
            description: action.description.clone().unwrap_or_default(),
            document: action.document.clone(),
            version: action.version.clone(),
            assume_role,
            parameters: Parameters::Listed(parameters),
        })
    }

    /// What the catalog holds.
    pub fn observed(detail: &ActionDetail) -> Definition {
        let field = |key: &str| detail.definition.get(key).cloned();
        Definition {
            description: detail.summary.description.clone().unwrap_or_default(),
            document: field("Name").unwrap_or_default(),
            version: field("Version").unwrap_or_default(),
            assume_role: field("AssumeRole"),
            parameters: Parameters::from_wire(
                detail.definition.get("Parameters").map(String::as_str),
            ),
        }
    }

    /// What CreateServiceAction and UpdateServiceAction send for the action `name`.
    pub fn spec(&self, name: &str) -> ActionSpec {
        let mut definition = BTreeMap::from([
            ("Name".to_string(), self.document.clone()),
            ("Version".to_string(), self.version.clone()),
        ]);
        if let Some(role) = &self.assume_role {
            definition.insert("AssumeRole".to_string(), role.clone());
        }
        if let Some(parameters) = self.parameters.to_wire() {
            definition.insert("Parameters".to_string(), parameters);
        }
        ActionSpec {
            name: name.to_string(),
            description: Some(self.description.clone()),
            definition,
        }
    }

    /// The fields where `self` (the catalog's) differs from `wanted`, in a fixed order.
    pub fn changes(&self, wanted: &Definition) -> Vec<FieldChange> {
        let mut changes = Vec::new();
        let mut field = |name: &'static str, from: Option<String>, to: Option<String>| {
            if from != to {
                changes.push(FieldChange {
                    field: name.to_string(),
                    from,
                    to,
                });
            }
        };
        let text = |s: &str| (!s.is_empty()).then(|| s.to_string());
        field(
            "description",
            text(&self.description),
            text(&wanted.description),
        );
        field("document", text(&self.document), text(&wanted.document));
        field("version", text(&self.version), text(&wanted.version));
        field(
            "assume_role",
            self.assume_role.clone(),
            wanted.assume_role.clone(),
        );
        if self.parameters != wanted.parameters {
            changes.push(FieldChange {
                field: "parameters".to_string(),
                from: Some(self.parameters.shown()),
                to: Some(wanted.parameters.shown()),
            });
        }
        changes
    }

    /// The idempotency token of creating this action as `name`: the same declaration for the
    /// same target always sends the same token, so a create retried after a lost reply answers
    /// with the action the first call made. `after` is the id of an action the plain token's
    /// answer named and that no longer exists (the stale-token trap): a new token per such id.
    pub fn create_token(&self, name: &str, place: &Place, after: Option<&str>) -> String {
        let mut hasher = Sha256::new();
        let spec = self.spec(name);
        let mut parts: Vec<&str> = vec![
            "sc-assoc/idempotency/v1",
            "CreateServiceAction",
            place.account.as_deref().unwrap_or(""),
            place.region.as_deref().unwrap_or(""),
            name,
            &self.description,
        ];
        for (key, value) in &spec.definition {
            parts.push(key);
            parts.push(value);
        }
        if let Some(after) = after {
            parts.push("after");
            parts.push(after);
        }
        for part in parts {
            hasher.update(part.as_bytes());
            hasher.update([0u8]);
        }
        hex::encode(hasher.finalize())
    }
}

fn fill(template: &str, place: &Place) -> Result<String, Unfilled> {
    let mut filled = template.to_string();
    for (placeholder, value, what) in [
        (ACCOUNT_PLACEHOLDER, &place.account, "account"),
        (REGION_PLACEHOLDER, &place.region, "region"),
    ] {
        if filled.contains(placeholder) {
            let value = value.as_deref().ok_or(Unfilled(what))?;
            filled = filled.replace(placeholder, value);
        }
    }
    Ok(filled)
}

fn as_text<S: serde::Serializer>(location: &Location, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(location)
}

/// One field of a definition that an update changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldChange {
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// What the plan does with one declared action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum ActionStep {
    /// No action has the name: create it.
    Create { definition: Definition },
    /// The action exists with another definition (`current`): update these fields.
    Update {
        id: String,
        current: Definition,
        definition: Definition,
        changes: Vec<FieldChange>,
    },
    /// The action exists as declared (made by this tool or not): nothing to do.
    InSync { id: String },
    /// `absent: true` and the action exists: disassociate it from these artifacts, then delete.
    Delete {
        id: String,
        associations: Vec<Triple>,
    },
    /// `absent: true` and no action has the name.
    AlreadyAbsent,
}

/// One declared action and its step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedAction {
    pub name: String,
    /// Where it is declared.
    #[serde(serialize_with = "as_text")]
    pub location: Location,
    #[serde(flatten)]
    pub step: ActionStep,
}

impl PlannedAction {
    /// The action's id, once known (not for one to create, nor one already absent).
    pub fn id(&self) -> Option<&str> {
        match &self.step {
            ActionStep::Update { id, .. }
            | ActionStep::InSync { id }
            | ActionStep::Delete { id, .. } => Some(id),
            ActionStep::Create { .. } | ActionStep::AlreadyAbsent => None,
        }
    }

    /// True when applying makes a call for it.
    pub fn changes(&self) -> bool {
        matches!(
            self.step,
            ActionStep::Create { .. } | ActionStep::Update { .. } | ActionStep::Delete { .. }
        )
    }
}

/// Every declared action of a target and what applying does with it, in name order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ActionPlan {
    pub actions: Vec<PlannedAction>,
    /// Where the target's place came from, for the tokens of the creates.
    #[serde(skip)]
    pub place: Place,
}

impl ActionPlan {
    pub fn has_changes(&self) -> bool {
        self.actions.iter().any(PlannedAction::changes)
    }

    /// The id each declared action has now, or its pending id if this run creates it.
    pub fn ids(&self) -> BTreeMap<&str, String> {
        self.actions
            .iter()
            .filter_map(|planned| {
                let id = match &planned.step {
                    ActionStep::Create { .. } => pending_id(&planned.name),
                    ActionStep::AlreadyAbsent | ActionStep::Delete { .. } => return None,
                    _ => planned.id()?.to_string(),
                };
                Some((planned.name.as_str(), id))
            })
            .collect()
    }

    /// The disassociations that deleting the `absent` actions needs.
    pub fn removals(&self) -> impl Iterator<Item = &Triple> {
        self.actions.iter().flat_map(|planned| match &planned.step {
            ActionStep::Delete { associations, .. } => associations.as_slice(),
            _ => &[],
        })
    }

    /// Actions to create, update and delete.
    pub fn counts(&self) -> ActionCounts {
        let mut counts = ActionCounts::default();
        for planned in &self.actions {
            match planned.step {
                ActionStep::Create { .. } => counts.create += 1,
                ActionStep::Update { .. } => counts.update += 1,
                ActionStep::InSync { .. } => counts.in_sync += 1,
                ActionStep::Delete { .. } => counts.delete += 1,
                ActionStep::AlreadyAbsent => counts.already_absent += 1,
            }
        }
        counts
    }
}

/// How many declared actions take each step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ActionCounts {
    pub create: usize,
    pub update: usize,
    pub in_sync: usize,
    pub delete: usize,
    pub already_absent: usize,
}

/// Why the actions could not be planned.
#[derive(Debug)]
pub enum ActionPlanError {
    /// Declarations the catalog makes impossible (a name several actions have, the quota), each
    /// at its place in the manifest.
    Invalid(Vec<Diagnostic>),
    /// A read failed.
    Api(ApiError),
}

/// Plans `declared` against `listed` (the target's ListServiceActions): reads the definition of
/// each declared action the catalog has and the artifacts of each one to delete, at most
/// `concurrency` calls at a time. Checks the region's quota before anything is written.
pub async fn plan_actions<C: Catalog>(
    catalog: &C,
    declared: &BTreeMap<String, DeclaredAction>,
    listed: &[ActionSummary],
    place: &Place,
    concurrency: usize,
) -> Result<ActionPlan, ActionPlanError> {
    let mut errors = Vec::new();
    let mut matched: Vec<(&DeclaredAction, Option<&ActionSummary>)> = Vec::new();
    for action in declared.values() {
        let same_name: Vec<&ActionSummary> = listed
            .iter()
            .filter(|a| a.name.as_deref() == Some(action.name.as_str()))
            .collect();
        match same_name.as_slice() {
            [] => matched.push((action, None)),
            [one] => matched.push((action, Some(one))),
            many => {
                let ids: Vec<&str> = many.iter().map(|a| a.id.as_str()).collect();
                errors.push(
                    Diagnostic::error(
                        Some(action.location.clone()),
                        format!(
                            "{} service actions are named `{}` in this target ({}); sc-assoc \
                             cannot tell which one this declaration means",
                            many.len(),
                            action.name,
                            ids.join(", ")
                        ),
                    )
                    .with_hint(Some(
                        "delete or rename all but one of them, then run again".to_string(),
                    )),
                );
            }
        }
    }
    let mut definitions = Vec::with_capacity(matched.len());
    for (action, _) in &matched {
        let definition = match action.absent {
            true => None,
            false => Definition::declared(action, place)
                .map_err(|unfilled| {
                    errors.push(Diagnostic::error(
                        Some(action.location.clone()),
                        format!("service action `{}`: {unfilled}", action.name),
                    ));
                })
                .ok(),
        };
        definitions.push(definition);
    }
    let creates = matched
        .iter()
        .filter(|(action, existing)| !action.absent && existing.is_none())
        .count();
    if listed.len() + creates > MAX_ACTIONS_PER_REGION
        && let Some((first, _)) = matched
            .iter()
            .find(|(action, existing)| !action.absent && existing.is_none())
    {
        errors.push(Diagnostic::error(
            Some(first.location.clone()),
            format!(
                "this target has {} service actions and the manifest creates {creates} more; \
                 AWS allows at most {MAX_ACTIONS_PER_REGION} per account and region",
                listed.len()
            ),
        ));
    }
    if !errors.is_empty() {
        return Err(ActionPlanError::Invalid(errors));
    }

    let steps: Vec<Result<ActionStep, ApiError>> =
        futures::stream::iter(matched.iter().zip(definitions))
            .map(|((_, existing), definition)| async move {
                match (existing, definition) {
                    (None, Some(definition)) => Ok(ActionStep::Create { definition }),
                    (None, None) => Ok(ActionStep::AlreadyAbsent),
                    (Some(existing), None) => {
                        let views = catalog.list_artifacts_for_action(&existing.id).await?;
                        let associations = views
                            .iter()
                            .map(|v| Triple::new(&v.product_id, &v.artifact_id, &existing.id))
                            .collect();
                        Ok(ActionStep::Delete {
                            id: existing.id.clone(),
                            associations,
                        })
                    }
                    (Some(existing), Some(definition)) => {
                        let detail = catalog.describe_service_action(&existing.id).await?;
                        let current = Definition::observed(&detail);
                        let changes = current.changes(&definition);
                        let id = existing.id.clone();
                        Ok(if changes.is_empty() {
                            ActionStep::InSync { id }
                        } else {
                            ActionStep::Update {
                                id,
                                current,
                                definition,
                                changes,
                            }
                        })
                    }
                }
            })
            .buffered(concurrency.max(1))
            .collect()
            .await;
    let mut actions = Vec::with_capacity(steps.len());
    for ((action, _), step) in matched.iter().zip(steps) {
        actions.push(PlannedAction {
            name: action.name.clone(),
            location: action.location.clone(),
            step: step.map_err(ActionPlanError::Api)?,
        });
    }
    Ok(ActionPlan {
        actions,
        place: place.clone(),
    })
}

#[cfg(test)]
mod tests;
