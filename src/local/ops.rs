//! The twelve operations: read an already-validated request body, consult or change the
//! [`CatalogState`], and render the answer in the model's output shapes (member names, nesting,
//! epoch-second timestamps) so the generated SDK deserializers and botocore parse it.
//!
//! Each operation takes the catalog lock once, for its whole body and never across an await,
//! which makes every call — including a 50-item batch — atomic, as a single AWS call appears.

use super::actions::ActionFields;
use super::faults::{Draw, Faults};
use super::paging::{cursor, encode, list_identity, page_size};
use super::state::{Action, Artifact, CatalogState, Product};
use super::wire::{Answer, Op, ServiceError};
use crate::triple::Triple;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::RwLock;
use std::time::Duration;

/// Runs `op`. Errors become answers here; the caller adds faults and headers.
pub fn execute(
    op: Op,
    body: &Value,
    catalog: &RwLock<CatalogState>,
    draw: &mut Draw,
    faults: &Faults,
) -> Answer {
    let result = match op {
        Op::Associate | Op::Disassociate => {
            return single_write(op, body, catalog, draw.listing_lag);
        }
        Op::BatchAssociate | Op::BatchDisassociate => batch_write(op, body, catalog, draw, faults),
        Op::ListActionsForArtifact => read(catalog, |c| list_actions_for_artifact(c, body)),
        Op::ListArtifactsForAction => read(catalog, |c| list_artifacts_for_action(c, body)),
        Op::ListServiceActions => read(catalog, |c| list_service_actions(c, body)),
        Op::DescribeServiceAction => read(catalog, |c| describe_service_action(c, body)),
        Op::DescribeProvisioningArtifact => {
            read(catalog, |c| describe_provisioning_artifact(c, body))
        }
        Op::DescribeProductAsAdmin => read(catalog, |c| describe_product_as_admin(c, body)),
        Op::SearchProductsAsAdmin => read(catalog, |c| search_products_as_admin(c, body)),
        Op::ListProvisioningArtifacts => read(catalog, |c| list_provisioning_artifacts(c, body)),
        Op::CreateServiceAction | Op::UpdateServiceAction | Op::DeleteServiceAction => {
            return action_write(op, body, catalog, draw.listing_lag);
        }
    };
    match result {
        Ok(v) => Answer::ok(v),
        Err(e) => Answer::error(&e),
    }
}

fn read(
    catalog: &RwLock<CatalogState>,
    f: impl FnOnce(&CatalogState) -> Result<Value, ServiceError>,
) -> Result<Value, ServiceError> {
    // A poisoned lock only means another request panicked mid-read or mid-write; the data is
    // still a consistent catalog because every mutation is a single set insert or remove.
    let guard = catalog.read().unwrap_or_else(|e| e.into_inner());
    f(&guard)
}

fn text<'a>(body: &'a Value, member: &str) -> Option<&'a str> {
    body.get(member).and_then(Value::as_str)
}

fn required<'a>(body: &'a Value, member: &str) -> &'a str {
    // Validation has already rejected a missing required member; "" would simply not be found.
    text(body, member).unwrap_or("")
}

fn triple_of(item: &Value) -> Triple {
    Triple::new(
        required(item, "ProductId"),
        required(item, "ProvisioningArtifactId"),
        required(item, "ServiceActionId"),
    )
}

/// Associate / Disassociate, with AWS's idempotency: the first answer for (operation, token) is
/// remembered and replayed for every later request with that token, whatever the state is now.
/// A change is listed only `lag` later; a replayed answer changes nothing.
fn single_write(op: Op, body: &Value, catalog: &RwLock<CatalogState>, lag: Duration) -> Answer {
    let t = triple_of(body);
    let token = text(body, "IdempotencyToken");
    let mut c = catalog.write().unwrap_or_else(|e| e.into_inner());
    if let Some(previous) = token.and_then(|tok| c.remembered(op, tok)) {
        return previous.clone();
    }
    let result = if op == Op::Associate {
        c.associate(&t)
    } else {
        c.disassociate(&t)
    };
    if result.is_ok() {
        c.note_write(&t, op == Op::Associate, lag);
    }
    let answer = match result {
        Ok(()) => Answer::ok(json!({})),
        Err(e) => Answer::error(&e),
    };
    if let Some(tok) = token {
        c.remember(op, tok, &answer);
    }
    answer
}

