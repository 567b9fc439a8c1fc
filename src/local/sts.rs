//! STS at the catalog's own endpoint, in STS's wire protocol (AWS Query: a form-encoded
//! `POST /` with `Action` and `Version`, answered in XML in the namespace
//! `https://sts.amazonaws.com/doc/2011-06-15/`, errors as `ErrorResponse/Error/{Type,Code,
//! Message}` plus `RequestId`). It serves `AssumeRole`, which issues temporary credentials bound
//! to the role's account, and `GetCallerIdentity`, which says whose credentials a request
//! carries. Who may assume what lives in `identity`; this module owns the wire: telling
//! STS requests apart, reading the form, STS's validation wording, and the XML.
//!
//! A request is STS's when it names no `X-Amz-Target`, is not an RPC v2 CBOR path, and either is
//! form-encoded or is signed for service `sts`. Shapes and limits are those of botocore's STS
//! model (`sts/2011-06-15/service-2.json`): `RoleArn` 20..=2048, `RoleSessionName` 2..=64 of
//! `[\w+=,.@-]*`, `ExternalId` 2..=1224 of `[\w+=,.@:/-]*`, `DurationSeconds` 900..=43200.

use super::accounts::{is_external_id_char, is_session_name_char};
use super::identity::{Denial, Directory, Issued, Principal, Refusal};
use super::stats::{Counters, STS_OPERATIONS};
use super::wire::{self, ServiceError};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use std::borrow::Cow;
use std::sync::atomic::Ordering;

const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
const VERSION: &str = "2011-06-15";
const FORM: &str = "application/x-www-form-urlencoded";

/// Whether a request (already known not to be RPC v2 CBOR) is meant for STS.
pub fn is_sts(headers: &HeaderMap) -> bool {
    if headers.contains_key("x-amz-target") {
        return false;
    }
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with(FORM));
    form || wire::scope_service(headers).as_deref() == Some("sts")
}

/// An STS error: HTTP status, `Code` and `Message` (`Type` is `Sender` below 500).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl StsError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        StsError {
            status,
            code,
            message: message.into(),
        }
    }

    fn validation(message: impl Into<String>) -> Self {
        Self::new(400, "ValidationError", message)
    }

    fn invalid_client_token() -> Self {
        Self::new(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        )
    }

    fn expired() -> Self {
        Self::new(
            400,
            "ExpiredToken",
            "The security token included in the request is expired",
        )
    }

    /// The Service Catalog-style signature errors, in STS's codes.
    fn from_signature(e: ServiceError) -> Self {
        match e.code {
            "MissingAuthenticationTokenException" => Self::new(
                403,
                "MissingAuthenticationToken",
                "Request is missing Authentication Token",
            ),
            "IncompleteSignatureException" => Self::new(400, "IncompleteSignature", e.message),
            _ => Self::new(e.status, "SignatureDoesNotMatch", e.message),
        }
    }
}

/// What the handler needs from the server.
pub struct Context<'a> {
    pub directory: &'a Directory,
    pub counters: &'a Counters,
    pub expired_access_keys: &'a [String],
    pub unrecognized_access_keys: &'a [String],
}

/// Answers one STS request.
pub fn answer(ctx: &Context, headers: &HeaderMap, body: &[u8], request_id: &str) -> Response {
    let form = Form::parse(body);
    let action = form.get("Action");
    if let Some(i) = action.and_then(|a| STS_OPERATIONS.iter().position(|o| *o == a)) {
        ctx.counters.sts_calls[i].fetch_add(1, Ordering::Relaxed);
    }
    match perform(ctx, headers, &form) {
        Ok(xml) => respond(
            200,
            success(action.unwrap_or(""), &xml, request_id),
            request_id,
        ),
        Err(e) => respond(e.status, error(&e, request_id), request_id),
    }
}

