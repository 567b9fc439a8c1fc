//! Smithy RPC v2 CBOR, Service Catalog's second wire protocol (the newest model lists
//! `protocols: ["smithy-rpc-v2-cbor", "json"]`, and smithy-rs clients pick CBOR first when a
//! service offers it). This module owns what differs from AWS JSON 1.1 and nothing else:
//! - routing: `POST {prefix?}/service/AWS242ServiceCatalogService/operation/{Operation}` with
//!   `smithy-protocol: rpc-v2-cbor`, no `X-Amz-Target`, `Content-Type`/`Accept`
//!   `application/cbor`;
//! - decoding a CBOR request body into the same JSON value the JSON protocol produces, guided by
//!   the model's input shape, so validation, state, paging and faults are shared, not copied;
//! - encoding answers along the output shape (timestamps as tag 1 epoch seconds, null members
//!   omitted) and errors as a CBOR map of `__type` (an absolute shape id) and `message`.
//!
//! The rules are those of smithy.io's "Smithy RPC v2 CBOR protocol" specification. Where it
//! leaves the server free, the choices of the smithy-rs server are followed: routing failures
//! answer `UnknownOperationException` with HTTP 404, a wrong `Content-Type` 415, a wrong
//! `Accept` 406. Nothing here panics on any input: every malformed body is a
//! `SerializationException`.

use super::validate::{Model, target_of};
use super::wire::{Answer, Misrouted, Op, ServiceError, TARGET_PREFIX};
use axum::http::{HeaderMap, Method, header};
use ciborium::Value as Cbor;
use serde_json::{Map, Number, Value};

pub const CONTENT_TYPE: &str = "application/cbor";
pub const PROTOCOL_HEADER: &str = "smithy-protocol";
pub const PROTOCOL_VALUE: &str = "rpc-v2-cbor";
/// The Smithy namespace of Service Catalog's shapes, for the errors its model declares.
const NAMESPACE: &str = "com.amazonaws.servicecatalog";
/// CBOR tag 1: epoch-based date/time, how the protocol carries timestamps.
const EPOCH_TAG: u64 = 1;
/// Nesting the decoder follows; Service Catalog's inputs nest four levels, so anything deeper is
/// refused before it can cost stack.
const MAX_DEPTH: usize = 32;

/// The `{service}` and `{operation}` of an RPC v2 path: only the last four segments count, so a
/// prefix such as `/v1` does not matter. `None` if the path is not of that form at all.
pub fn route(path: &str) -> Option<(&str, &str)> {
    let mut rev = path.trim_end_matches('/').rsplit('/');
    let operation = rev.next()?;
    if rev.next()? != "operation" {
        return None;
    }
    let service = rev.next()?;
    if rev.next()? != "service" {
        return None;
    }
    Some((service, operation))
}

/// Resolves an RPC v2 CBOR request to an operation, checking what the specification requires
/// of the request line and headers.
pub fn operation(method: &Method, path: &str, headers: &HeaderMap) -> Result<Op, Misrouted> {
    let unknown = |named: Option<Op>, why: String| Misrouted {
        named,
        error: ServiceError::new(404, "UnknownOperationException", why),
    };
    let Some((service, operation)) = route(path) else {
        return Err(unknown(None, format!("No operation at {path}")));
    };
    // Servers should also accept the absolute service id with `#` written as `.`.
    let service_ok = service == TARGET_PREFIX
        || service
            .strip_suffix(TARGET_PREFIX)
            .is_some_and(|ns| ns == format!("{NAMESPACE}."));
    let named = if service_ok {
        Op::from_name(operation)
    } else {
        None
    };
    let Some(op) = named else {
        return Err(unknown(
            None,
            format!("Operation {service}/{operation} is not supported by this service"),
        ));
    };
    if method != Method::POST {
        return Err(Misrouted {
            named,
            error: ServiceError::new(405, "MethodNotAllowedException", "RPC v2 requests use POST"),
        });
    }
    let text = |name: &str| headers.get(name).map(|v| v.to_str().unwrap_or("\u{fffd}"));
    if text(PROTOCOL_HEADER) != Some(PROTOCOL_VALUE) {
        return Err(unknown(
            named,
            format!("An RPC v2 CBOR request needs the header {PROTOCOL_HEADER}: {PROTOCOL_VALUE}"),
        ));
    }
    // The specification makes these headers a reason to refuse, for security.
    if headers.contains_key("x-amz-target") || headers.contains_key("x-amzn-target") {
        return Err(unknown(
            named,
            "An RPC v2 CBOR request must not carry X-Amz-Target".to_string(),
        ));
    }
    let media = |v: &str| {
        v.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    };
    if let Some(ct) = text(header::CONTENT_TYPE.as_str())
        && media(ct) != CONTENT_TYPE
    {
        return Err(Misrouted {
            named,
            error: ServiceError::new(
                415,
                "UnsupportedMediaTypeException",
                format!("Content-Type {ct} is not {CONTENT_TYPE}"),
            ),
        });
    }
    if let Some(accept) = text(header::ACCEPT.as_str())
        && !accept
            .split(',')
            .map(media)
            .any(|m| m == CONTENT_TYPE || m == "*/*" || m == "application/*")
    {
        return Err(Misrouted {
            named,
            error: ServiceError::new(
                406,
                "NotAcceptableException",
                format!("Accept {accept} does not admit {CONTENT_TYPE}"),
            ),
        });
    }
    Ok(op)
}

