//! A hostile stand-in for Service Catalog: an HTTP server that answers AWS JSON 1.1 as a test
//! script says, so the tests can be the endpoint that never answers, the one that pages forever,
//! or the one that echoes the request's secrets back. Each call is answered by `script(operation,
//! n)`, where `n` counts that operation's calls from 1.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// How one call is answered.
pub enum Answer {
    /// HTTP 200 with this JSON body.
    Ok(serde_json::Value),
    /// HTTP 200 with this XML body, as the Query protocol (STS) answers.
    Query(String),
    /// An AWS error: status, `__type`, message.
    Error(u16, &'static str, String),
    /// Accept the request and never answer.
    Hang,
}

/// What the request carried, for answers that echo it.
pub struct Request {
    pub operation: String,
    pub call: u64,
    pub headers: HeaderMap,
}

type Script = dyn Fn(&Request) -> Answer + Send + Sync;

pub struct Hostile {
    pub endpoint: String,
    calls: Arc<Mutex<HashMap<String, u64>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Hostile {
    pub async fn start(script: impl Fn(&Request) -> Answer + Send + Sync + 'static) -> Self {
        let script: Arc<Script> = Arc::new(script);
        let calls: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
        let counted = calls.clone();
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
            let script = script.clone();
            let calls = counted.clone();
            async move { answer(&*script, &calls, headers, &body).await }
        });
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind");
        let endpoint = format!("http://{}", listener.local_addr().expect("address"));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            endpoint,
            calls,
            server,
        }
    }

    /// Calls seen of `operation`.
    pub fn calls(&self, operation: &str) -> u64 {
        self.calls
            .lock()
            .map(|c| c.get(operation).copied().unwrap_or_default())
            .unwrap_or_default()
    }

    /// Every call seen.
    pub fn total_calls(&self) -> u64 {
        self.calls
            .lock()
            .map(|c| c.values().sum())
            .unwrap_or_default()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn answer(
    script: &Script,
    calls: &Mutex<HashMap<String, u64>>,
    headers: HeaderMap,
    body: &[u8],
) -> Response {
    // Service Catalog names the operation in a header; STS (the Query protocol) in the form's
    // `Action`.
    let form_action = || {
        url::form_urlencoded::parse(body)
            .find(|(key, _)| key == "Action")
            .map(|(_, value)| value.into_owned())
    };
    let operation = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.rsplit('.').next())
        .map(str::to_string)
        .or_else(form_action)
        .unwrap_or_default();
    let call = {
        let mut calls = calls.lock().expect("lock");
        let count = calls.entry(operation.clone()).or_default();
        *count += 1;
        *count
    };
    let request = Request {
        operation,
        call,
        headers,
    };
    match script(&request) {
        Answer::Ok(value) => (
            StatusCode::OK,
            [("content-type", "application/x-amz-json-1.1")],
            value.to_string(),
        )
            .into_response(),
        Answer::Error(status, code, message) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            [("content-type", "application/x-amz-json-1.1")],
            serde_json::json!({"__type": code, "message": message}).to_string(),
        )
            .into_response(),
        Answer::Query(xml) => (StatusCode::OK, [("content-type", "text/xml")], xml).into_response(),
        Answer::Hang => {
            std::future::pending::<()>().await;
            StatusCode::OK.into_response()
        }
    }
}

/// The answers of a small healthy account for the read calls: two actions, one product with two
/// artifacts, nothing associated. Writes succeed.
pub fn healthy(request: &Request) -> Answer {
    use serde_json::json;
    Answer::Ok(match request.operation.as_str() {
        "ListServiceActions" => json!({"ServiceActionSummaries": [
            {"Id": "act-1", "Name": "Restart"}, {"Id": "act-2", "Name": "Patch"}]}),
        "ListServiceActionsForProvisioningArtifact" => json!({"ServiceActionSummaries": []}),
        "ListProvisioningArtifactsForServiceAction" => json!({"ProvisioningArtifactViews": []}),
        "ListProvisioningArtifacts" => json!({"ProvisioningArtifactDetails": [
            {"Id": "pa-1", "Name": "v1", "Active": true, "Guidance": "DEFAULT"},
            {"Id": "pa-2", "Name": "v2", "Active": true, "Guidance": "DEFAULT"}]}),
        "SearchProductsAsAdmin" => json!({"ProductViewDetails": [
            {"ProductViewSummary": {"ProductId": "prod-1", "Name": "Web"}}]}),
        _ => json!({}),
    })
}

/// A manifest of ids that the [`healthy`] account knows: four triples.
pub const MANIFEST: &str = "version: 1
associations:
  - product: prod-1
    artifacts: [pa-1, pa-2]
    actions: [act-1, act-2]
";