fn perform(ctx: &Context, headers: &HeaderMap, form: &Form) -> Result<String, StsError> {
    let caller = wire::check_auth(headers).map_err(StsError::from_signature)?;
    if caller.service != "sts" {
        return Err(StsError::new(
            403,
            "SignatureDoesNotMatch",
            "Credential should be scoped to correct service: 'sts'. ",
        ));
    }
    if ctx.expired_access_keys.contains(&caller.access_key_id) {
        return Err(StsError::expired());
    }
    if ctx.unrecognized_access_keys.contains(&caller.access_key_id) {
        return Err(StsError::invalid_client_token());
    }
    let principal = ctx
        .directory
        .identify(&caller.access_key_id, caller.security_token.as_deref())
        .map_err(|r| match r {
            Refusal::Unrecognized => StsError::invalid_client_token(),
            Refusal::Expired => StsError::expired(),
        })?;
    let Some(action) = form.get("Action") else {
        return Err(StsError::new(400, "MissingAction", "Missing Action"));
    };
    let version = form.get("Version").unwrap_or("NO_VERSION_SPECIFIED");
    let unknown = || {
        StsError::new(
            400,
            "InvalidAction",
            format!("Could not find operation {action} for version {version}"),
        )
    };
    if version != VERSION {
        return Err(unknown());
    }
    match action {
        "AssumeRole" => assume_role(ctx.directory, &principal, form),
        "GetCallerIdentity" => Ok(caller_identity(&principal)),
        _ => Err(unknown()),
    }
}

/// The decoded form; the first of repeated parameters counts. Decoding is lossy, never fails:
/// bytes that are not UTF-8 become U+FFFD and then fail validation like any bad character.
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(body: &[u8]) -> Form {
        Form(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// STS's constraint messages, collected like every AWS model-validated service words them.
#[derive(Default)]
struct Violations(Vec<String>);

impl Violations {
    fn add(&mut self, value: Option<&str>, member: &str, constraint: impl AsRef<str>) {
        let shown: Cow<str> = match value {
            Some(v) => format!("'{v}'").into(),
            None => "null".into(),
        };
        self.0.push(format!(
            "Value {shown} at '{member}' failed to satisfy constraint: {}",
            constraint.as_ref()
        ));
    }

    fn string(
        &mut self,
        value: Option<&str>,
        member: &str,
        (min, max): (usize, usize),
        ok: fn(char) -> bool,
        pattern: &str,
    ) {
        let Some(v) = value else { return };
        if !v.chars().all(ok) {
            self.add(
                value,
                member,
                format!("Member must satisfy regular expression pattern: {pattern}"),
            );
        }
        let len = v.chars().count();
        if len < min {
            self.add(
                value,
                member,
                format!("Member must have length greater than or equal to {min}"),
            );
        }
        if len > max {
            self.add(
                value,
                member,
                format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    fn into_error(self) -> Option<StsError> {
        let n = self.0.len();
        (n > 0).then(|| {
            StsError::validation(format!(
                "{n} validation error{} detected: {}",
                if n == 1 { "" } else { "s" },
                self.0.join("; ")
            ))
        })
    }
}

/// `arnType`'s pattern: tab, newline, return and the printable ranges.
fn is_arn_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}')
}

const ARN_PATTERN: &str = "[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u0085\\u00A0-\\uD7FF\\uE000-\\uFFFD\\u10000-\\u10FFFF]+";

/// `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`, the only ARNs AssumeRole can name.
fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[2] == "iam"
        && parts[3].is_empty()
        && super::accounts::is_account_id(parts[4])
        && parts[5]
            .strip_prefix("role/")
            .is_some_and(|n| !n.is_empty() && !n.ends_with('/'))
}

fn assume_role(directory: &Directory, caller: &Principal, form: &Form) -> Result<String, StsError> {
    let role_arn = form.get("RoleArn");
    let session = form.get("RoleSessionName");
    let external_id = form.get("ExternalId");
    let duration = form.get("DurationSeconds");
    let mut v = Violations::default();
    if role_arn.is_none() {
        v.add(None, "roleArn", "Member must not be null");
    }
    v.string(role_arn, "roleArn", (20, 2048), is_arn_char, ARN_PATTERN);
    if session.is_none() {
        v.add(None, "roleSessionName", "Member must not be null");
    }
    v.string(
        session,
        "roleSessionName",
        (2, 64),
        is_session_name_char,
        "[\\w+=,.@-]*",
    );
    let seconds = match duration.map(str::parse::<i64>) {
        None => None,
        Some(Ok(n)) => {
            if n < 900 {
                v.add(
                    duration,
                    "durationSeconds",
                    "Member must have value greater than or equal to 900",
                );
            }
            if n > 43_200 {
                v.add(
                    duration,
                    "durationSeconds",
                    "Member must have value less than or equal to 43200",
                );
            }
            u32::try_from(n).ok()
        }
        Some(Err(_)) => {
            v.add(duration, "durationSeconds", "Member must be a number");
            None
        }
    };
    v.string(
        external_id,
        "externalId",
        (2, 1224),
        is_external_id_char,
        "[\\w+=,.@:\\/-]*",
    );
    if let Some(e) = v.into_error() {
        return Err(e);
    }
    let (role_arn, session) = (role_arn.unwrap_or(""), session.unwrap_or(""));
    if !is_role_arn(role_arn) {
        return Err(StsError::validation("Request ARN is invalid"));
    }
    let issued = directory
        .assume(caller, role_arn, session, external_id, seconds)
        .map_err(|d| match d {
            Denial::AccessDenied => StsError::new(
                403,
                "AccessDenied",
                format!(
                    "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                    caller.arn
                ),
            ),
            Denial::Duration(message) => StsError::validation(message),
        })?;
    Ok(assumed_xml(&issued))
}

fn assumed_xml(i: &Issued) -> String {
    format!(
        "<AssumedRoleUser><AssumedRoleId>{}</AssumedRoleId><Arn>{}</Arn></AssumedRoleUser>\
         <Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey>\
         <SessionToken>{}</SessionToken><Expiration>{}</Expiration></Credentials>",
        escape(&i.assumed_role_id),
        escape(&i.assumed_role_arn),
        escape(&i.access_key_id),
        escape(&i.secret_access_key),
        escape(&i.session_token),
        iso8601(i.expiration),
    )
}

fn caller_identity(p: &Principal) -> String {
    format!(
        "<UserId>{}</UserId><Account>{}</Account><Arn>{}</Arn>",
        escape(&p.user_id),
        escape(&p.account),
        escape(&p.arn)
    )
}

fn success(action: &str, result: &str, request_id: &str) -> String {
    format!(
        "<{action}Response xmlns=\"{NAMESPACE}\">\n  <{action}Result>{result}</{action}Result>\n  \
         <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</{action}Response>\n",
        escape(request_id)
    )
}

fn error(e: &StsError, request_id: &str) -> String {
    let kind = if e.status >= 500 {
        "Receiver"
    } else {
        "Sender"
    };
    format!(
        "<ErrorResponse xmlns=\"{NAMESPACE}\">\n  <Error>\n    <Type>{kind}</Type>\n    \
         <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{}</RequestId>\n</ErrorResponse>\n",
        e.code,
        escape(&e.message),
        escape(request_id)
    )
}

fn respond(status: u16, body: String, request_id: &str) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", v);
    }
    response
}