/// Decodes a request body into the JSON value of the operation's input, as the JSON protocol
/// would have delivered it. An empty body is an empty input structure.
pub fn decode(model: &Model, op: Op, bytes: &[u8]) -> Result<Value, ServiceError> {
    if bytes.is_empty() {
        return Ok(Value::Object(Map::new()));
    }
    let mut rest = bytes;
    let item: Cbor = ciborium::de::from_reader_with_recursion_limit(&mut rest, MAX_DEPTH)
        .map_err(|e| ServiceError::serialization(format!("Malformed CBOR request body: {e}")))?;
    if !rest.is_empty() {
        return Err(ServiceError::serialization(format!(
            "{} bytes follow the CBOR data item of the request body",
            rest.len()
        )));
    }
    if !matches!(item, Cbor::Map(_)) {
        return Err(ServiceError::serialization(
            "Start of structure or map expected at the top of the request body",
        ));
    }
    let shape = model.input_shape(op.name()).ok_or_else(|| {
        ServiceError::unknown_operation(format!("no input shape for {}", op.name()))
    })?;
    Decoder { model }.value(shape, item, "")
}

/// Walks a CBOR item along a model shape. Members the shape does not know are dropped, as AWS
/// ignores them; a value of the wrong CBOR type is a `SerializationException`, as over JSON.
struct Decoder<'m> {
    model: &'m Model,
}

impl Decoder<'_> {
    fn value(&self, shape_name: &str, item: Cbor, path: &str) -> Result<Value, ServiceError> {
        if matches!(item, Cbor::Null) {
            // `null` and `undefined` (which ciborium reads as null) both mean absent.
            return Ok(Value::Null);
        }
        let shape = self
            .model
            .shape(shape_name)
            .ok_or_else(|| ServiceError::serialization(format!("unknown shape {shape_name}")))?;
        let kind = shape.get("type").and_then(Value::as_str).unwrap_or("");
        let wrong = |expected: &str, item: &Cbor| {
            let at = if path.is_empty() {
                "the request body"
            } else {
                path
            };
            ServiceError::serialization(format!(
                "Expected {expected} at '{at}', found {}",
                cbor_kind(item)
            ))
        };
        Ok(match (kind, item) {
            ("structure", Cbor::Map(entries)) => {
                let members = shape.get("members").and_then(Value::as_object);
                let mut out = Map::new();
                for (key, v) in entries {
                    let Cbor::Text(name) = key else {
                        return Err(wrong("a text key", &key));
                    };
                    let Some(target) = members
                        .and_then(|m| m.get(&name))
                        .and_then(|m| m.get("shape"))
                        .and_then(Value::as_str)
                    else {
                        continue;
                    };
                    let at = join(path, &name);
                    out.insert(name, self.value(target, v, &at)?);
                }
                Value::Object(out)
            }
            ("string", Cbor::Text(s)) => Value::String(s),
            ("integer" | "long", Cbor::Integer(i)) => {
                let n = i64::try_from(i128::from(i)).map_err(|_| {
                    ServiceError::serialization(format!("Integer out of range at '{path}'"))
                })?;
                Value::Number(n.into())
            }
            ("boolean", Cbor::Bool(b)) => Value::Bool(b),
            ("timestamp", Cbor::Tag(EPOCH_TAG, inner)) => match *inner {
                Cbor::Integer(i) => i64::try_from(i128::from(i))
                    .map(|n| Value::Number(n.into()))
                    .map_err(|_| {
                        ServiceError::serialization(format!("Timestamp out of range at '{path}'"))
                    })?,
                Cbor::Float(f) => Number::from_f64(f).map(Value::Number).ok_or_else(|| {
                    ServiceError::serialization(format!("Timestamp is not finite at '{path}'"))
                })?,
                other => return Err(wrong("epoch seconds", &other)),
            },
            ("list", Cbor::Array(items)) => {
                let member = target_of(shape, "member");
                let mut out = Vec::with_capacity(items.len());
                for (i, v) in items.into_iter().enumerate() {
                    out.push(self.value(member, v, &format!("{path}.{}.member", i + 1))?);
                }
                Value::Array(out)
            }
            ("map", Cbor::Map(entries)) => {
                let value_shape = target_of(shape, "value");
                let mut out = Map::new();
                for (key, v) in entries {
                    let Cbor::Text(k) = key else {
                        return Err(wrong("a text key", &key));
                    };
                    let at = format!("{path}.{k}");
                    out.insert(k, self.value(value_shape, v, &at)?);
                }
                Value::Object(out)
            }
            ("structure" | "map", other) => return Err(wrong("a map", &other)),
            ("string", other) => return Err(wrong("a text string", &other)),
            ("integer" | "long", other) => return Err(wrong("an integer", &other)),
            ("boolean", other) => return Err(wrong("a boolean", &other)),
            ("timestamp", other) => return Err(wrong("a tag 1 timestamp", &other)),
            ("list", other) => return Err(wrong("an array", &other)),
            (_, other) => return Err(wrong(&format!("a {kind}"), &other)),
        })
    }
}

