//! What both wire protocols share: the operations, the errors and protocol-neutral
//! answers, building the response in the request's protocol (the bodies come from [`super::json`]
//! and [`super::cbor`]), the request-id header on every response, and the SigV4 `Authorization`
//! checks AWS performs before it looks at a request (presence and shape only; signatures are not
//! verified), which are the same whichever protocol carries the request.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};

/// The model's `targetPrefix`: the `X-Amz-Target` prefix over JSON and the service name in
/// RPC v2 CBOR paths.
pub const TARGET_PREFIX: &str = "AWS242ServiceCatalogService";

/// The operations the local catalog serves: the API's, listed once for the client and the
/// stand-in alike.
pub use crate::seam::Operation as Op;

/// An error answer: HTTP status, `__type` and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl ServiceError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ServiceError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn invalid_parameters(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidParametersException", message)
    }
    /// A request that breaks the model's constraints (see [`super::validate`]).
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(400, "ValidationException", message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(400, "ResourceNotFoundException", message)
    }
    pub fn duplicate(message: impl Into<String>) -> Self {
        Self::new(400, "DuplicateResourceException", message)
    }
    pub fn limit_exceeded(message: impl Into<String>) -> Self {
        Self::new(400, "LimitExceededException", message)
    }
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new(400, "SerializationException", message)
    }
    pub fn unknown_operation(message: impl Into<String>) -> Self {
        Self::new(400, "UnknownOperationException", message)
    }
    pub fn throttling() -> Self {
        Self::new(400, "ThrottlingException", "Rate exceeded")
    }
    pub fn internal_failure() -> Self {
        Self::new(
            500,
            "InternalFailure",
            "The request processing has failed because of an unknown error, exception or failure.",
        )
    }
}

/// A finished answer, kept protocol-neutral so idempotency memory can replay it over whichever
/// protocol the replaying request speaks.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// HTTP 200 with the operation's output.
    Ok(Value),
    Err(ServiceError),
}

impl Answer {
    pub fn ok(body: Value) -> Self {
        Answer::Ok(body)
    }

    pub fn error(e: &ServiceError) -> Self {
        Answer::Err(e.clone())
    }

    pub fn status(&self) -> u16 {
        match self {
            Answer::Ok(_) => 200,
            Answer::Err(e) => e.status,
        }
    }
}

impl From<ServiceError> for Answer {
    fn from(e: ServiceError) -> Self {
        Answer::Err(e)
    }
}

/// Which of Service Catalog's two wire protocols a request speaks; its answer speaks the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// AWS JSON 1.1: `POST /` with `X-Amz-Target` (see [`super::json`]).
    Json,
    /// Smithy RPC v2 CBOR: `POST /service/{service}/operation/{operation}` (see [`super::cbor`]).
    Cbor,
}

impl Protocol {
    /// Told apart by the path alone, as AWS's endpoint does: only RPC v2 puts the operation there.
    pub fn of_path(path: &str) -> Protocol {
        if super::cbor::route(path).is_some() {
            Protocol::Cbor
        } else {
            Protocol::Json
        }
    }
}

/// A request that names no operation this server performs. `named` is the operation it was
/// addressed to when the addressing was right but something else was not, so it still counts
/// as a call of that operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Misrouted {
    pub named: Option<Op>,
    pub error: ServiceError,
}

/// Builds the HTTP response of an answer in `protocol`, with AWS's request-id header.
pub fn respond(protocol: Protocol, op: Option<Op>, answer: &Answer, request_id: &str) -> Response {
    let (content_type, body) = match protocol {
        Protocol::Json => (super::json::CONTENT_TYPE, super::json::encode(answer)),
        Protocol::Cbor => {
            let model = super::validate::model().ok();
            (
                super::cbor::CONTENT_TYPE,
                super::cbor::encode(model, op, answer),
            )
        }
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(answer.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", v);
    }
    match (protocol, answer) {
        (Protocol::Json, Answer::Err(e)) => {
            headers.insert("X-Amzn-Errortype", HeaderValue::from_static(e.code));
        }
        // RPC v2 carries the error type only in the body, and every answer names the protocol.
        (Protocol::Cbor, _) => {
            headers.insert(
                super::cbor::PROTOCOL_HEADER,
                HeaderValue::from_static(super::cbor::PROTOCOL_VALUE),
            );
        }
        _ => {}
    }
    response
}

/// Unique request ids shaped like AWS's (UUID text): a per-process random prefix plus a counter.
#[derive(Debug)]
pub struct RequestIds {
    prefix: u64,
    counter: AtomicU64,
}

impl RequestIds {
    pub fn new() -> Self {
        // Time and address entropy keep ids of two servers in one test apart; uniqueness within
        // one server comes from the counter.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let local = 0u8;
        let addr = &local as *const u8 as u64;
        let mut mix = super::faults::SplitMix64::new(nanos ^ addr.rotate_left(32));
        RequestIds {
            prefix: mix.next_u64(),
            counter: AtomicU64::new(0),
        }
    }

    pub fn next(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let p = self.prefix;
        format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            (p >> 32) as u32,
            (p >> 16) as u16,
            (p & 0xfff) as u16,
            ((n >> 48) & 0xfff) as u16,
            n & 0xffff_ffff_ffff
        )
    }
}

