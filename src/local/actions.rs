//! Service actions as the API makes, changes and deletes them (`CreateServiceAction`,
//! `UpdateServiceAction`, `DeleteServiceAction`), with AWS's rules: names are not unique (a
//! lookup by name may find 0, 1 or several), at most 200 actions per region
//! (`LimitExceededException`), an action still associated cannot be deleted
//! (`ResourceInUseException`), and `ListServiceActions` shows a write only after the listing lag,
//! as the association listings do ([`super::state`]). Idempotency-token replay is the caller's
//! ([`super::ops`]), as for associations.

use super::state::{Action, CatalogState, deterministic_id};
use super::wire::ServiceError;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

/// A service action the listing does not show as it is yet: created (not listed until
/// `visible_at`) or deleted (still listed, as it was, until then).
#[derive(Debug, Clone)]
pub struct UnlistedAction {
    visible_at: Instant,
    /// What the listing still shows: `None` for a creation (nothing yet), the action as it was
    /// for a deletion.
    shown: Option<Action>,
}

/// What `CreateServiceAction` and `UpdateServiceAction` carry, already validated by the model.
#[derive(Debug, Clone)]
pub struct ActionFields {
    pub name: Option<String>,
    pub description: Option<String>,
    pub definition: Option<BTreeMap<String, String>>,
}

impl CatalogState {
    /// `CreateServiceAction`: a new action (names may repeat), listed `lag` from now.
    pub fn create_action(
        &mut self,
        fields: ActionFields,
        lag: Duration,
    ) -> Result<&Action, ServiceError> {
        if self.actions.len() >= self.max_actions_per_region {
            return Err(ServiceError::limit_exceeded(format!(
                "The maximum number of service actions ({}) in this region has been reached.",
                self.max_actions_per_region
            )));
        }
        self.created_actions += 1;
        let id = deterministic_id(
            "act-",
            &format!("{}/created/{}", self.scope(), self.created_actions),
        );
        let action = Action {
            id: id.clone(),
            name: fields.name.unwrap_or_default(),
            description: fields.description,
            definition_type: "SSM_AUTOMATION".to_string(),
            definition: fields.definition.unwrap_or_default(),
        };
        self.actions.insert(id.clone(), action);
        self.note_action(&id, None, lag);
        self.action(&id)
    }

    /// `UpdateServiceAction`: the fields given replace the action's (a definition as a whole).
    pub fn update_action(
        &mut self,
        id: &str,
        fields: ActionFields,
    ) -> Result<&Action, ServiceError> {
        let action = self
            .actions
            .get_mut(id)
            .ok_or_else(|| ServiceError::not_found(format!("Service action {id} not found.")))?;
        if let Some(name) = fields.name {
            action.name = name;
        }
        if let Some(description) = fields.description {
            action.description = Some(description);
        }
        if let Some(definition) = fields.definition {
            action.definition = definition;
        }
        self.action(id)
    }

    /// `DeleteServiceAction`: refused while the action is associated anywhere.
    pub fn delete_action(&mut self, id: &str, lag: Duration) -> Result<(), ServiceError> {
        self.action(id)?;
        if self
            .by_action
            .get(id)
            .is_some_and(|pairs| !pairs.is_empty())
        {
            return Err(ServiceError::new(
                400,
                "ResourceInUseException",
                format!(
                    "Service action {id} is associated with one or more provisioning artifacts; \
                     disassociate it first."
                ),
            ));
        }
        let removed = self.actions.remove(id);
        self.by_action.remove(id);
        self.note_action(id, removed, lag);
        Ok(())
    }

    /// Deletes an action behind the API's back (the console, another tool), associations
    /// included; shown at once. True if it was there.
    pub fn delete_action_out_of_band(&mut self, id: &str) -> bool {
        self.unlisted_actions.remove(id);
        let Some(_) = self.actions.remove(id) else {
            return false;
        };
        for (product, artifact) in self.by_action.remove(id).unwrap_or_default() {
            let _ = product;
            if let Some(actions) = self.by_artifact.get_mut(&artifact) {
                actions.remove(id);
            }
        }
        true
    }

    /// Notes an API change of action `id` for the listing, shown `lag` from now (`shown` is what
    /// it shows until then).
    fn note_action(&mut self, id: &str, shown: Option<Action>, lag: Duration) {
        let now = Instant::now();
        self.unlisted_actions.retain(|_, u| u.visible_at > now);
        if lag.is_zero() {
            return;
        }
        // A creation's note is dropped by its deletion within the lag: the listing never
        // showed it, and shows nothing now.
        if shown.is_some() && self.unlisted_actions.remove(id).is_some() {
            return;
        }
        self.unlisted_actions.insert(
            id.to_string(),
            UnlistedAction {
                visible_at: now + lag,
                shown,
            },
        );
    }

    /// The actions `ListServiceActions` shows now, by id.
    pub fn listed_actions(&self) -> BTreeMap<&str, &Action> {
        let now = Instant::now();
        let mut shown: BTreeMap<&str, &Action> = self
            .actions
            .iter()
            .map(|(id, action)| (id.as_str(), action))
            .collect();
        for (id, unlisted) in self
            .unlisted_actions
            .iter()
            .filter(|(_, u)| u.visible_at > now)
        {
            match &unlisted.shown {
                None => {
                    shown.remove(id.as_str());
                }
                Some(action) => {
                    shown.insert(id.as_str(), action);
                }
            }
        }
        shown
    }
}
