//! The control endpoints beside the API, never throttled or faulted: `GET /_stats` (the
//! server's totals in the shape it always had, plus `targets`, each account and region's own
//! counters), `GET /_state` (the default target's associations as it always served them;
//! `?account=A&region=R` one target's; `?all=true` every target's), and `POST /_state`, a change
//! behind the API's back (the console, another tool): `{"op": "add" | "remove", "product",
//! "artifact", "action"}`, plus `account` and `region` for another target than the default.
//! Such a change is listed at once and keeps the idempotency memory, as an out-of-band change
//! in AWS does (the stale-token trap). `POST /_organization` places an account in the seed's
//! organisation, as an account that joins (or moves, or is suspended) does:
//! `{"account", "parent"?: "ou-…" (the root if absent), "status"?: "ACTIVE" | "SUSPENDED" |
//! "PENDING_CLOSURE"}`.

use super::Inner;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;

fn json_response(inner: &Inner, status: StatusCode, body: String) -> Response {
    let mut r = (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(&inner.ids.next()) {
        r.headers_mut().insert("x-amzn-RequestId", v);
    }
    r
}

pub async fn stats(State(inner): State<Arc<Inner>>) -> Response {
    let body = serde_json::to_string(&inner.server_stats()).unwrap_or_default();
    json_response(&inner, StatusCode::OK, body)
}

/// `GET /_state`: the default target's associations; `?account=A&region=R` one target's;
/// `?all=true` every target's, as `[{account, region, associations}]`.
pub async fn state(
    State(inner): State<Arc<Inner>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if query.get("all").is_some_and(|v| v == "true") {
        let all: Vec<serde_json::Value> = inner
            .targets
            .all()
            .iter()
            .map(|t| {
                serde_json::json!({
                    "account": t.account, "region": t.region, "associations": t.associations()
                })
            })
            .collect();
        let body = serde_json::to_string(&all).unwrap_or_default();
        return json_response(&inner, StatusCode::OK, body);
    }
    let target = match (query.get("account"), query.get("region")) {
        (None, None) => inner.targets.default_target(),
        (Some(a), Some(r)) => inner.targets.get(a, r),
        _ => {
            let body = serde_json::json!({"message": "give both account and region, or neither"});
            return json_response(&inner, StatusCode::BAD_REQUEST, body.to_string());
        }
    };
    match target {
        Some(t) => {
            let body = serde_json::to_string(&t.associations()).unwrap_or_default();
            json_response(&inner, StatusCode::OK, body)
        }
        None => {
            let body = serde_json::json!({"message": "no such account and region"});
            json_response(&inner, StatusCode::NOT_FOUND, body.to_string())
        }
    }
}

/// `POST /_state`'s body.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    op: String,
    product: String,
    artifact: String,
    action: String,
    account: Option<String>,
    region: Option<String>,
}

/// `POST /_state`: adds or removes one association out of band. Answers `{"changed": bool}`
/// (false when it was already so, or an id is unknown), 404 for an unknown target, 400 for a
/// body it cannot read.
pub async fn change(State(inner): State<Arc<Inner>>, body: axum::body::Bytes) -> Response {
    let change: Change = match serde_json::from_slice(&body) {
        Ok(change) => change,
        Err(error) => {
            let body = serde_json::json!({"message": format!("cannot read the change: {error}")});
            return json_response(&inner, StatusCode::BAD_REQUEST, body.to_string());
        }
    };
    let target = match (&change.account, &change.region) {
        (None, None) => inner.targets.default_target(),
        (Some(a), Some(r)) => inner.targets.get(a, r),
        _ => {
            let body = serde_json::json!({"message": "give both account and region, or neither"});
            return json_response(&inner, StatusCode::BAD_REQUEST, body.to_string());
        }
    };
    let Some(target) = target else {
        let body = serde_json::json!({"message": "no such account and region"});
        return json_response(&inner, StatusCode::NOT_FOUND, body.to_string());
    };
    let triple = crate::triple::Triple::new(&change.product, &change.artifact, &change.action);
    let mut catalog = target.catalog.write().unwrap_or_else(|e| e.into_inner());
    let changed = match change.op.as_str() {
        "add" => catalog.insert_out_of_band(&triple),
        "remove" => catalog.remove_out_of_band(&triple),
        other => {
            drop(catalog);
            let body =
                serde_json::json!({"message": format!("`op` is `add` or `remove`, not `{other}`")});
            return json_response(&inner, StatusCode::BAD_REQUEST, body.to_string());
        }
    };
    drop(catalog);
    json_response(
        &inner,
        StatusCode::OK,
        serde_json::json!({ "changed": changed }).to_string(),
    )
}

/// `POST /_organization`'s body.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Join {
    account: String,
    parent: Option<String>,
    status: Option<String>,
}

/// `POST /_organization`: places an account in the organisation. Answers `{"changed": true}`,
/// 404 when there is no organisation or no such parent, 400 for a body it cannot read.
pub async fn join(State(inner): State<Arc<Inner>>, body: axum::body::Bytes) -> Response {
    let bad = |message: String| {
        let body = serde_json::json!({ "message": message });
        json_response(&inner, StatusCode::BAD_REQUEST, body.to_string())
    };
    let join: Join = match serde_json::from_slice(&body) {
        Ok(join) => join,
        Err(error) => return bad(format!("cannot read the change: {error}")),
    };
    let status = join.status.as_deref().unwrap_or("ACTIVE");
    if !crate::target::is_account_id(&join.account) {
        return bad(format!("`{}` is not a 12-digit account id", join.account));
    }
    if !["ACTIVE", "SUSPENDED", "PENDING_CLOSURE"].contains(&status) {
        return bad(format!(
            "`status` is ACTIVE, SUSPENDED or PENDING_CLOSURE, not `{status}`"
        ));
    }
    if !inner
        .org
        .join(&join.account, join.parent.as_deref(), status)
    {
        let body = serde_json::json!({"message": "no organisation in the seed, or no such parent"});
        return json_response(&inner, StatusCode::NOT_FOUND, body.to_string());
    }
    json_response(
        &inner,
        StatusCode::OK,
        serde_json::json!({ "changed": true }).to_string(),
    )
}
