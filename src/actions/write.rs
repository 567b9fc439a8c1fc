//! Carrying out an [`ActionPlan`]: creates and updates before any association (an association
//! may name an action this run creates), deletes after every disassociation (an associated
//! action cannot be deleted). The ids used are the ones the writes answer with: the listings lag
//! them.
//!
//! A create carries the declaration's idempotency token, so a retry after a lost reply returns
//! the action the first call made rather than making a second one. A token also replays its
//! first answer after that action was deleted out of band (the stale-token trap): so the id a
//! create answers with is checked, by a DescribeServiceAction and, only when that cannot find
//! it, by an UpdateServiceAction with the same definition (writes see the latest state, reads
//! may lag). An id that no write can find is a replay: the action is created again with a token
//! of its own, derived from the stale id, so a re-run replays the new one.

use super::{ActionPlan, ActionStep, Definition, Place, PlannedAction};
use crate::apply::Failure;
use crate::dispatch::bounded;
use crate::seam::{ApiError, ApiResult, Catalog, ErrorKind};
use crate::settings::Settings;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::Duration;

/// How many times in a row a create may be found to be a replay before it is reported failed.
const MAX_REPLAYS: usize = 3;

/// The longest a delete waits for disassociations it follows to be seen by the service
/// (`ResourceInUseException`), unless the settle window is shorter.
const IN_USE_WAIT: Duration = Duration::from_secs(15);

/// What happened to one declared action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ActionStatus {
    /// Created by this run.
    Created,
    /// Its definition or description updated by this run.
    Updated,
    /// Already as declared: no call made.
    InSync,
    /// The create's token replayed an action deleted since: created again with a new token.
    Healed,
    /// Deleted by this run (`absent: true`).
    Deleted,
    /// `absent: true` and already gone.
    AlreadyAbsent,
    /// The call failed; the reason is in the outcome.
    Failed,
    /// Not attempted: the run stopped first, or what it needed failed.
    NotAttempted,
    /// In flight when the run stopped: it may or may not have happened.
    Unknown,
}

/// One declared action's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionOutcome {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub status: ActionStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Failure>,
}

impl ActionOutcome {
    fn ok(planned: &PlannedAction, id: Option<String>, status: ActionStatus) -> Self {
        ActionOutcome {
            name: planned.name.clone(),
            id,
            status,
            error: None,
        }
    }

    fn from_error(planned: &PlannedAction, id: Option<String>, error: &ApiError) -> Self {
        let status = match error.kind {
            ErrorKind::Stopped => ActionStatus::NotAttempted,
            ErrorKind::Cancelled => ActionStatus::Unknown,
            _ => ActionStatus::Failed,
        };
        ActionOutcome {
            name: planned.name.clone(),
            id,
            status,
            error: (status != ActionStatus::NotAttempted).then(|| error.into()),
        }
    }

    /// True when the action is as declared.
    pub fn ok_status(&self) -> bool {
        !matches!(
            self.status,
            ActionStatus::Failed | ActionStatus::NotAttempted | ActionStatus::Unknown
        )
    }
}

/// The creates and updates of a plan, done: each action's outcome, and the id each created
/// action got, by its pending id.
#[derive(Debug, Default)]
pub struct ActionWrites {
    pub outcomes: Vec<ActionOutcome>,
    /// The failure of each action that could not be created, by its pending id: the
    /// associations naming it are not attempted.
    pub not_created: BTreeMap<String, ApiError>,
    /// The id of each created action, by its pending id.
    pub created: BTreeMap<String, String>,
}