fn join(path: &str, member: &str) -> String {
    if path.is_empty() {
        member.to_string()
    } else {
        format!("{path}.{member}")
    }
}

fn cbor_kind(item: &Cbor) -> &'static str {
    match item {
        Cbor::Integer(_) => "an integer",
        Cbor::Bytes(_) => "a byte string",
        Cbor::Float(_) => "a float",
        Cbor::Text(_) => "a text string",
        Cbor::Bool(_) => "a boolean",
        Cbor::Null => "null",
        Cbor::Tag(..) => "a tagged item",
        Cbor::Array(_) => "an array",
        Cbor::Map(_) => "a map",
        _ => "an unknown item",
    }
}

/// The `__type` of an error over CBOR: the specification asks for the absolute shape id. Errors
/// the model declares live in Service Catalog's namespace; the rest are AWS's framework errors,
/// in the namespaces its JSON answers have long shown (`com.amazon.coral.validate#...`).
/// Clients keep only the part after `#`, so the code they see is the same as over JSON.
pub fn shape_id(model: Option<&Model>, code: &str) -> String {
    let namespace = match code {
        _ if model.is_some_and(|m| m.declares_error(code)) => NAMESPACE,
        "ValidationException" => "com.amazon.coral.validate",
        "ThrottlingException" => "com.amazon.coral.availability",
        _ => "com.amazon.coral.service",
    };
    format!("{namespace}#{code}")
}

/// The CBOR body of an answer: the output along its shape, or the error map.
pub fn encode(model: Option<&Model>, op: Option<Op>, answer: &Answer) -> Vec<u8> {
    let item = match answer {
        Answer::Ok(v) => {
            let shape = model.zip(op).and_then(|(m, op)| m.output_shape(op.name()));
            match (model, shape) {
                (Some(m), Some(s)) => along(m, s, v),
                _ => generic(v),
            }
        }
        Answer::Err(e) => Cbor::Map(vec![
            (
                Cbor::Text("__type".into()),
                Cbor::Text(shape_id(model, e.code)),
            ),
            (Cbor::Text("message".into()), Cbor::Text(e.message.clone())),
        ]),
    };
    let mut out = Vec::new();
    // Writing into a Vec cannot fail; an empty body would still be a well-formed answer.
    let _ = ciborium::ser::into_writer(&item, &mut out);
    out
}

/// Encodes a JSON value along a model shape: timestamps become tag 1, nulls are omitted. A
/// member the shape does not name is encoded by its JSON type.
fn along(model: &Model, shape_name: &str, v: &Value) -> Cbor {
    let Some(shape) = model.shape(shape_name) else {
        return generic(v);
    };
    let kind = shape.get("type").and_then(Value::as_str).unwrap_or("");
    match (kind, v) {
        ("structure", Value::Object(o)) => {
            let members = shape.get("members").and_then(Value::as_object);
            Cbor::Map(
                o.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| {
                        let target = members
                            .and_then(|m| m.get(k))
                            .and_then(|m| m.get("shape"))
                            .and_then(Value::as_str);
                        let item = match target {
                            Some(t) => along(model, t, v),
                            None => generic(v),
                        };
                        (Cbor::Text(k.clone()), item)
                    })
                    .collect(),
            )
        }
        ("timestamp", Value::Number(n)) => Cbor::Tag(EPOCH_TAG, Box::new(number(n))),
        ("list", Value::Array(items)) => {
            let member = target_of(shape, "member");
            Cbor::Array(items.iter().map(|i| along(model, member, i)).collect())
        }
        ("map", Value::Object(o)) => {
            let value_shape = target_of(shape, "value");
            Cbor::Map(
                o.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (Cbor::Text(k.clone()), along(model, value_shape, v)))
                    .collect(),
            )
        }
        _ => generic(v),
    }
}

fn number(n: &Number) -> Cbor {
    if let Some(i) = n.as_i64() {
        Cbor::Integer(i.into())
    } else if let Some(u) = n.as_u64() {
        Cbor::Integer(u.into())
    } else {
        Cbor::Float(n.as_f64().unwrap_or(0.0))
    }
}

/// A JSON value in CBOR by its own type.
fn generic(v: &Value) -> Cbor {
    match v {
        Value::Null => Cbor::Null,
        Value::Bool(b) => Cbor::Bool(*b),
        Value::Number(n) => number(n),
        Value::String(s) => Cbor::Text(s.clone()),
        Value::Array(a) => Cbor::Array(a.iter().map(generic).collect()),
        Value::Object(o) => Cbor::Map(
            o.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (Cbor::Text(k.clone()), generic(v)))
                .collect(),
        ),
    }
}
