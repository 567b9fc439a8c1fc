//! AWS JSON 1.1, the protocol every AWS SDK has spoken to Service Catalog so far: the operation
//! named by `X-Amz-Target: AWS242ServiceCatalogService.<Operation>` on `POST /`, JSON bodies,
//! and errors as `{"__type": "<Name>", "message": "..."}` (plus the `X-Amzn-Errortype` header,
//! which [`super::wire::respond`] adds). Only what differs from RPC v2 CBOR lives here.

use super::wire::{Answer, Misrouted, Op, ServiceError, TARGET_PREFIX};
use axum::http::HeaderMap;
use serde_json::Value;

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// Resolves `X-Amz-Target` to an operation.
pub fn operation(headers: &HeaderMap) -> Result<Op, Misrouted> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    target
        .strip_prefix(TARGET_PREFIX)
        .and_then(|rest| rest.strip_prefix('.'))
        .and_then(Op::from_name)
        .ok_or_else(|| Misrouted {
            named: None,
            error: ServiceError::unknown_operation(if target.is_empty() {
                "Missing X-Amz-Target header".to_string()
            } else {
                format!("Operation {target} is not supported by this service")
            }),
        })
}

/// Reads the body as a JSON object. An empty body counts as `{}`; anything that is not a JSON
/// object is a `SerializationException`, as AWS answers it.
pub fn decode(bytes: &[u8]) -> Result<Value, ServiceError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ServiceError::serialization(format!("Malformed JSON request body: {e}")))?;
    if !value.is_object() {
        return Err(ServiceError::serialization(
            "Start of structure or map expected at the top of the request body",
        ));
    }
    Ok(value)
}

/// The JSON body of an answer. Error types are the bare shape name, as Service Catalog sends
/// them; clients also accept `namespace#Name`.
pub fn encode(answer: &Answer) -> Vec<u8> {
    let value = match answer {
        Answer::Ok(v) => v.clone(),
        Answer::Err(e) => serde_json::json!({"__type": e.code, "message": e.message}),
    };
    value.to_string().into_bytes()
}