/// The per-item `ErrorCode` for an operation error.
fn item_code(e: &ServiceError) -> &'static str {
    match e.code {
        "ResourceNotFoundException" => "RESOURCE_NOT_FOUND",
        "DuplicateResourceException" => "DUPLICATE_RESOURCE",
        "LimitExceededException" => "LIMIT_EXCEEDED",
        "InvalidParametersException" => "INVALID_PARAMETER",
        "ThrottlingException" => "THROTTLING",
        _ => "INTERNAL_FAILURE",
    }
}

/// Batch calls: items are applied in order (so a triple repeated within one batch fails as a
/// duplicate the second time) and failures are reported per item inside an HTTP 200.
fn batch_write(
    op: Op,
    body: &Value,
    catalog: &RwLock<CatalogState>,
    draw: &mut Draw,
    faults: &Faults,
) -> Result<Value, ServiceError> {
    let items = body
        .get("ServiceActionAssociations")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut failed = Vec::new();
    let mut c = catalog.write().unwrap_or_else(|e| e.into_inner());
    for item in items {
        let t = triple_of(item);
        let outcome = if draw.item_throttled(faults) {
            Err(ServiceError::throttling())
        } else if op == Op::BatchAssociate {
            c.associate(&t)
        } else {
            c.disassociate(&t)
        };
        if outcome.is_ok() {
            c.note_write(&t, op == Op::BatchAssociate, draw.listing_lag);
        }
        if let Err(e) = outcome {
            failed.push(json!({
                "ServiceActionId": t.action,
                "ProductId": t.product,
                "ProvisioningArtifactId": t.artifact,
                "ErrorCode": item_code(&e),
                "ErrorMessage": e.message,
            }));
        }
    }
    Ok(json!({ "FailedServiceActionAssociations": failed }))
}

/// Inserts `value` under `key` unless it is absent: AWS omits unset members.
fn put_opt(obj: &mut Map<String, Value>, key: &str, value: Option<&String>) {
    if let Some(v) = value {
        obj.insert(key.to_string(), Value::String(v.clone()));
    }
}

fn action_summary(a: &Action) -> Value {
    let mut o = Map::new();
    o.insert("Id".into(), json!(a.id));
    o.insert("Name".into(), json!(a.name));
    put_opt(&mut o, "Description", a.description.as_ref());
    o.insert("DefinitionType".into(), json!(a.definition_type));
    Value::Object(o)
}

fn product_view_summary(p: &Product) -> Value {
    let mut o = Map::new();
    o.insert("Id".into(), json!(p.view_id));
    o.insert("ProductId".into(), json!(p.id));
    o.insert("Name".into(), json!(p.name));
    put_opt(&mut o, "Owner", p.owner.as_ref());
    put_opt(&mut o, "ShortDescription", p.description.as_ref());
    o.insert("Type".into(), json!(p.product_type));
    o.insert("HasDefaultPath".into(), json!(false));
    Value::Object(o)
}

fn product_view_detail(c: &CatalogState, p: &Product) -> Value {
    json!({
        "ProductViewSummary": product_view_summary(p),
        "Status": "AVAILABLE",
        "ProductARN": format!("arn:aws:catalog:{}:{}:product/{}", c.region, c.account, p.id),
        "CreatedTime": p.created,
    })
}

/// `ProvisioningArtifact` (inside a ProvisioningArtifactView).
fn artifact_brief(a: &Artifact) -> Value {
    let mut o = Map::new();
    o.insert("Id".into(), json!(a.id));
    o.insert("Name".into(), json!(a.name));
    put_opt(&mut o, "Description", a.description.as_ref());
    o.insert("CreatedTime".into(), json!(a.created));
    o.insert("Guidance".into(), json!(a.guidance));
    Value::Object(o)
}

