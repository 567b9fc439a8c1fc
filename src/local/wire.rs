//! The AWS JSON 1.1 wire protocol as Service Catalog speaks it: the twelve operation names behind
//! `X-Amz-Target`, the error envelope (`{"__type", "message"}` plus `X-Amzn-Errortype`), the
//! request-id header on every response, and the SigV4 `Authorization` checks AWS performs before
//! it looks at a request (presence and shape only; signatures are not verified).

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use std::sync::atomic::{AtomicU64, Ordering};

/// `X-Amz-Target` prefix, the model's `targetPrefix`.
pub const TARGET_PREFIX: &str = "AWS242ServiceCatalogService";
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The operations the local catalog serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Associate,
    Disassociate,
    BatchAssociate,
    BatchDisassociate,
    ListActionsForArtifact,
    ListArtifactsForAction,
    ListServiceActions,
    DescribeServiceAction,
    DescribeProvisioningArtifact,
    DescribeProductAsAdmin,
    SearchProductsAsAdmin,
    ListProvisioningArtifacts,
}

impl Op {
    pub const ALL: [Op; 12] = [
        Op::Associate,
        Op::Disassociate,
        Op::BatchAssociate,
        Op::BatchDisassociate,
        Op::ListActionsForArtifact,
        Op::ListArtifactsForAction,
        Op::ListServiceActions,
        Op::DescribeServiceAction,
        Op::DescribeProvisioningArtifact,
        Op::DescribeProductAsAdmin,
        Op::SearchProductsAsAdmin,
        Op::ListProvisioningArtifacts,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::Associate => "AssociateServiceActionWithProvisioningArtifact",
            Op::Disassociate => "DisassociateServiceActionFromProvisioningArtifact",
            Op::BatchAssociate => "BatchAssociateServiceActionWithProvisioningArtifact",
            Op::BatchDisassociate => "BatchDisassociateServiceActionFromProvisioningArtifact",
            Op::ListActionsForArtifact => "ListServiceActionsForProvisioningArtifact",
            Op::ListArtifactsForAction => "ListProvisioningArtifactsForServiceAction",
            Op::ListServiceActions => "ListServiceActions",
            Op::DescribeServiceAction => "DescribeServiceAction",
            Op::DescribeProvisioningArtifact => "DescribeProvisioningArtifact",
            Op::DescribeProductAsAdmin => "DescribeProductAsAdmin",
            Op::SearchProductsAsAdmin => "SearchProductsAsAdmin",
            Op::ListProvisioningArtifacts => "ListProvisioningArtifacts",
        }
    }

    pub fn index(self) -> usize {
        Op::ALL.iter().position(|o| *o == self).unwrap_or(0)
    }

    pub fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|o| o.name() == name)
    }

    /// Operations that change state, the only ones a lost reply applies to.
    pub fn is_write(self) -> bool {
        matches!(
            self,
            Op::Associate | Op::Disassociate | Op::BatchAssociate | Op::BatchDisassociate
        )
    }
}

/// An error answer: HTTP status, `__type` and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn invalid_parameters(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidParametersException", message)
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

/// A finished answer, kept as status plus JSON text so idempotency memory can replay it byte for
/// byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// `Some` for errors: the `__type`, also sent as `X-Amzn-Errortype`.
    pub error_type: Option<&'static str>,
    pub body: String,
}

impl Answer {
    pub fn ok(body: serde_json::Value) -> Self {
        Answer {
            status: 200,
            error_type: None,
            body: body.to_string(),
        }
    }

    pub fn error(e: &ApiError) -> Self {
        Answer {
            status: e.status,
            error_type: Some(e.code),
            body: serde_json::json!({"__type": e.code, "message": e.message}).to_string(),
        }
    }

    pub fn is_success(&self) -> bool {
        self.status == 200
    }

    pub fn into_response(self, request_id: &str) -> Response {
        let mut response = Response::new(Body::from(self.body));
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Ok(v) = HeaderValue::from_str(request_id) {
            headers.insert("x-amzn-RequestId", v);
        }
        if let Some(t) = self.error_type {
            headers.insert("X-Amzn-Errortype", HeaderValue::from_static(t));
        }
        response
    }
}

impl From<ApiError> for Answer {
    fn from(e: ApiError) -> Self {
        Answer::error(&e)
    }
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

/// The caller a well-formed `Authorization` header names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub access_key_id: String,
}

/// Checks the SigV4 header as AWS's front end does before dispatch: present, of the form
/// `AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/servicecatalog/aws4_request,
/// SignedHeaders=..., Signature=...`, and with an `X-Amz-Date` (or `Date`) header beside it.
pub fn check_auth(headers: &HeaderMap) -> Result<Caller, ApiError> {
    let Some(raw) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::new(
            400,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    let incomplete = |why: &str| {
        ApiError::new(
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
    if scope[3] != "servicecatalog" {
        return Err(ApiError::new(
            403,
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'servicecatalog'. ",
        ));
    }
    Ok(Caller {
        access_key_id: scope[0].to_string(),
    })
}

/// Credential knobs: access keys that AWS would refuse after parsing the signature.
pub fn check_access_key(
    caller: &Caller,
    expired: &[String],
    unrecognized: &[String],
) -> Result<(), ApiError> {
    if expired.contains(&caller.access_key_id) {
        return Err(ApiError::new(
            400,
            "ExpiredTokenException",
            "The security token included in the request is expired",
        ));
    }
    if unrecognized.contains(&caller.access_key_id) {
        return Err(ApiError::new(
            400,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ));
    }
    Ok(())
}

/// Resolves `X-Amz-Target` to an operation.
pub fn operation(headers: &HeaderMap) -> Result<Op, ApiError> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    target
        .strip_prefix(TARGET_PREFIX)
        .and_then(|rest| rest.strip_prefix('.'))
        .and_then(Op::from_name)
        .ok_or_else(|| {
            ApiError::unknown_operation(if target.is_empty() {
                "Missing X-Amz-Target header".to_string()
            } else {
                format!("Operation {target} is not supported by this service")
            })
        })
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
