//! `accept_language` reaches every call. The local catalog accepts AcceptLanguage without
//! acting on it, so this test listens itself: a bare HTTP endpoint records each request's
//! operation and body and answers `{}`, which every operation's output parses from.

use crate::support::{ACCESS_KEY, SECRET_KEY};
use axum::Router;
use axum::body::Bytes;
use axum::http::HeaderMap;
use sc_assoc::aws::{AwsCatalog, AwsOptions, StaticCredentials};
use sc_assoc::seam::{Catalog, ProductKey};
use sc_assoc::triple::Triple;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

type Seen = Arc<Mutex<Vec<(String, serde_json::Value)>>>;

async fn recorder() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let app = Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
        let log = log.clone();
        async move {
            let operation = headers
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .and_then(|t| t.rsplit('.').next())
                .unwrap_or_default()
                .to_string();
            let body = serde_json::from_slice(&body).unwrap_or_default();
            log.lock().unwrap().push((operation, body));
            ([("content-type", "application/x-amz-json-1.1")], "{}")
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), seen)
}

async fn every_call(catalog: &AwsCatalog) {
    let triple = Triple::new("prod-1", "pa-1", "act-1");
    let token = "t".repeat(64);
    let batch = [triple.clone()];
    // Answers are empty; only what was sent matters here.
    let _ = catalog.list_actions_for_artifact("prod-1", "pa-1").await;
    let _ = catalog.list_artifacts_for_action("act-1").await;
    let _ = catalog.associate(&triple, &token).await;
    let _ = catalog.disassociate(&triple, &token).await;
    let _ = catalog.batch_associate(&batch).await;
    let _ = catalog.batch_disassociate(&batch).await;
    let _ = catalog.list_service_actions().await;
    let _ = catalog.describe_service_action("act-1").await;
    let _ = catalog.search_products(Some("Web")).await;
    let _ = catalog
        .describe_product(&ProductKey::Name("Web".into()))
        .await;
    let _ = catalog.list_provisioning_artifacts("prod-1").await;
    let _ = catalog
        .describe_provisioning_artifact("prod-1", "pa-1")
        .await;
}

async fn languages_sent(accept_language: Option<&str>) -> BTreeMap<String, Option<String>> {
    let (endpoint, seen) = recorder().await;
    let catalog = AwsCatalog::connect(&AwsOptions {
        endpoint_url: Some(endpoint),
        region: Some("us-east-1".to_string()),
        static_credentials: Some(StaticCredentials {
            access_key_id: ACCESS_KEY.to_string(),
            secret_access_key: SECRET_KEY.to_string(),
        }),
        accept_language: accept_language.map(str::to_string),
        ..AwsOptions::default()
    })
    .await
    .unwrap();
    every_call(&catalog).await;
    let seen = seen.lock().unwrap();
    seen.iter()
        .map(|(operation, body)| {
            let language = body["AcceptLanguage"].as_str().map(str::to_string);
            (operation.clone(), language)
        })
        .collect()
}

#[tokio::test]
async fn every_operation_carries_the_configured_accept_language() {
    let sent = languages_sent(Some("jp")).await;
    assert_eq!(
        sent.len(),
        12,
        "all twelve operations were called: {sent:?}"
    );
    for (operation, language) in &sent {
        assert_eq!(language.as_deref(), Some("jp"), "{operation}");
    }
}

#[tokio::test]
async fn english_sends_no_accept_language_at_all() {
    let sent = languages_sent(None).await;
    assert_eq!(sent.len(), 12, "{sent:?}");
    assert!(sent.values().all(Option::is_none), "{sent:?}");
}
