//! The inspection endpoints beside the API, never throttled or faulted: `GET /_stats` (the
//! server's totals in the shape it always had, plus `targets`, each account and region's own
//! counters) and `GET /_state` (the default target's associations as it always served them;
//! `?account=A&region=R` one target's; `?all=true` every target's).

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