/// XML character data: `&`, `<` and `>` (quotes need no escape outside attributes, and STS's
/// messages quote values with `'`).
fn escape(s: &str) -> Cow<'_, str> {
    if !s.contains(['&', '<', '>']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the epoch (STS's `dateType` in the Query protocol).
pub fn iso8601(epoch: u64) -> String {
    let (days, rem) = (epoch / 86_400, epoch % 86_400);
    // Civil date from days since 1970-01-01, counting in 400-year eras from 0000-03-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_iso8601() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(1_796_083_200 + 3_723), "2026-12-01T01:02:03Z");
    }

    #[test]
    fn role_arns() {
        assert!(is_role_arn("arn:aws:iam::111111111111:role/Admin"));
        assert!(is_role_arn("arn:aws:iam::111111111111:role/path/Admin"));
        for bad in [
            "arn:aws:iam::1111:role/Admin",
            "arn:aws:iam::111111111111:user/Admin",
            "arn:aws:s3::111111111111:role/Admin",
            "arn:aws:iam::111111111111:role/",
            "not an arn at all, really",
        ] {
            assert!(!is_role_arn(bad), "{bad}");
        }
    }

    #[test]
    fn violations_are_worded_as_sts_words_them() {
        let mut v = Violations::default();
        v.string(
            Some("a:b"),
            "roleSessionName",
            (2, 64),
            is_session_name_char,
            "[\\w+=,.@-]*",
        );
        assert_eq!(
            v.into_error().map(|e| e.message),
            Some(
                "1 validation error detected: Value 'a:b' at 'roleSessionName' failed to satisfy \
                 constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
                    .to_string()
            )
        );
        assert_eq!(escape("a<b&'c'>"), "a&lt;b&amp;'c'&gt;");
    }
}