/// Creates and updates the actions of `plan` (in-sync and already-absent ones are reported as
/// they are; deletes wait for [`delete_actions`]), at most `settings.concurrency` at a time.
pub async fn apply_actions<C: Catalog>(
    catalog: &C,
    plan: &ActionPlan,
    settings: &Settings,
) -> ActionWrites {
    let mut writes = ActionWrites::default();
    let mut to_write = Vec::new();
    for planned in &plan.actions {
        match &planned.step {
            ActionStep::InSync { id } => writes.outcomes.push(ActionOutcome::ok(
                planned,
                Some(id.clone()),
                ActionStatus::InSync,
            )),
            ActionStep::AlreadyAbsent => writes.outcomes.push(ActionOutcome::ok(
                planned,
                None,
                ActionStatus::AlreadyAbsent,
            )),
            ActionStep::Create { .. } | ActionStep::Update { .. } => to_write.push(planned),
            ActionStep::Delete { .. } => {}
        }
    }
    let place = &plan.place;
    let mut results = Vec::with_capacity(to_write.len());
    let dispatched = bounded(
        to_write.iter().copied(),
        settings.concurrency,
        || settings.stopped(),
        |planned| write_one(catalog, planned, place),
        |planned, result| results.push((planned, result)),
    )
    .await;
    for planned in &to_write[dispatched..] {
        results.push((planned, Err(stopped())));
    }
    for (planned, result) in results {
        let outcome = match result {
            Ok((id, status)) => {
                if matches!(planned.step, ActionStep::Create { .. }) {
                    writes
                        .created
                        .insert(super::pending_id(&planned.name), id.clone());
                }
                ActionOutcome::ok(planned, Some(id), status)
            }
            Err(error) => {
                if matches!(planned.step, ActionStep::Create { .. }) {
                    writes
                        .not_created
                        .insert(super::pending_id(&planned.name), error.clone());
                }
                ActionOutcome::from_error(planned, planned.id().map(str::to_string), &error)
            }
        };
        writes.outcomes.push(outcome);
    }
    writes
}

fn stopped() -> ApiError {
    ApiError {
        kind: ErrorKind::Stopped,
        operation: crate::seam::operation::CREATE_SERVICE_ACTION,
        code: "NotAttempted".to_string(),
        message: "the run stopped before this call".to_string(),
        request_id: None,
    }
}

async fn write_one<C: Catalog>(
    catalog: &C,
    planned: &PlannedAction,
    place: &Place,
) -> ApiResult<(String, ActionStatus)> {
    match &planned.step {
        ActionStep::Create { definition } => {
            create(catalog, &planned.name, definition, place).await
        }
        ActionStep::Update { id, definition, .. } => {
            let detail = catalog
                .update_service_action(id, &definition.spec(&planned.name))
                .await?;
            Ok((detail.summary.id, ActionStatus::Updated))
        }
        _ => unreachable!("only creates and updates are written here"),
    }
}

/// Creates `name` with the declaration's token, and again with a token of its own for each
/// answer that names an action no longer there.
async fn create<C: Catalog>(
    catalog: &C,
    name: &str,
    definition: &Definition,
    place: &Place,
) -> ApiResult<(String, ActionStatus)> {
    let spec = definition.spec(name);
    let mut stale: Option<String> = None;
    for _ in 0..=MAX_REPLAYS {
        let token = definition.create_token(name, place, stale.as_deref());
        let id = catalog
            .create_service_action(&spec, &token)
            .await?
            .summary
            .id;
        if exists(catalog, &id, &spec).await? {
            let status = match stale {
                Some(_) => ActionStatus::Healed,
                None => ActionStatus::Created,
            };
            return Ok((id, status));
        }
        tracing::warn!(action = name, stale_id = %id, "a create replayed an action deleted since; creating it again");
        stale = Some(id);
    }
    Err(ApiError {
        kind: ErrorKind::Other,
        operation: crate::seam::operation::CREATE_SERVICE_ACTION,
        code: "ReplayedDeletedAction".to_string(),
        message: format!(
            "every create of `{name}` answered with an action that no longer exists ({} tries)",
            MAX_REPLAYS + 1
        ),
        request_id: None,
    })
}

