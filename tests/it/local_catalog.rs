//! The local catalog, over raw HTTP: validation and semantics operation by operation, paging,
//! idempotency-token replay, authentication, and the fault knobs. Requests are built by hand (no
//! SDK) so these tests pin the wire contract itself. This file holds the harness; the tests are
//! grouped in the submodules below.

mod paging_and_tokens;
mod protocol_and_faults;
mod semantics;
mod validation;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sc_assoc::local::validate::model;
use sc_assoc::local::{CatalogConfig, Faults, LocalCatalog, Seed};
use sc_assoc::triple::Triple;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/servicecatalog/aws4_request, SignedHeaders=host, Signature=abc";
const ASSOCIATE: &str = "AssociateServiceActionWithProvisioningArtifact";
const DISASSOCIATE: &str = "DisassociateServiceActionFromProvisioningArtifact";
const BATCH_ASSOCIATE: &str = "BatchAssociateServiceActionWithProvisioningArtifact";
const BATCH_DISASSOCIATE: &str = "BatchDisassociateServiceActionFromProvisioningArtifact";

const SEED: &str = r#"
products:
  - id: prod-web
    name: Web Server
    owner: Platform
    artifacts:
      - {id: pa-web-v1, name: v1}
      - {id: pa-web-v2, name: v2, active: false, guidance: DEPRECATED}
  - id: prod-db
    name: Database
    artifacts:
      - {id: pa-db-v1, name: v1}
  - id: prod-cache
    name: Web Cache
    artifacts: []
actions:
  - {id: act-restart, name: Restart, description: Restart it}
  - {id: act-patch, name: Patch}
  - {id: act-backup, name: Backup}
associations:
  - {product: prod-web, artifact: pa-web-v1, action: act-restart}
"#;

/// One HTTP answer, decoded.
#[derive(Debug)]
pub struct Reply {
    status: u16,
    error_type: Option<String>,
    request_id: Option<String>,
    body: Value,
}

impl Reply {
    /// `__type` of an error body (None on success).
    fn code(&self) -> Option<&str> {
        self.body.get("__type").and_then(Value::as_str)
    }
    fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or("")
    }
    fn ok(&self) -> &Self {
        assert_eq!(self.status, 200, "{self:?}");
        self
    }
    fn err(&self, status: u16, code: &str) -> &Self {
        assert_eq!((self.status, self.code()), (status, Some(code)), "{self:?}");
        assert_eq!(self.error_type.as_deref(), Some(code), "X-Amzn-Errortype");
        self
    }
}

struct Harness {
    catalog: LocalCatalog,
    http: Client<HttpConnector, Full<Bytes>>,
}

impl Harness {
    async fn start(config: CatalogConfig) -> Harness {
        let catalog = LocalCatalog::start(config, SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("catalog starts");
        let http = Client::builder(TokioExecutor::new()).build_http();
        Harness { catalog, http }
    }

    async fn seeded(seed: &str) -> Harness {
        Self::start(CatalogConfig::new(Seed::from_yaml_str(seed).expect("seed"))).await
    }

    /// A request with chosen headers; `None` values leave a header out.
    async fn raw(&self, auth: Option<&str>, target: Option<&str>, body: &str) -> Reply {
        let mut req = hyper::Request::post(format!("{}/", self.catalog.endpoint()))
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-date", "20260101T000000Z");
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        if let Some(t) = target {
            req = req.header("x-amz-target", format!("AWS242ServiceCatalogService.{t}"));
        }
        let req = req
            .body(Full::new(Bytes::from(body.to_string())))
            .expect("request");
        let resp = self.http.request(req).await.expect("http");
        let status = resp.status().as_u16();
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (error_type, request_id) = (header("x-amzn-errortype"), header("x-amzn-requestid"));
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            error_type,
            request_id,
            body,
        }
    }

    async fn call(&self, op: &str, body: Value) -> Reply {
        let reply = self.raw(Some(AUTH), Some(op), &body.to_string()).await;
        assert!(reply.request_id.is_some(), "every answer has a request id");
        if let Some(code) = reply.code() {
            // Whatever goes wrong, the code is one the model declares for the operation or one
            // any AWS service may answer. (DescribeServiceAction declares only ResourceNotFound,
            // yet model validation still fails it with InvalidParameters.)
            let common = [
                "ThrottlingException",
                "InternalFailure",
                "SerializationException",
                "InvalidParametersException",
                "ExpiredTokenException",
                "UnrecognizedClientException",
            ];
            assert!(
                model()
                    .expect("model")
                    .errors_of(op)
                    .iter()
                    .any(|e| e == code)
                    || common.contains(&code),
                "{op} answered {code}, outside the model"
            );
        }
        reply
    }

    async fn get(&self, path: &str) -> Value {
        let uri = format!("{}{path}", self.catalog.endpoint());
        let resp = self
            .http
            .get(uri.parse().expect("uri"))
            .await
            .expect("http");
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        serde_json::from_slice(&bytes).expect("json")
    }
}

fn triple_body(p: &str, a: &str, s: &str) -> Value {
    json!({"ProductId": p, "ProvisioningArtifactId": a, "ServiceActionId": s})
}

fn with_token(mut body: Value, token: &str) -> Value {
    body["IdempotencyToken"] = json!(token);
    body
}

fn ids(list: &Value, key: &str) -> Vec<String> {
    list[key]
        .as_array()
        .expect("list")
        .iter()
        .map(|i| i["Id"].as_str().unwrap_or("").to_string())
        .collect()
}

/// A catalog with `products` products of one artifact each and `actions` actions.
fn big_seed(products: usize, actions: usize) -> Seed {
    let mut seed = Seed::default();
    for p in 0..products {
        seed.add_product(
            format!("prod-{p:03}"),
            format!("Product {p:03}"),
            [(format!("pa-{p:03}"), "v1")],
        );
    }
    for a in 0..actions {
        seed.add_action(format!("act-{a:03}"), format!("Action{a:03}"));
    }
    seed
}

/// Follows NextPageToken to the end; returns the ids seen and the tokens handed out.
async fn all_pages(
    h: &Harness,
    op: &str,
    mut body: Value,
    key: &str,
    id_of: fn(&Value) -> String,
) -> (Vec<String>, Vec<String>) {
    let (mut seen, mut tokens) = (Vec::new(), Vec::new());
    loop {
        let reply = h.call(op, body.clone()).await;
        reply.ok();
        seen.extend(reply.body[key].as_array().expect("page").iter().map(id_of));
        match reply.body.get("NextPageToken").and_then(Value::as_str) {
            Some(t) => {
                tokens.push(t.to_string());
                body["PageToken"] = json!(t);
            }
            None => return (seen, tokens),
        }
    }
}
