//! Request validation driven by the published model (`model.json`, the botocore shapes of the
//! twelve operations): required members, string lengths, patterns, enums, integer ranges, list and
//! map sizes. Nothing here is written per operation, so the rules cannot drift from the model.
//!
//! Two AWS behaviours are kept on purpose:
//! - Smithy patterns are not implicitly anchored. `^[a-zA-Z0-9_\-]*` is checked with regex
//!   *search* semantics, so it matches any string; an id with odd characters passes validation and
//!   is simply not found later.
//! - A member of the wrong JSON type fails while the body is deserialized, before constraints are
//!   checked, and AWS answers that with `SerializationException`, not `InvalidParametersException`.
//!
//! Constraint failures are collected and reported together, in the "N validation errors detected:
//! Value 'x' at 'PageSize' failed to satisfy constraint: …" wording AWS services use, under the
//! `InvalidParametersException` code the Service Catalog model declares. Paths use the request's
//! own member names (AWS's generic validator writes them lowerCamelCase, e.g. `pageSize`; the
//! exact spelling Service Catalog uses is not documented). Unknown members are ignored, as AWS
//! does.

use super::wire::ApiError;
use regex::Regex;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::LazyLock;

/// The model subset, compiled into the binary.
const MODEL_JSON: &str = include_str!("model.json");

/// Parsed model plus compiled patterns.
pub struct Model {
    shapes: Map<String, Value>,
    operations: Map<String, Value>,
    patterns: HashMap<String, Regex>,
}

static MODEL: LazyLock<Result<Model, String>> = LazyLock::new(Model::load);

/// The process-wide model; an error only if the embedded JSON were broken, which the unit tests
/// below rule out.
pub fn model() -> Result<&'static Model, ApiError> {
    MODEL
        .as_ref()
        .map_err(|e| ApiError::serialization(format!("service model unavailable: {e}")))
}

impl Model {
    fn load() -> Result<Model, String> {
        let root: Value = serde_json::from_str(MODEL_JSON).map_err(|e| e.to_string())?;
        let shapes = root
            .get("shapes")
            .and_then(Value::as_object)
            .cloned()
            .ok_or("model has no shapes")?;
        let operations = root
            .get("operations")
            .and_then(Value::as_object)
            .cloned()
            .ok_or("model has no operations")?;
        let mut patterns = HashMap::new();
        for (name, shape) in &shapes {
            if let Some(p) = shape.get("pattern").and_then(Value::as_str) {
                let re = Regex::new(p).map_err(|e| format!("pattern of {name}: {e}"))?;
                patterns.insert(name.clone(), re);
            }
        }
        Ok(Model {
            shapes,
            operations,
            patterns,
        })
    }

    /// The input shape name of an operation.
    pub fn input_shape(&self, operation: &str) -> Option<&str> {
        self.operations.get(operation)?.get("input")?.as_str()
    }

