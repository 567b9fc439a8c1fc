//! How failures reach the user: `error: ...`, one `caused by: ...` line per source, and a
//! `hint: ...` where the user can do something about it (log in, pick a region, check the
//! endpoint). Manifest errors print every diagnostic with its location.

use crate::manifest::ManifestErrors;
use crate::observe::FatalReadError;
use crate::seam::{ApiError, ErrorKind};

/// Manifests failed validation. Its `Display` is every diagnostic, one per line.
#[derive(Debug)]
pub struct ManifestInvalid(pub ManifestErrors);

impl std::fmt::Display for ManifestInvalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for ManifestInvalid {}

/// Prints `err` to stderr in the project's error format.
pub fn print(err: &anyhow::Error) {
    if let Some(invalid) = err.downcast_ref::<ManifestInvalid>() {
        eprintln!("{invalid}");
        eprintln!("error: the manifest is invalid; nothing was applied");
        return;
    }
    eprintln!("error: {err}");
    for cause in err.chain().skip(1) {
        eprintln!("  caused by: {cause}");
    }
    if let Some(hint) = hint(err) {
        eprintln!("hint: {hint}");
    }
}

fn api_error(err: &anyhow::Error) -> Option<&ApiError> {
    err.chain().find_map(|cause| {
        cause
            .downcast_ref::<ApiError>()
            .or_else(|| cause.downcast_ref::<FatalReadError>().map(|f| &f.0))
    })
}

/// A next step the user can take, when the failure says what it is.
fn hint(err: &anyhow::Error) -> Option<&'static str> {
    let api = api_error(err)?;
    match (api.kind, api.code.as_str()) {
        (_, "NoRegion") => Some("pass --region, set AWS_REGION, or set a region in your profile"),
        (_, "NoCredentials") => Some(
            "log in (`aws sso login`, `aws configure`, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), \
             or try `sc-assoc demo`, which needs no AWS account",
        ),
        (_, "ExpiredTokenException" | "ExpiredToken") => {
            Some("your session has expired: log in again (for example `aws sso login`)")
        }
        (ErrorKind::Auth, _) => Some(
            "the credentials were refused: check the profile, the region, and that the keys are current",
        ),
        (ErrorKind::Transport, _) => Some(
            "the endpoint could not be reached: check --endpoint-url / AWS_ENDPOINT_URL, the region, and the network",
        ),
        _ => None,
    }
}
