//! How failures reach the user: `error: ...`, one `caused by: ...` line per source, and a
//! `hint: ...` where the user can do something about it (log in, pick a region, check the
//! endpoint). Manifest errors print every diagnostic with its location. With `--output json` the
//! same facts are one JSON document on stdout instead. Every text is redacted on the way out
//! (`sc_assoc::redact`): a server message may echo a session token or a signature.

use super::OutputFormat;
use super::output::FORMAT_VERSION;
use sc_assoc::aws::SetupError;
use sc_assoc::manifest::{Diagnostic, ManifestErrors};
use sc_assoc::observe::FatalReadError;
use sc_assoc::redact::redact;
use sc_assoc::run::RunError;
use sc_assoc::seam::{ApiError, ErrorKind};
use serde_json::json;

/// Manifests failed validation. Its `Display` is every diagnostic, one per line.
#[derive(Debug)]
pub struct ManifestInvalid(pub ManifestErrors);

impl std::fmt::Display for ManifestInvalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for ManifestInvalid {}

/// The manifest diagnostics behind `err`, if it is a manifest problem (offline validation, or
/// names and ids the catalog does not know).
fn manifest_errors(err: &anyhow::Error) -> Option<&ManifestErrors> {
    if let Some(invalid) = err.downcast_ref::<ManifestInvalid>() {
        return Some(&invalid.0);
    }
    err.chain()
        .find_map(|cause| match cause.downcast_ref::<RunError>() {
            Some(RunError::Invalid(errors)) => Some(errors),
            _ => None,
        })
}

/// Prints `err` in the chosen format: text on stderr, or one JSON document on stdout.
pub fn report(format: OutputFormat, err: &anyhow::Error) {
    match format {
        OutputFormat::Text => print_text(err),
        OutputFormat::Json => {
            let _ = super::emit(&format!("{}\n", document(err)));
        }
    }
}

fn print_text(err: &anyhow::Error) {
    eprint!("{}", text(err));
}

/// `err` as the lines `print_text` writes: `error:`, `caused by:` lines and a `hint:`, or
/// every manifest diagnostic. Redacted.
pub fn text(err: &anyhow::Error) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    if let Some(errors) = manifest_errors(err) {
        let _ = writeln!(out, "{}", redact(&errors.to_string()));
        let _ = writeln!(out, "error: the manifest is invalid; nothing was applied");
        return out;
    }
    let _ = writeln!(out, "error: {}", redact(&err.to_string()));
    for cause in causes(err) {
        let _ = writeln!(out, "  caused by: {}", redact(&cause));
    }
    if let Some(hint) = hint(err) {
        let _ = writeln!(out, "hint: {hint}");
    }
    out
}

/// The `caused by` lines: each source's own text, skipping one that only repeats what the line
/// above already says.
fn causes(err: &anyhow::Error) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut previous = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !previous.contains(&text) {
            lines.push(text.clone());
        }
        previous = text;
    }
    lines
}

/// The JSON document for a failure.
fn document(err: &anyhow::Error) -> serde_json::Value {
    let mut document = fields(err);
    document["format_version"] = FORMAT_VERSION.into();
    document
}

/// A failure's fields, for a document of its own or a target's section: `error` (message,
/// caused_by, hint, code, operation), or for manifest problems `valid: false` and `diagnostics`.
pub fn fields(err: &anyhow::Error) -> serde_json::Value {
    if let Some(errors) = manifest_errors(err) {
        return json!({
            "valid": false,
            "error": {"message": "the manifest is invalid; nothing was applied"},
            "diagnostics": errors.diagnostics.iter().map(diagnostic_json).collect::<Vec<_>>(),
        });
    }
    let mut error = json!({
        "message": redact(&err.to_string()),
        "caused_by": causes(err).iter().map(|c| redact(c)).collect::<Vec<_>>(),
    });
    if let Some(hint) = hint(err) {
        error["hint"] = hint.into();
    }
    if let Some(api) = api_error(err) {
        error["code"] = api.code.clone().into();
        error["operation"] = api.operation.into();
    }
    json!({ "error": error })
}