    /// The model's error list for an operation (used by tests to keep answers inside it).
    pub fn errors_of(&self, operation: &str) -> Vec<String> {
        self.operations
            .get(operation)
            .and_then(|o| o.get("errors"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|e| e.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Validates a request body against the operation's input shape.
    pub fn validate_input(&self, operation: &str, body: &Value) -> Result<(), ApiError> {
        let shape = self.input_shape(operation).ok_or_else(|| {
            ApiError::unknown_operation(format!("no input shape for {operation}"))
        })?;
        let mut violations = Vec::new();
        self.check(shape, body, "", &mut violations)?;
        if violations.is_empty() {
            return Ok(());
        }
        let n = violations.len();
        let plural = if n == 1 { "error" } else { "errors" };
        Err(ApiError::invalid_parameters(format!(
            "{n} validation {plural} detected: {}",
            violations.join("; ")
        )))
    }

    /// Walks `value` against shape `name`. Type mismatches end the walk with a
    /// SerializationException; constraint failures are collected in `out`.
    fn check(
        &self,
        name: &str,
        value: &Value,
        path: &str,
        out: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        let shape = self
            .shapes
            .get(name)
            .ok_or_else(|| ApiError::serialization(format!("unknown shape {name}")))?;
        let kind = shape.get("type").and_then(Value::as_str).unwrap_or("");
        let wrong_type = |expected: &str| {
            let at = if path.is_empty() {
                "the request body"
            } else {
                path
            };
            ApiError::serialization(format!(
                "{} can not be converted to {expected} (at '{at}')",
                json_kind(value)
            ))
        };
        match kind {
            "structure" => {
                let obj = value.as_object().ok_or_else(|| wrong_type("a structure"))?;
                let empty = Vec::new();
                let members = shape.get("members").and_then(Value::as_object);
                let required = shape
                    .get("required")
                    .and_then(Value::as_array)
                    .unwrap_or(&empty);
                for r in required.iter().filter_map(Value::as_str) {
                    if obj.get(r).is_none_or(Value::is_null) {
                        out.push(format!(
                            "Value null at '{}' failed to satisfy constraint: Member must not be null",
                            join(path, r)
                        ));
                    }
                }
                for (member, v) in obj {
                    // Unknown members are ignored; null means absent.
                    let Some(target) = members
                        .and_then(|m| m.get(member))
                        .and_then(|m| m.get("shape"))
                        .and_then(Value::as_str)
                    else {
                        continue;
                    };
                    if !v.is_null() {
                        self.check(target, v, &join(path, member), out)?;
                    }
                }
            }
            "string" => {
                let s = value.as_str().ok_or_else(|| wrong_type("a String"))?;
                let shown = display(s);
                let len = s.chars().count() as u64;
                let mut fail = |c: String| {
                    out.push(format!(
                        "Value '{shown}' at '{path}' failed to satisfy constraint: {c}"
                    ))
                };
                if let Some(allowed) = shape.get("enum").and_then(Value::as_array)
                    && !allowed.iter().any(|a| a.as_str() == Some(s))
                {
                    fail(format!(
                        "Member must satisfy enum value set: [{}]",
                        list(allowed)
                    ));
                }
                if let Some(max) = shape.get("max").and_then(Value::as_u64)
                    && len > max
                {
                    fail(format!(
                        "Member must have length less than or equal to {max}"
                    ));
                }
                if let Some(min) = shape.get("min").and_then(Value::as_u64)
                    && len < min
                {
                    fail(format!(
                        "Member must have length greater than or equal to {min}"
                    ));
                }
                // Search, not full match: see the module comment.
                if let Some(re) = self.patterns.get(name)
                    && !re.is_match(s)
                {
                    fail(format!(
                        "Member must satisfy regular expression pattern: {}",
                        re.as_str()
                    ));
                }
            }
            "integer" | "long" => {
                let n = value.as_i64().ok_or_else(|| wrong_type("an Integer"))?;
                if let Some(max) = shape.get("max").and_then(Value::as_i64)
                    && n > max
                {
                    out.push(format!("Value '{n}' at '{path}' failed to satisfy constraint: Member must have value less than or equal to {max}"));
                }
                if let Some(min) = shape.get("min").and_then(Value::as_i64)
                    && n < min
                {
                    out.push(format!("Value '{n}' at '{path}' failed to satisfy constraint: Member must have value greater than or equal to {min}"));
                }
            }
            "boolean" => {
                value.as_bool().ok_or_else(|| wrong_type("a Boolean"))?;
            }
            "list" => {
                let items = value.as_array().ok_or_else(|| wrong_type("a List"))?;
                self.check_size(shape, items.len(), value, path, out);
                let member = shape
                    .get("member")
                    .and_then(|m| m.get("shape"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                for (i, item) in items.iter().enumerate() {
                    let at = format!("{path}.{}.member", i + 1);
                    if item.is_null() {
                        out.push(format!(
                            "Value null at '{at}' failed to satisfy constraint: Member must not be null"
                        ));
                    } else {
                        self.check(member, item, &at, out)?;
                    }
                }
            }
            "map" => {
                let entries = value.as_object().ok_or_else(|| wrong_type("a Map"))?;
                self.check_size(shape, entries.len(), value, path, out);
                let key_shape = shape
                    .get("key")
                    .and_then(|m| m.get("shape"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let value_shape = shape
                    .get("value")
                    .and_then(|m| m.get("shape"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                for (k, v) in entries {
                    let mut key_problems = Vec::new();
                    self.check(
                        key_shape,
                        &Value::String(k.clone()),
                        path,
                        &mut key_problems,
                    )?;
                    for p in key_problems {
                        out.push(format!("Map keys must satisfy constraint: [{p}]"));
                    }
                    if v.is_null() {
                        continue;
                    }
                    self.check(value_shape, v, &format!("{path}.{k}"), out)?;
                }
            }
            "timestamp" if !(value.is_number() || value.is_string()) => {
                return Err(wrong_type("a Timestamp"));
            }
            _ => {}
        }
        Ok(())
    }

    fn check_size(
        &self,
        shape: &Value,
        len: usize,
        value: &Value,
        path: &str,
        out: &mut Vec<String>,
    ) {
        let len = len as u64;
        let shown = display(&value.to_string());
        if let Some(max) = shape.get("max").and_then(Value::as_u64)
            && len > max
        {
            out.push(format!("Value '{shown}' at '{path}' failed to satisfy constraint: Member must have length less than or equal to {max}"));
        }
        if let Some(min) = shape.get("min").and_then(Value::as_u64)
            && len < min
        {
            out.push(format!("Value '{shown}' at '{path}' failed to satisfy constraint: Member must have length greater than or equal to {min}"));
        }
    }
}

/// The path of a member in messages, in the member names the request itself uses
/// (`PageSize`, `ServiceActionAssociations.1.member.ProductId`), so the caller can find it.
fn join(path: &str, member: &str) -> String {
    if path.is_empty() {
        member.to_string()
    } else {
        format!("{path}.{member}")
    }
}

/// Long values are shortened in messages so an oversized request cannot produce an oversized error.
fn display(s: &str) -> String {
    const LIMIT: usize = 200;
    if s.chars().count() <= LIMIT {
        s.to_string()
    } else {
        let head: String = s.chars().take(LIMIT).collect();
        format!("{head}...")
    }
}

fn list(values: &[Value]) -> String {
    values
        .iter()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "NULL_VALUE",
        Value::Bool(_) => "BOOLEAN_VALUE",
        Value::Number(_) => "NUMBER_VALUE",
        Value::String(_) => "STRING_VALUE",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(op: &str, body: Value) -> Result<(), ApiError> {
        model().expect("model loads").validate_input(op, &body)
    }

    #[test]
    fn every_operation_has_an_input_shape_and_patterns_compile() {
        let m = model().expect("model loads");
        for op in super::super::wire::Op::ALL {
            assert!(m.input_shape(op.name()).is_some(), "{}", op.name());
        }
    }

    #[test]
    fn unanchored_id_pattern_accepts_odd_characters() {
        let body =
            json!({"ProductId": "p/x", "ProvisioningArtifactId": "pa", "ServiceActionId": "a"});
        assert_eq!(
            check("AssociateServiceActionWithProvisioningArtifact", body),
            Ok(())
        );
    }

    #[test]
    fn violations_name_the_field_in_aws_wording() {
        let e = check("ListServiceActions", json!({"PageSize": 21})).expect_err("21 > 20");
        assert_eq!(e.code, "InvalidParametersException");
        assert!(e.message.contains("at 'PageSize'"), "{}", e.message);
        let e = check(
            "BatchAssociateServiceActionWithProvisioningArtifact",
            json!({"ServiceActionAssociations": [{"ProductId": "p"}]}),
        )
        .expect_err("missing members");
        assert!(
            e.message.starts_with("2 validation errors detected"),
            "{}",
            e.message
        );
        assert!(
            e.message
                .contains("ServiceActionAssociations.1.member.ServiceActionId")
        );
    }

    #[test]
    fn wrong_json_types_are_serialization_errors() {
        let e = check("ListServiceActions", json!({"PageSize": "3"})).expect_err("string");
        assert_eq!(e.code, "SerializationException");
    }

    #[test]
    fn token_pattern_needs_an_alphanumeric_somewhere() {
        let base = json!({"ProductId": "p", "ProvisioningArtifactId": "pa", "ServiceActionId": "a", "IdempotencyToken": "---"});
        assert!(check("AssociateServiceActionWithProvisioningArtifact", base).is_err());
    }
}
