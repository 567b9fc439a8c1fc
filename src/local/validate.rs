//! Request validation driven by the published model (`model.json`, the botocore shapes of the
//! twelve operations): required members, string lengths, patterns, enums, integer ranges, list and
//! map sizes. Nothing here is written per operation, so the rules cannot drift from the model. It
//! judges a decoded request (a JSON value, whichever wire protocol carried it), so both protocols
//! validate identically; it also lends the shapes to the CBOR codec ([`Model::shape`]).
//!
//! What AWS does, and so this does:
//! - A pattern must match the **whole** value. `^[a-zA-Z0-9_\-]*` rejects `prod bad` and
//!   `[a-zA-Z0-9][a-zA-Z0-9_-]*` rejects `-x` and `a.b`: Service Catalog answered
//!   "Value 'My Test Sandbox1' at 'provisionedProductName' failed to satisfy constraint: Member
//!   must satisfy regular expression pattern: \[a-zA-Z0-9\]\[a-zA-Z0-9._-\]*"
//!   (aws-ia/terraform-aws-control_tower_account_factory #103), which a search would have
//!   accepted; other AWS services behave alike (aws/aws-cli #790, serverless/serverless #2036).
//!   The message shows the pattern as the model writes it.
//! - Constraint failures are HTTP 400 `ValidationException` (no operation's model lists it),
//!   collected and reported together: "N validation error(s) detected: Value 'x' at 'pageSize'
//!   failed to satisfy constraint: …", joined by "; ". Member paths are lowerCamelCase, list
//!   members `name.N.member` (1-based), as in AWS's own messages: 'provisionedProductName'
//!   (#103), 'tags.1.member.value' (serverless #2036), and
//!   'pipeline.stages.1.member.actions.1.member.namespace' (awslabs/cloudfront-hosting-toolkit
//!   #12). Map values add the key as written: `filters.FullTextSearch`.
//! - Validation runs before the operation, so a batch with one invalid member fails as a whole
//!   and nothing in it is applied.
//! - A member of the wrong type fails while the body is deserialized, before constraints are
//!   checked, and AWS answers that with `SerializationException`.
//! - `InvalidParametersException` is not used here: it is the service's own answer to inputs
//!   that pass the model but make no sense (see `ops` and `paging`). Unknown members are ignored.

use super::wire::ServiceError;
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
    /// Shape name → (the pattern as the model writes it, its whole-value form).
    patterns: HashMap<String, (String, Regex)>,
}

static MODEL: LazyLock<Result<Model, String>> = LazyLock::new(Model::load);

/// The process-wide model; an error only if the embedded JSON were broken, which the unit tests
/// below rule out.
pub fn model() -> Result<&'static Model, ServiceError> {
    MODEL
        .as_ref()
        .map_err(|e| ServiceError::serialization(format!("service model unavailable: {e}")))
}

/// One failed constraint, before it is worded.
struct Violation {
    /// The value as shown in the message; `None` is AWS's `Value null`.
    shown: Option<String>,
    path: String,
    constraint: String,
}

impl Violation {
    fn text(&self) -> String {
        let value = match &self.shown {
            Some(v) => format!("'{v}'"),
            None => "null".to_string(),
        };
        format!(
            "Value {value} at '{}' failed to satisfy constraint: {}",
            self.path, self.constraint
        )
    }
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
                // Whole-value matching: AWS's validator matches the pattern against the entire
                // value, so anchor it at both ends (a leading `^` inside the group is harmless).
                let re = Regex::new(&format!("^(?:{p})$"))
                    .map_err(|e| format!("pattern of {name}: {e}"))?;
                patterns.insert(name.clone(), (p.to_string(), re));
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

    /// The output shape name of an operation.
    pub fn output_shape(&self, operation: &str) -> Option<&str> {
        self.operations.get(operation)?.get("output")?.as_str()
    }

