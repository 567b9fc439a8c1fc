//! The local catalog, over raw HTTP: validation and semantics operation by operation, paging,
//! idempotency-token replay, authentication, and the fault knobs, over both wire protocols (AWS
//! JSON 1.1 and Smithy RPC v2 CBOR). Requests are built by hand (no SDK) so these tests pin the
//! wire contract itself. This file holds the harness; the tests are grouped in the submodules
//! below.

mod accounts;
mod actions;
mod cbor;
mod lag;
mod organizations;
mod paging_and_tokens;
mod protocol_and_faults;
mod seed_forms;
mod semantics;
mod sts;
mod validation;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sc_assoc::local::{CatalogConfig, Faults, LocalCatalog, Seed, SeedFile};
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

/// Which wire protocol a request speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    Json,
    Cbor,
}

/// One HTTP answer, decoded. A CBOR body is decoded into the JSON value it stands for (tag 1
/// timestamps become their epoch seconds), so assertions read the same for both protocols.
#[derive(Debug)]
pub struct Reply {
    status: u16,
    error_type: Option<String>,
    request_id: Option<String>,
    content_type: Option<String>,
    smithy_protocol: Option<String>,
    body: Value,
    /// The body as sent, for the tests that look at the encoding itself.
    raw: Vec<u8>,
}

impl Reply {
    /// `__type` of an error body (None on success), without a `namespace#` prefix: clients read
    /// it that way, and RPC v2 CBOR sends absolute shape ids.
    fn code(&self) -> Option<&str> {
        let t = self.body.get("__type").and_then(Value::as_str)?;
        Some(t.rsplit('#').next().unwrap_or(t))
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
        if self.smithy_protocol.is_none() {
            assert_eq!(self.error_type.as_deref(), Some(code), "X-Amzn-Errortype");
        } else {
            // RPC v2 CBOR carries the type in the body only.
            assert_eq!(self.error_type, None, "no X-Amzn-Errortype over CBOR");
        }
        self
    }
}

/// CBOR item → the JSON value it stands for; tag 1 (epoch seconds) becomes its number.
fn cbor_to_json(item: &ciborium::Value) -> Value {
    use ciborium::Value as C;
    match item {
        C::Integer(i) => i64::try_from(i128::from(*i)).map_or(Value::Null, Value::from),
        C::Float(f) => json!(f),
        C::Text(t) => json!(t),
        C::Bool(b) => json!(b),
        C::Tag(1, inner) => cbor_to_json(inner),
        C::Array(items) => Value::Array(items.iter().map(cbor_to_json).collect()),
        C::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.as_text().unwrap_or("?").to_string(), cbor_to_json(v)))
                .collect(),
        ),
        other => panic!("unexpected CBOR item in an answer: {other:?}"),
    }
}

/// JSON request body → CBOR bytes (inputs hold no timestamps or blobs).
fn json_to_cbor(v: &Value) -> Vec<u8> {
    fn item(v: &Value) -> ciborium::Value {
        use ciborium::Value as C;
        match v {
            Value::Null => C::Null,
            Value::Bool(b) => C::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => C::Integer(i.into()),
                None => C::Float(n.as_f64().unwrap_or(0.0)),
            },
            Value::String(s) => C::Text(s.clone()),
            Value::Array(a) => C::Array(a.iter().map(item).collect()),
            Value::Object(o) => C::Map(
                o.iter()
                    .map(|(k, v)| (C::Text(k.clone()), item(v)))
                    .collect(),
            ),
        }
    }
    let mut out = Vec::new();
    ciborium::ser::into_writer(&item(v), &mut out).expect("encode");
    out
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
        self.send(req).await
    }

    /// An RPC v2 CBOR request to `path` with the protocol's headers, then `extra` headers
    /// (an empty value removes a header).
    async fn raw_cbor(&self, path: &str, extra: &[(&str, &str)], body: Vec<u8>) -> Reply {
        let mut headers = vec![
            ("authorization", AUTH),
            ("x-amz-date", "20260101T000000Z"),
            ("smithy-protocol", "rpc-v2-cbor"),
            ("content-type", "application/cbor"),
            ("accept", "application/cbor"),
        ];
        for (name, value) in extra {
            headers.retain(|(n, _)| n != name);
            if !value.is_empty() {
                headers.push((name, value));
            }
        }
        let mut req = hyper::Request::post(format!("{}{path}", self.catalog.endpoint()));
        for (name, value) in headers {
            req = req.header(name, value);
        }
        self.send(req.body(Full::new(Bytes::from(body))).expect("request"))
            .await
    }

    async fn send(&self, req: hyper::Request<Full<Bytes>>) -> Reply {
        let resp = self.http.request(req).await.expect("http");
        let status = resp.status().as_u16();
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (error_type, request_id) = (header("x-amzn-errortype"), header("x-amzn-requestid"));
        let (content_type, smithy_protocol) = (header("content-type"), header("smithy-protocol"));
        let raw = resp
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        let body = if content_type.as_deref() == Some("application/cbor") {
            let item: ciborium::Value =
                ciborium::de::from_reader(raw.as_slice()).expect("a CBOR answer decodes");
            cbor_to_json(&item)
        } else {
            serde_json::from_slice(&raw).unwrap_or(Value::Null)
        };
        Reply {
            status,
            error_type,
            request_id,
            content_type,
            smithy_protocol,
            body,
            raw,
        }
    }

    async fn call(&self, op: &str, body: Value) -> Reply {
        self.call_over(Wire::Json, op, body).await
    }

    /// A signed call of `op` in either protocol, checked for what every answer must have.
    async fn call_over(&self, wire: Wire, op: &str, body: Value) -> Reply {
        let reply = match wire {
            Wire::Json => self.raw(Some(AUTH), Some(op), &body.to_string()).await,
            Wire::Cbor => {
                let path = format!("/service/AWS242ServiceCatalogService/operation/{op}");
                let reply = self.raw_cbor(&path, &[], json_to_cbor(&body)).await;
                assert_eq!(reply.smithy_protocol.as_deref(), Some("rpc-v2-cbor"));
                assert_eq!(reply.content_type.as_deref(), Some("application/cbor"));
                reply
            }
        };
        assert!(reply.request_id.is_some(), "every answer has a request id");
        if let Some(code) = reply.code() {
            // Whatever goes wrong, the code is one the model declares for the operation or one
            // any AWS service may answer. (No operation declares ValidationException, yet AWS
            // answers every constraint failure with it.)
            let common = [
                "ValidationException",
                "ThrottlingException",
                "InternalFailure",
                "SerializationException",
                "InvalidParametersException",
                "ExpiredTokenException",
                "UnrecognizedClientException",
            ];
            assert!(
                sc_assoc::local::declared_errors(op)
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