/// `ProvisioningArtifactDetail`.
fn artifact_detail(a: &Artifact) -> Value {
    let mut o = Map::new();
    o.insert("Id".into(), json!(a.id));
    o.insert("Name".into(), json!(a.name));
    put_opt(&mut o, "Description", a.description.as_ref());
    o.insert("Type".into(), json!("CLOUD_FORMATION_TEMPLATE"));
    o.insert("CreatedTime".into(), json!(a.created));
    o.insert("Active".into(), json!(a.active));
    o.insert("Guidance".into(), json!(a.guidance));
    Value::Object(o)
}

/// `ProvisioningArtifactSummary` (DescribeProductAsAdmin).
fn artifact_summary(a: &Artifact) -> Value {
    let mut o = Map::new();
    o.insert("Id".into(), json!(a.id));
    o.insert("Name".into(), json!(a.name));
    put_opt(&mut o, "Description", a.description.as_ref());
    o.insert("CreatedTime".into(), json!(a.created));
    Value::Object(o)
}

/// Takes up to `size` items after the cursor; returns them and the token for the next page.
fn page<K, T>(
    list: &[u8; 8],
    items: impl Iterator<Item = (K, T)>,
    size: usize,
    key_text: impl Fn(&K) -> String,
) -> (Vec<T>, Option<String>) {
    let mut out = Vec::with_capacity(size);
    let mut last = None;
    let mut more = false;
    for (k, item) in items {
        if out.len() == size {
            more = true;
            break;
        }
        last = Some(k);
        out.push(item);
    }
    let next = if more {
        last.map(|k| encode(list, &key_text(&k)))
    } else {
        None
    };
    (out, next)
}

fn with_token(mut v: Value, next: Option<String>) -> Value {
    if let (Some(t), Some(o)) = (next, v.as_object_mut()) {
        o.insert("NextPageToken".into(), Value::String(t));
    }
    v
}

fn list_actions_for_artifact(c: &CatalogState, body: &Value) -> Result<Value, ServiceError> {
    let (pid, aid) = (
        required(body, "ProductId"),
        required(body, "ProvisioningArtifactId"),
    );
    let list = list_identity(&[&c.scope(), Op::ListActionsForArtifact.name(), pid, aid]);
    let after = cursor(body, &list)?;
    let product = c.product(pid)?;
    c.artifact(product, aid)?;
    let set = c.listed_actions_of(aid);
    let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
    let items = set
        .range::<String, _>((lower, Bound::Unbounded))
        .filter_map(|id| c.actions.get(id).map(|a| (id, action_summary(a))));
    let (summaries, next) = page(&list, items, page_size(body), |k| k.to_string());
    Ok(with_token(
        json!({ "ServiceActionSummaries": summaries }),
        next,
    ))
}

fn list_artifacts_for_action(c: &CatalogState, body: &Value) -> Result<Value, ServiceError> {
    let action = required(body, "ServiceActionId");
    let list = list_identity(&[&c.scope(), Op::ListArtifactsForAction.name(), action]);
    let after = match cursor(body, &list)? {
        // Seeded ids hold no '/', so it separates the two halves of the key unambiguously.
        Some(k) => match k.split_once('/') {
            Some((p, a)) => Some((p.to_string(), a.to_string())),
            None => {
                return Err(ServiceError::invalid_parameters(
                    "The page token is not valid.",
                ));
            }
        },
        None => None,
    };
    c.action(action)?;
    let set = c.listed_artifacts_of(action);
    let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
    let items = set.range((lower, Bound::Unbounded)).filter_map(|(p, a)| {
        let product = c.products.get(p)?;
        let artifact = product.artifacts.iter().find(|x| &x.id == a)?;
        let view = json!({
            "ProductViewSummary": product_view_summary(product),
            "ProvisioningArtifact": artifact_brief(artifact),
        });
        Some(((p, a), view))
    });
    let (views, next) = page(&list, items, page_size(body), |(p, a)| format!("{p}/{a}"));
    Ok(with_token(
        json!({ "ProvisioningArtifactViews": views }),
        next,
    ))
}

