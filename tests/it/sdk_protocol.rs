//! Which wire protocol the pinned Rust SDK speaks, stated as a test. The local catalog serves
//! both; the client's own code reads errors from the SDK's parsed metadata, so either works. But
//! a bump of `aws-sdk-servicecatalog` that switches to RPC v2 CBOR must be a conscious step: this
//! turns red, and whoever bumps it re-runs the suite knowing the wire changed. Also here: the
//! client treats `ValidationException` as final, with exactly one attempt.

use crate::support::{SMALL_SEED, client, start_catalog};
use aws_sdk_servicecatalog::config::{BehaviorVersion, Credentials, Region};
use axum::Router;
use axum::http::{HeaderMap, Method, Uri};
use sc_assoc::seam::{Catalog, ErrorKind};
use std::sync::{Arc, Mutex};

/// What the recording server saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// A server that records every request and answers an empty listing in AWS JSON 1.1.
async fn recording_server() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let router = Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: axum::body::Bytes| {
            let log = log.clone();
            async move {
                if let Ok(mut l) = log.lock() {
                    l.push(Seen {
                        method,
                        path: uri.path().to_string(),
                        headers,
                        body: body.to_vec(),
                    });
                }
                (
                    [("content-type", "application/x-amz-json-1.1")],
                    r#"{"ServiceActionSummaries": []}"#,
                )
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (format!("http://{addr}"), seen)
}

#[tokio::test]
async fn the_pinned_sdk_speaks_aws_json_1_1() {
    assert_eq!(
        aws_sdk_servicecatalog::meta::PKG_VERSION,
        "1.121.0",
        "the SDK was bumped: check which protocol it speaks now and update this test"
    );
    let (endpoint, seen) = recording_server().await;
    let config = aws_sdk_servicecatalog::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(sc_assoc::aws::https_client())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .endpoint_url(endpoint)
        .build();
    let sdk = aws_sdk_servicecatalog::Client::from_conf(config);
    let listed = sdk
        .list_service_actions()
        .page_size(5)
        .send()
        .await
        .expect("the recording server's JSON answer parses");
    assert!(listed.service_action_summaries().is_empty());

    let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let request = &seen[0];
    let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
    assert_eq!(
        (&request.method, request.path.as_str()),
        (&Method::POST, "/")
    );
    assert_eq!(
        header("x-amz-target"),
        Some("AWS242ServiceCatalogService.ListServiceActions")
    );
    assert_eq!(header("content-type"), Some("application/x-amz-json-1.1"));
    assert_eq!(header("smithy-protocol"), None, "not RPC v2 CBOR");
    let body: serde_json::Value = serde_json::from_slice(&request.body).expect("a JSON body");
    assert_eq!(body, serde_json::json!({"PageSize": 5}));
}

#[tokio::test]
async fn a_validation_exception_is_final_and_classified_as_invalid_parameters() {
    let catalog = start_catalog(SMALL_SEED).await;
    let sdk = client(&catalog).await;
    catalog.reset_stats();
    let error = sdk
        .list_actions_for_artifact("prod bad", "pa-web-v1")
        .await
        .expect_err("the id breaks the model's pattern");
    assert_eq!(
        (error.kind, error.code.as_str()),
        (ErrorKind::InvalidParameters, "ValidationException")
    );
    assert!(
        error.message.contains("Value 'prod bad' at 'productId'"),
        "{error}"
    );
    assert_eq!(
        catalog.stats().calls["ListServiceActionsForProvisioningArtifact"],
        1,
        "one attempt, no retry"
    );
}