    /// A shape by name, as the model writes it (`type`, `members`, `member`, `key`, `value`...).
    pub fn shape(&self, name: &str) -> Option<&Value> {
        self.shapes.get(name)
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

    /// True if some operation's model lists this error code: the service's own errors, which
    /// live in its namespace.
    pub fn declares_error(&self, code: &str) -> bool {
        self.operations
            .keys()
            .any(|op| self.errors_of(op).iter().any(|e| e == code))
    }

    /// Validates a request body against the operation's input shape.
    pub fn validate_input(&self, operation: &str, body: &Value) -> Result<(), ServiceError> {
        let shape = self.input_shape(operation).ok_or_else(|| {
            ServiceError::unknown_operation(format!("no input shape for {operation}"))
        })?;
        let mut violations = Vec::new();
        self.check(shape, body, "", &mut violations)?;
        if violations.is_empty() {
            return Ok(());
        }
        let n = violations.len();
        let plural = if n == 1 { "error" } else { "errors" };
        let texts: Vec<String> = violations.iter().map(Violation::text).collect();
        Err(ServiceError::validation(format!(
            "{n} validation {plural} detected: {}",
            texts.join("; ")
        )))
    }

    /// Walks `value` against shape `name`. Type mismatches end the walk with a
    /// SerializationException; constraint failures are collected in `out`.
    fn check(
        &self,
        name: &str,
        value: &Value,
        path: &str,
        out: &mut Vec<Violation>,
    ) -> Result<(), ServiceError> {
        let shape = self
            .shapes
            .get(name)
            .ok_or_else(|| ServiceError::serialization(format!("unknown shape {name}")))?;
        let kind = shape.get("type").and_then(Value::as_str).unwrap_or("");
        let wrong_type = |expected: &str| {
            let at = if path.is_empty() {
                "the request body"
            } else {
                path
            };
            ServiceError::serialization(format!(
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
                        out.push(Violation {
                            shown: None,
                            path: join(path, r),
                            constraint: "Member must not be null".to_string(),
                        });
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
                for constraint in self.string_constraints(name, shape, s) {
                    out.push(Violation {
                        shown: Some(display(s)),
                        path: path.to_string(),
                        constraint,
                    });
                }
            }
            "integer" | "long" => {
                let n = value.as_i64().ok_or_else(|| wrong_type("an Integer"))?;
                let mut fail = |constraint: String| {
                    out.push(Violation {
                        shown: Some(n.to_string()),
                        path: path.to_string(),
                        constraint,
                    })
                };
                if let Some(max) = shape.get("max").and_then(Value::as_i64)
                    && n > max
                {
                    fail(format!(
                        "Member must have value less than or equal to {max}"
                    ));
                }
                if let Some(min) = shape.get("min").and_then(Value::as_i64)
                    && n < min
                {
                    fail(format!(
                        "Member must have value greater than or equal to {min}"
                    ));
                }
            }
            "boolean" => {
                value.as_bool().ok_or_else(|| wrong_type("a Boolean"))?;
            }
            "list" => {
                let items = value.as_array().ok_or_else(|| wrong_type("a List"))?;
                self.check_size(shape, items.len(), value, path, out);
                let member = target_of(shape, "member");
                for (i, item) in items.iter().enumerate() {
                    let at = format!("{path}.{}.member", i + 1);
                    if item.is_null() {
                        out.push(Violation {
                            shown: None,
                            path: at,
                            constraint: "Member must not be null".to_string(),
                        });
                    } else {
                        self.check(member, item, &at, out)?;
                    }
                }
            }
            "map" => {
                let entries = value.as_object().ok_or_else(|| wrong_type("a Map"))?;
                self.check_size(shape, entries.len(), value, path, out);
                let key_shape = target_of(shape, "key");
                let value_shape = target_of(shape, "value");
                let key_rules = self.shapes.get(key_shape);
                for (k, v) in entries {
                    let key_problems = key_rules
                        .map(|s| self.string_constraints(key_shape, s, k))
                        .unwrap_or_default();
                    if !key_problems.is_empty() {
                        out.push(Violation {
                            shown: Some(display(&value.to_string())),
                            path: path.to_string(),
                            constraint: format!(
                                "Map keys must satisfy constraint: [{}]",
                                key_problems.join(", ")
                            ),
                        });
                    }
                    if !v.is_null() {
                        self.check(value_shape, v, &format!("{path}.{k}"), out)?;
                    }
                }
            }
            "timestamp" if !(value.is_number() || value.is_string()) => {
                return Err(wrong_type("a Timestamp"));
            }
            _ => {}
        }
        Ok(())
    }

    /// The constraints a string breaks: enum, length, then pattern, as AWS lists them.
    fn string_constraints(&self, name: &str, shape: &Value, s: &str) -> Vec<String> {
        let mut failed = Vec::new();
        let len = s.chars().count() as u64;
        if let Some(allowed) = shape.get("enum").and_then(Value::as_array)
            && !allowed.iter().any(|a| a.as_str() == Some(s))
        {
            failed.push(format!(
                "Member must satisfy enum value set: [{}]",
                list(allowed)
            ));
        }
        if let Some(max) = shape.get("max").and_then(Value::as_u64)
            && len > max
        {
            failed.push(format!(
                "Member must have length less than or equal to {max}"
            ));
        }
        if let Some(min) = shape.get("min").and_then(Value::as_u64)
            && len < min
        {
            failed.push(format!(
                "Member must have length greater than or equal to {min}"
            ));
        }
        if let Some((written, whole)) = self.patterns.get(name)
            && !whole.is_match(s)
        {
            failed.push(format!(
                "Member must satisfy regular expression pattern: {written}"
            ));
        }
        failed
    }

    fn check_size(
        &self,
        shape: &Value,
        len: usize,
        value: &Value,
        path: &str,
        out: &mut Vec<Violation>,
    ) {
        let len = len as u64;
        let mut fail = |constraint: String| {
            out.push(Violation {
                shown: Some(display(&value.to_string())),
                path: path.to_string(),
                constraint,
            })
        };
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
    }
}

/// The shape a list's `member` or a map's `key`/`value` targets.
pub fn target_of<'a>(shape: &'a Value, part: &str) -> &'a str {
    shape
        .get(part)
        .and_then(|m| m.get("shape"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The path of a member in messages, lowerCamelCase as AWS writes it: `ServiceActionAssociations`
/// then `ProductId` becomes `serviceActionAssociations.1.member.productId`.
fn join(path: &str, member: &str) -> String {
    let mut chars = member.chars();
    let camel: String = match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    };
    if path.is_empty() {
        camel
    } else {
        format!("{path}.{camel}")
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

    const ASSOCIATE: &str = "AssociateServiceActionWithProvisioningArtifact";

    fn check(op: &str, body: Value) -> Result<(), ServiceError> {
        model().expect("model loads").validate_input(op, &body)
    }

    fn triple(product: &str) -> Value {
        json!({"ProductId": product, "ProvisioningArtifactId": "pa", "ServiceActionId": "a"})
    }

    #[test]
    fn every_operation_has_an_input_shape_and_patterns_compile() {
        let m = model().expect("model loads");
        for op in super::super::wire::Op::ALL {
            assert!(m.input_shape(op.name()).is_some(), "{}", op.name());
            assert!(m.output_shape(op.name()).is_some(), "{}", op.name());
        }
        assert!(!m.patterns.is_empty());
    }

    #[test]
    fn id_patterns_match_the_whole_value_in_aws_wording() {
        for bad in ["prod bad", "p/x", "prod-1\n", "ü"] {
            let e = check(ASSOCIATE, triple(bad)).expect_err(bad);
            assert_eq!((e.status, e.code), (400, "ValidationException"), "{bad}");
            assert_eq!(
                e.message,
                format!(
                    "1 validation error detected: Value '{bad}' at 'productId' failed to satisfy \
                     constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-]*"
                )
            );
        }
        assert_eq!(check(ASSOCIATE, triple("prod-abc_DEF-123")), Ok(()));
    }

    #[test]
    fn token_pattern_needs_a_leading_alphanumeric_and_no_other_characters() {
        for bad in ["---", "-x", "a.b", "tok en"] {
            let mut body = triple("p");
            body["IdempotencyToken"] = json!(bad);
            let e = check(ASSOCIATE, body).expect_err(bad);
            assert!(
                e.message
                    .contains(&format!("Value '{bad}' at 'idempotencyToken'"))
                    && e.message.ends_with("pattern: [a-zA-Z0-9][a-zA-Z0-9_-]*"),
                "{}",
                e.message
            );
        }
        let mut body = triple("p");
        body["IdempotencyToken"] = json!("x-1_a");
        assert_eq!(check(ASSOCIATE, body), Ok(()));
    }

    #[test]
    fn violations_are_counted_joined_and_named_in_lower_camel_case() {
        let e = check("ListServiceActions", json!({"PageSize": 21})).expect_err("21 > 20");
        assert_eq!(e.code, "ValidationException");
        assert_eq!(
            e.message,
            "1 validation error detected: Value '21' at 'pageSize' failed to satisfy constraint: \
             Member must have value less than or equal to 20"
        );
        let e = check(
            "BatchAssociateServiceActionWithProvisioningArtifact",
            json!({"ServiceActionAssociations": [
                {"ProductId": "p", "ProvisioningArtifactId": "pa", "ServiceActionId": "a"},
                {"ProductId": "p q"}
            ]}),
        )
        .expect_err("bad second member");
        assert!(
            e.message.starts_with("3 validation errors detected: "),
            "{}",
            e.message
        );
        for part in [
            "Value null at 'serviceActionAssociations.2.member.provisioningArtifactId' failed to satisfy constraint: Member must not be null",
            "Value null at 'serviceActionAssociations.2.member.serviceActionId'",
            "Value 'p q' at 'serviceActionAssociations.2.member.productId'",
        ] {
            assert!(e.message.contains(part), "{part} in {}", e.message);
        }
        assert_eq!(e.message.matches("; ").count(), 2);
    }

    #[test]
    fn map_keys_are_checked_as_a_constraint_of_the_map() {
        let e = check(
            "SearchProductsAsAdmin",
            json!({"Filters": {"Colour": ["red"]}}),
        )
        .expect_err("unknown filter key");
        assert!(
            e.message.contains("at 'filters' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy enum value set: ["),
            "{}",
            e.message
        );
    }

    #[test]
    fn wrong_json_types_are_serialization_errors() {
        let e = check("ListServiceActions", json!({"PageSize": "3"})).expect_err("string");
        assert_eq!(e.code, "SerializationException");
    }
}