fn list_service_actions(c: &CatalogState, body: &Value) -> Result<Value, ServiceError> {
    let list = list_identity(&[&c.scope(), Op::ListServiceActions.name()]);
    let after = cursor(body, &list)?;
    let listed = c.listed_actions();
    let lower = after.as_deref().map_or(Bound::Unbounded, Bound::Excluded);
    let items = listed
        .range::<&str, _>((lower, Bound::Unbounded))
        .map(|(id, a)| (*id, action_summary(a)));
    let (summaries, next) = page(&list, items, page_size(body), |k| k.to_string());
    Ok(with_token(
        json!({ "ServiceActionSummaries": summaries }),
        next,
    ))
}

/// The detail every action write answers with.
fn action_detail(a: &Action) -> Value {
    json!({
        "ServiceActionDetail": {
            "ServiceActionSummary": action_summary(a),
            "Definition": a.definition,
        }
    })
}

/// The definition map of a request, as the model's validation left it.
fn definition_of(body: &Value) -> Option<BTreeMap<String, String>> {
    body.get("Definition")
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
}

/// Create, update or delete a service action. Create and delete carry an idempotency token
/// whose first answer is replayed (a create replayed after the action was deleted out of band
/// answers with an action that no longer exists, as AWS does); update has none.
fn action_write(op: Op, body: &Value, catalog: &RwLock<CatalogState>, lag: Duration) -> Answer {
    let token = text(body, "IdempotencyToken");
    let mut c = catalog.write().unwrap_or_else(|e| e.into_inner());
    if let Some(previous) = token.and_then(|tok| c.remembered(op, tok)) {
        return previous.clone();
    }
    let fields = ActionFields {
        name: text(body, "Name").map(str::to_string),
        description: text(body, "Description").map(str::to_string),
        definition: definition_of(body),
    };
    let id = required(body, "Id");
    let result = match op {
        Op::CreateServiceAction => c.create_action(fields, lag).map(action_detail),
        Op::UpdateServiceAction => c.update_action(id, fields).map(action_detail),
        _ => c.delete_action(id, lag).map(|()| json!({})),
    };
    let answer = match result {
        Ok(value) => Answer::ok(value),
        Err(e) => Answer::error(&e),
    };
    if let Some(tok) = token {
        c.remember(op, tok, &answer);
    }
    answer
}

fn describe_service_action(c: &CatalogState, body: &Value) -> Result<Value, ServiceError> {
    Ok(action_detail(c.action(required(body, "Id"))?))
}

/// Product by `{id_member}`, else by `{name_member}`; neither is InvalidParameters.
fn product_by<'a>(
    c: &'a CatalogState,
    body: &Value,
    id_member: &str,
    name_member: &str,
) -> Result<&'a Product, ServiceError> {
    match (text(body, id_member), text(body, name_member)) {
        (Some(id), _) => c.product(id),
        (None, Some(name)) => c.product_named(name),
        (None, None) => Err(ServiceError::invalid_parameters(format!(
            "Either {id_member} or {name_member} must be provided."
        ))),
    }
}

fn describe_provisioning_artifact(c: &CatalogState, body: &Value) -> Result<Value, ServiceError> {
    let product = product_by(c, body, "ProductId", "ProductName")?;
    let artifact = match (
        text(body, "ProvisioningArtifactId"),
        text(body, "ProvisioningArtifactName"),
    ) {
        (Some(id), _) => c.artifact(product, id)?,
        (None, Some(name)) => product
            .artifacts
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| {
                ServiceError::not_found(format!(
                    "Provisioning artifact with name {name} not found for product {}.",
                    product.id
                ))
            })?,
        (None, None) => {
            return Err(ServiceError::invalid_parameters(
                "Either ProvisioningArtifactId or ProvisioningArtifactName must be provided.",
            ));
        }
    };
    let mut out = json!({
        "ProvisioningArtifactDetail": artifact_detail(artifact),
        "Status": "AVAILABLE",
    });
    if let Some(o) = out.as_object_mut() {
        if body.get("Verbose").and_then(Value::as_bool) == Some(true) {
            o.insert(
                "Info".into(),
                json!({ "TemplateUrl": format!("https://s3.amazonaws.com/sc-assoc-local/{}/{}.json", product.id, artifact.id) }),
            );
        }
        if body
            .get("IncludeProvisioningArtifactParameters")
            .and_then(Value::as_bool)
            == Some(true)
        {
            o.insert("ProvisioningArtifactParameters".into(), json!([]));
        }
    }
    Ok(out)
}

