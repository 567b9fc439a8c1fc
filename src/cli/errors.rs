//! How failures reach the user: `error: ...`, one `caused by: ...` line per source, and a
//! `hint: ...` where the user can do something about it (log in, pick a region, check the
//! endpoint). Manifest errors print every diagnostic with its location. With `--output json` the
//! same facts are one JSON document on stdout instead. Every text is redacted on the way out
//! (`sc_assoc::redact`): a server message may echo a session token or a signature.

use super::OutputFormat;
use sc_assoc::document::{DiagnosticEntry, ErrorBody, FailureFields, Versioned};
use sc_assoc::export::ExportError;
use sc_assoc::manifest::ManifestErrors;
use sc_assoc::observe::{FatalReadError, ScopeError};
use sc_assoc::pipeline::TargetError;
use sc_assoc::redact::redact;
use sc_assoc::run::RunError;
use sc_assoc::saved::CheckError;
use sc_assoc::seam::{ApiError, ErrorKind, SetupError};

/// Manifests failed validation. Its `Display` is every diagnostic, one per line.
#[derive(Debug)]
pub struct ManifestInvalid(pub ManifestErrors);

impl std::fmt::Display for ManifestInvalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for ManifestInvalid {}

/// `validate` found the manifests invalid: as [`ManifestInvalid`], but nothing was going to be
/// applied, so the closing line does not say it was not.
#[derive(Debug)]
pub struct ValidationFailed(pub ManifestErrors);

impl std::fmt::Display for ValidationFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for ValidationFailed {}

/// The closing line of an invalid manifest's report.
fn invalid_message(err: &anyhow::Error) -> &'static str {
    if err.downcast_ref::<ValidationFailed>().is_some() {
        "the manifest is invalid"
    } else {
        "the manifest is invalid; nothing was applied"
    }
}

/// The manifest diagnostics behind `err`, if it is a manifest problem (offline validation, or
/// names and ids the catalog does not know).
fn manifest_errors(err: &anyhow::Error) -> Option<&ManifestErrors> {
    if let Some(invalid) = err.downcast_ref::<ManifestInvalid>() {
        return Some(&invalid.0);
    }
    if let Some(invalid) = err.downcast_ref::<ValidationFailed>() {
        return Some(&invalid.0);
    }
    err.chain().find_map(|cause| {
        let run_error = cause.downcast_ref::<RunError>().or_else(|| {
            match cause.downcast_ref::<TargetError>() {
                Some(TargetError::Plan(error)) => Some(error),
                _ => None,
            }
        });
        match run_error {
            Some(RunError::Invalid(errors)) => Some(errors),
            _ => None,
        }
    })
}

/// Prints `err` in the chosen format: text on stderr, or one JSON document on stdout.
pub fn report(format: OutputFormat, err: &anyhow::Error) {
    match format {
        OutputFormat::Text => print_text(err),
        OutputFormat::Json => {
            let _ = super::emit(&Versioned::new(fields(err)).to_text());
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
        let _ = writeln!(out, "error: {}", invalid_message(err));
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

/// A failure's fields, for a document of its own or a target's section: `error` (message,
/// caused_by, hint, code, operation), or for manifest problems `valid: false` and `diagnostics`.
pub fn fields(err: &anyhow::Error) -> FailureFields {
    if let Some(errors) = manifest_errors(err) {
        return FailureFields::Invalid {
            valid: false,
            error: ErrorBody {
                message: invalid_message(err).to_string(),
                ..ErrorBody::default()
            },
            diagnostics: errors
                .diagnostics
                .iter()
                .map(DiagnosticEntry::from)
                .collect(),
        };
    }
    let api = api_error(err);
    // A role STS refused has STS's code, and no Service Catalog call behind it.
    let sts_code = match setup_error(err) {
        Some(SetupError::AssumeRole { code, .. }) => code.clone(),
        _ => None,
    };
    FailureFields::Error {
        error: ErrorBody {
            message: redact(&err.to_string()).into_owned(),
            caused_by: causes(err).iter().map(|c| redact(c).into_owned()).collect(),
            hint: hint(err).map(str::to_string),
            code: api.map(|a| a.code.clone()).or(sts_code),
            operation: api.map(|a| a.operation).or_else(|| {
                setup_error(err)
                    .is_some_and(|s| matches!(s, SetupError::AssumeRole { .. }))
                    .then_some("AssumeRole")
            }),
            usage: None,
        },
    }
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
    let document = Versioned::new(FailureFields::Error {
        error: ErrorBody {
            message,
            usage: Some(rendered.trim_end().to_string()),
            hint: Some("run `sc-assoc --help` for the commands and flags".to_string()),
            ..ErrorBody::default()
        },
    });
    let _ = super::emit(&document.to_text());
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
            .or_else(|| {
                cause
                    .downcast_ref::<ExportError>()
                    .and_then(ExportError::api_error)
            })
            .or_else(|| match cause.downcast_ref::<ScopeError>() {
                Some(ScopeError::Fatal(FatalReadError(error)))
                | Some(ScopeError::Unreadable { first: error, .. })
                | Some(ScopeError::Account(error)) => Some(error),
                _ => None,
            })
            .or_else(|| match cause.downcast_ref::<CheckError>() {
                Some(CheckError::Account(error)) => Some(error),
                _ => None,
            })
            .or_else(|| {
                cause
                    .downcast_ref::<sc_assoc::org::OrgError>()
                    .and_then(sc_assoc::org::OrgError::api_error)
            })
            .or_else(|| match cause.downcast_ref::<TargetError>() {
                // Transparent: the chain goes on from the wrapped error's source, not from it.
                Some(TargetError::Plan(error)) => error.api_error(),
                Some(TargetError::Export(error)) => error.api_error(),
                Some(TargetError::Check(CheckError::Account(error))) => Some(error),
                _ => None,
            })
    })
}

fn setup_error(err: &anyhow::Error) -> Option<&SetupError> {
    err.chain()
        .find_map(|cause| cause.downcast_ref::<SetupError>())
}

/// How a stop is told at the start of a sentence: `interrupted`, `the deadline was reached`.
pub fn stopped_while(reason: Option<&sc_assoc::control::StopReason>) -> String {
    use sc_assoc::control::StopReason;
    match reason {
        Some(StopReason::Interrupted) | None => "interrupted".to_string(),
        Some(reason) => reason.to_string(),
    }
}

const LOG_IN: &str = "log in (`aws sso login`, `aws configure`, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), \
     or try `sc-assoc demo`, which needs no AWS account";

/// A next step the user can take, when the failure says what it is.
fn hint(err: &anyhow::Error) -> Option<&'static str> {
    if let Some(hint) = err
        .chain()
        .find_map(|cause| cause.downcast_ref::<sc_assoc::org::OrgError>())
        .and_then(sc_assoc::org::OrgError::hint)
    {
        return Some(hint);
    }
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
        (ErrorKind::NoCredentials, _) => Some(LOG_IN),
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