impl Default for RequestIds {
    fn default() -> Self {
        Self::new()
    }
}

/// The caller a well-formed `Authorization` header names, and its credential scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub access_key_id: String,
    /// The scope's region: which regional catalog the request is for.
    pub region: String,
    /// The scope's service (`servicecatalog`, `sts`).
    pub service: String,
    /// `X-Amz-Security-Token`, which temporary credentials must carry.
    pub security_token: Option<String>,
}

/// Reads the credential scope's service without judging the header: how a request that
/// carries no `X-Amz-Target` is told to be meant for STS.
pub fn scope_service(headers: &HeaderMap) -> Option<String> {
    let text = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let credential = text
        .strip_prefix("AWS4-HMAC-SHA256 ")?
        .split(',')
        .find_map(|p| p.trim().strip_prefix("Credential="))?;
    credential.split('/').nth(3).map(str::to_string)
}

/// Checks the SigV4 header as AWS's front end does before dispatch: present, of the form
/// `AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=...,
/// Signature=...`, and with an `X-Amz-Date` (or `Date`) header beside it. Which service the
/// scope must name is each protocol's check ([`check_service`] for Service Catalog).
pub fn check_auth(headers: &HeaderMap) -> Result<Caller, ServiceError> {
    let Some(raw) = headers.get(header::AUTHORIZATION) else {
        return Err(ServiceError::new(
            400,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    let incomplete = |why: &str| {
        ServiceError::new(
            400,
            "IncompleteSignatureException",
            format!(
                "{why} Authorization={}",
                raw.to_str().unwrap_or("<non-ascii>")
            ),
        )
    };
    let text = raw
        .to_str()
        .map_err(|_| incomplete("Authorization header is not ASCII."))?;
    let Some(params) = text.strip_prefix("AWS4-HMAC-SHA256 ") else {
        return Err(incomplete(
            "Authorization header requires the AWS4-HMAC-SHA256 algorithm.",
        ));
    };
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in params.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else {
            continue;
        };
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed_headers = Some(v),
            "Signature" => signature = Some(v),
            _ => {}
        }
    }
    let mut missing = String::new();
    for (name, value) in [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed_headers),
    ] {
        if value.is_none_or(str::is_empty) {
            missing.push_str(&format!(
                "Authorization header requires '{name}' parameter. "
            ));
        }
    }
    if headers.get("x-amz-date").is_none() && headers.get(header::DATE).is_none() {
        missing.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    if !missing.is_empty() {
        return Err(incomplete(missing.trim_end()));
    }
    let credential = credential.unwrap_or_default();
    let scope: Vec<&str> = credential.split('/').collect();
    if scope.len() != 5 || scope.iter().any(|s| s.is_empty()) || scope[4] != "aws4_request" {
        return Err(incomplete(&format!(
            "Credential should be scoped to a valid region, not '{credential}'."
        )));
    }
    Ok(Caller {
        access_key_id: scope[0].to_string(),
        region: scope[2].to_string(),
        service: scope[3].to_string(),
        security_token: headers
            .get("x-amz-security-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    })
}

/// Service Catalog's own check of the scope's service.
pub fn check_service(caller: &Caller) -> Result<(), ServiceError> {
    if caller.service != "servicecatalog" {
        return Err(ServiceError::new(
            403,
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'servicecatalog'. ",
        ));
    }
    Ok(())
}

/// `UnrecognizedClientException`: an unknown access key, a temporary key without its own
/// session token, or a region not enabled for the account (AWS's JSON services answer all
/// three alike: to them the credentials are simply not valid there).
pub fn unrecognized_client() -> ServiceError {
    ServiceError::new(
        400,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )
}

pub fn expired_token() -> ServiceError {
    ServiceError::new(
        400,
        "ExpiredTokenException",
        "The security token included in the request is expired",
    )
}

/// Credential knobs: access keys that AWS would refuse after parsing the signature.
pub fn check_access_key(
    caller: &Caller,
    expired: &[String],
    unrecognized: &[String],
) -> Result<(), ServiceError> {
    if expired.contains(&caller.access_key_id) {
        return Err(expired_token());
    }
    if unrecognized.contains(&caller.access_key_id) {
        return Err(unrecognized_client());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(auth).expect("ascii"),
        );
        h.insert("x-amz-date", HeaderValue::from_static("20260101T000000Z"));
        h
    }

    #[test]
    fn a_well_formed_header_names_the_caller() {
        let h = headers(
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/servicecatalog/aws4_request, SignedHeaders=host, Signature=abc",
        );
        assert_eq!(check_auth(&h).map(|c| c.access_key_id), Ok("AKID".into()));
    }

    #[test]
    fn malformed_headers_are_incomplete_signatures() {
        for bad in [
            "Basic abc",
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/servicecatalog/aws4_request",
            "AWS4-HMAC-SHA256 Credential=AKID, SignedHeaders=host, Signature=abc",
        ] {
            let e = check_auth(&headers(bad)).expect_err(bad);
            assert_eq!(e.code, "IncompleteSignatureException", "{bad}");
        }
    }

    #[test]
    fn request_ids_are_unique() {
        let ids = RequestIds::new();
        let a = ids.next();
        assert_ne!(a, ids.next());
        assert_eq!(a.len(), 36);
    }
}