fn diagnostic_json(diagnostic: &Diagnostic) -> serde_json::Value {
    let (message, hint) = split_hint(&diagnostic.message);
    let mut value = json!({
        "severity": diagnostic.severity.to_string(),
        "message": redact(message),
    });
    if let Some(location) = &diagnostic.location {
        value["file"] = location.file.display().to_string().into();
        value["line"] = location.line.into();
        value["column"] = location.column.into();
    }
    if let Some(hint) = hint {
        value["hint"] = redact(hint).into();
    }
    value
}

/// Diagnostics carry their hint after `; hint: ` or on a `hint:` line; JSON gives it a field.
fn split_hint(message: &str) -> (&str, Option<&str>) {
    for separator in ["\n  hint: ", "\nhint: ", "; hint: "] {
        if let Some((message, hint)) = message.split_once(separator) {
            return (message, Some(hint));
        }
    }
    (message, None)
}

/// A usage error (bad flag, unknown command) as a JSON document, when `--output json` was asked
/// for: a pipeline parsing stdout gets a document, not nothing.
pub fn report_usage_json(rendered: &str) {
    let message = rendered
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ")
        .to_string();
    let document = json!({
        "format_version": FORMAT_VERSION,
        "error": {
            "message": message,
            "usage": rendered.trim_end(),
            "hint": "run `sc-assoc --help` for the commands and flags",
        },
    });
    let _ = super::emit(&format!("{document}\n"));
}

fn api_error(err: &anyhow::Error) -> Option<&ApiError> {
    err.chain().find_map(|cause| {
        cause
            .downcast_ref::<ApiError>()
            .or_else(|| cause.downcast_ref::<FatalReadError>().map(|f| &f.0))
            .or_else(|| {
                cause
                    .downcast_ref::<RunError>()
                    .and_then(RunError::api_error)
            })
    })
}

fn setup_error(err: &anyhow::Error) -> Option<&SetupError> {
    err.chain()
        .find_map(|cause| cause.downcast_ref::<SetupError>())
}

const LOG_IN: &str = "log in (`aws sso login`, `aws configure`, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), \
     or try `sc-assoc demo`, which needs no AWS account";

/// A next step the user can take, when the failure says what it is.
fn hint(err: &anyhow::Error) -> Option<&'static str> {
    if let Some(setup) = setup_error(err) {
        return Some(match setup {
            SetupError::NoRegion => {
                "pass --region, set AWS_REGION, or set a region in your profile"
            }
            SetupError::ProfileNotFound { .. } => {
                "check the name against `aws configure list-profiles`, or AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE"
            }
            SetupError::NoCredentials { .. } => LOG_IN,
            SetupError::AssumeRole { .. } => {
                "check that the role exists in that account, that its trust policy lets your credentials' account assume it (with the manifest's external_id, if it requires one), and that your credentials may call sts:AssumeRole"
            }
            _ => return None,
        });
    }
    let api = api_error(err)?;
    match (api.kind, api.code.as_str()) {
        // Credentials that vanished mid-run (an expired SSO session the chain cannot renew).
        (_, "NoCredentials") => Some(LOG_IN),
        (_, "ExpiredTokenException" | "ExpiredToken") => {
            Some("your session has expired: log in again (for example `aws sso login`)")
        }
        (ErrorKind::Auth, _) => Some(
            "the credentials were refused: check the profile, that the keys are current, and that the region is enabled for the account",
        ),
        (ErrorKind::Unreachable, _) => Some(
            "nothing listens there, or the name does not resolve: check --endpoint-url / AWS_ENDPOINT_URL and the region",
        ),
        (ErrorKind::Timeout, _) => Some(
            "the endpoint accepted the connection but did not answer: check that it is Service Catalog, or raise --call-timeout",
        ),
        (ErrorKind::Transport, _) => Some(
            "the endpoint could not be reached: check --endpoint-url / AWS_ENDPOINT_URL, the region, and the network",
        ),
        (ErrorKind::Protocol, _) => Some(
            "the endpoint does not behave like Service Catalog: check --endpoint-url / AWS_ENDPOINT_URL",
        ),
        _ => None,
    }
}