fn describe_product_as_admin(c: &CatalogState, body: &Value) -> Result<Value, ServiceError> {
    let p = product_by(c, body, "Id", "Name")?;
    let summaries: Vec<Value> = p.artifacts.iter().map(artifact_summary).collect();
    Ok(json!({
        "ProductViewDetail": product_view_detail(c, p),
        "ProvisioningArtifactSummaries": summaries,
        "Tags": [],
        "TagOptions": [],
        "Budgets": [],
    }))
}

fn list_provisioning_artifacts(c: &CatalogState, body: &Value) -> Result<Value, ServiceError> {
    let p = c.product(required(body, "ProductId"))?;
    let details: Vec<Value> = p.artifacts.iter().map(artifact_detail).collect();
    Ok(json!({ "ProvisioningArtifactDetails": details }))
}

/// Filter values of one key; several values of a key are alternatives, several keys must all hold.
fn filter_values<'a>(body: &'a Value, key: &str) -> Option<Vec<&'a str>> {
    let values = body.get("Filters")?.get(key)?.as_array()?;
    let v: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
    (!v.is_empty()).then_some(v)
}

fn search_products_as_admin(c: &CatalogState, body: &Value) -> Result<Value, ServiceError> {
    // The local catalog has no portfolios, so naming one can only fail, as AWS does for an
    // unknown portfolio.
    if let Some(portfolio) = text(body, "PortfolioId") {
        return Err(ServiceError::not_found(format!(
            "Portfolio {portfolio} not found."
        )));
    }
    let sort_by = text(body, "SortBy").unwrap_or("Title");
    let descending = text(body, "SortOrder") == Some("DESCENDING");
    let filters = body
        .get("Filters")
        .map(Value::to_string)
        .unwrap_or_default();
    let order = if descending {
        "DESCENDING"
    } else {
        "ASCENDING"
    };
    let list = list_identity(&[
        &c.scope(),
        Op::SearchProductsAsAdmin.name(),
        &filters,
        sort_by,
        order,
    ]);
    let after = cursor(body, &list)?;

    let full_text: Option<Vec<String>> =
        filter_values(body, "FullTextSearch").map(|v| v.iter().map(|s| s.to_lowercase()).collect());
    let owners = filter_values(body, "Owner");
    let types = filter_values(body, "ProductType");
    let source = filter_values(body, "SourceProductId");
    let mut matches: Vec<&Product> = c
        .products
        .values()
        .filter(|p| {
            let name = p.name.to_lowercase();
            full_text
                .as_ref()
                .is_none_or(|v| v.iter().any(|s| name.contains(s.as_str())))
                && owners.as_ref().is_none_or(|v| {
                    p.owner
                        .as_deref()
                        .is_some_and(|o| v.iter().any(|x| x.eq_ignore_ascii_case(o)))
                })
                && types
                    .as_ref()
                    .is_none_or(|v| v.contains(&p.product_type.as_str()))
                // No product in the local catalog is a copy, so any source filter excludes all.
                && source.is_none()
        })
        .collect();
    match sort_by {
        "VersionCount" => {
            matches.sort_by(|a, b| (a.artifacts.len(), &a.id).cmp(&(b.artifacts.len(), &b.id)))
        }
        "CreationDate" => matches.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id))),
        _ => matches.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id))),
    }
    if descending {
        matches.reverse();
    }
    // The cursor is the last product id returned; products never change, so its position in the
    // same sorted, filtered list is stable.
    let start =
        match after {
            None => 0,
            Some(id) => {
                matches.iter().position(|p| p.id == id).ok_or_else(|| {
                    ServiceError::invalid_parameters("The page token is not valid.")
                })? + 1
            }
        };
    let items = matches[start.min(matches.len())..]
        .iter()
        .map(|p| (p.id.as_str(), product_view_detail(c, p)));
    let (details, next) = page(&list, items, page_size(body), |k| k.to_string());
    Ok(with_token(json!({ "ProductViewDetails": details }), next))
}