/// True when action `id` exists: a describe finds it, or (when the describe may be lagging) an
/// update with the definition it was created with does.
async fn exists<C: Catalog>(
    catalog: &C,
    id: &str,
    spec: &crate::seam::ActionSpec,
) -> ApiResult<bool> {
    match catalog.describe_service_action(id).await {
        Ok(_) => return Ok(true),
        Err(error) if error.kind == ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    match catalog.update_service_action(id, spec).await {
        Ok(_) => Ok(true),
        Err(error) if error.kind == ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error),
    }
}

/// Deletes the `absent` actions of `plan`, once their disassociations are done; `failed_removals`
/// says which actions still have an association this run could not remove (they are not
/// attempted). A delete answered `ResourceInUseException` is tried again for up to 15 s (less
/// when the settle window is shorter, none when verification is off): disassociations this run
/// made may take that long to count.
pub async fn delete_actions<C: Catalog>(
    catalog: &C,
    plan: &ActionPlan,
    failed_removals: &dyn Fn(&str) -> bool,
    settings: &Settings,
) -> Vec<ActionOutcome> {
    let wait = match settings.verify {
        crate::settings::Verify::On { settle } => settle.min(IN_USE_WAIT),
        crate::settings::Verify::Off => Duration::ZERO,
    };
    let deletes: Vec<(&PlannedAction, &str)> = plan
        .actions
        .iter()
        .filter_map(|planned| match &planned.step {
            ActionStep::Delete { id, .. } => Some((planned, id.as_str())),
            _ => None,
        })
        .collect();
    let mut outcomes = Vec::with_capacity(deletes.len());
    let mut runnable = Vec::new();
    for (planned, id) in deletes {
        if failed_removals(id) {
            outcomes.push(ActionOutcome {
                name: planned.name.clone(),
                id: Some(id.to_string()),
                status: ActionStatus::NotAttempted,
                error: None,
            });
        } else {
            runnable.push((planned, id));
        }
    }
    let mut results = Vec::new();
    let dispatched = bounded(
        runnable.iter(),
        settings.concurrency,
        || settings.stopped(),
        |(_, id)| delete_one(catalog, id, wait, settings),
        |(planned, id), result| results.push((*planned, *id, result)),
    )
    .await;
    for (planned, id) in &runnable[dispatched..] {
        outcomes.push(ActionOutcome::ok(
            planned,
            Some(id.to_string()),
            ActionStatus::NotAttempted,
        ));
    }
    for (planned, id, result) in results {
        outcomes.push(match result {
            Ok(status) => ActionOutcome::ok(planned, Some(id.to_string()), status),
            Err(error) => ActionOutcome::from_error(planned, Some(id.to_string()), &error),
        });
    }
    outcomes
}

async fn delete_one<C: Catalog>(
    catalog: &C,
    id: &str,
    wait: Duration,
    settings: &Settings,
) -> ApiResult<ActionStatus> {
    let token = delete_token(id);
    let started = tokio::time::Instant::now();
    let mut pause = Duration::from_millis(500);
    loop {
        match catalog.delete_service_action(id, &token).await {
            Ok(()) => return Ok(ActionStatus::Deleted),
            Err(error) if error.kind == ErrorKind::NotFound => {
                return Ok(ActionStatus::AlreadyAbsent);
            }
            Err(error)
                if error.kind == ErrorKind::InUse
                    && started.elapsed() + pause <= wait
                    && !settings.stopped() =>
            {
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    () = settings.control.stopped() => return Err(error),
                }
                pause = (pause * 2).min(Duration::from_secs(4));
            }
            Err(error) => return Err(error),
        }
    }
}

/// The token of deleting action `id`: an id is deleted once, so the id alone keys it.
fn delete_token(id: &str) -> String {
    let mut hasher = Sha256::new();
    for part in ["sc-assoc/idempotency/v1", "DeleteServiceAction", id] {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hex::encode(hasher.finalize())
}
