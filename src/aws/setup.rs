//! Checks made before the client is built, so a setup mistake gets its own message: a profile
//! that is in neither the config nor the credentials file would otherwise surface as "no region"
//! or as a credentials failure naming no profile at all. [`SetupError`] is the typed answer: a
//! caller matches on its variants, never on message text.

use crate::redact::redact;
use aws_types::os_shim_internal::{Env, Fs};

/// Why a client could not be set up. Nothing was sent to AWS in any of these cases.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// No region from `--region`, `AWS_REGION` or the profile.
    #[error("no AWS region is configured (set --region, AWS_REGION or a profile region)")]
    NoRegion,
    /// The credential chain found nothing usable. `detail` says which sources it tried
    /// (redacted: a `credential_process`'s error output is part of it).
    #[error("no usable AWS credentials: {detail}")]
    NoCredentials { detail: String },
    /// `--profile` names a profile defined in no config or credentials file.
    #[error("the AWS profile `{profile}` is not defined in the AWS config or credentials file ({})", listed(.known))]
    ProfileNotFound {
        profile: String,
        /// The profiles that are defined.
        known: Vec<String>,
    },
    /// STS refused (or could not be asked) to let the base credentials assume a target's
    /// role. `detail` is STS's answer, redacted.
    #[error("cannot assume the role `{role_arn}`: {detail}")]
    AssumeRole { role_arn: String, detail: String },
}

impl SetupError {
    pub(super) fn no_credentials(detail: &str) -> Self {
        SetupError::NoCredentials {
            detail: redact(detail).into_owned(),
        }
    }
}

impl SetupError {
    pub(super) fn assume_role(role_arn: &str, detail: &str) -> Self {
        SetupError::AssumeRole {
            role_arn: role_arn.to_string(),
            detail: redact(detail).into_owned(),
        }
    }
}

fn listed(known: &[String]) -> String {
    if known.is_empty() {
        "no profile is defined".to_string()
    } else {
        format!("the profiles defined are: {}", known.join(", "))
    }
}

/// Fails with [`SetupError::ProfileNotFound`] when `profile` is defined in no AWS config or
/// credentials file (honouring `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE`, as the SDK
/// does).
pub(super) async fn check_profile_exists(profile: &str) -> Result<(), SetupError> {
    let loaded = aws_config::profile::load(
        &Fs::real(),
        &Env::real(),
        // The default files: ~/.aws/config and ~/.aws/credentials, or their env overrides.
        &Default::default(),
        None,
    )
    .await;
    let known: Vec<String> = match loaded {
        Ok(set) => set.profiles().map(str::to_string).collect(),
        // An unreadable or malformed file is the SDK's to report, with its own words.
        Err(_) => return Ok(()),
    };
    if known.iter().any(|name| name == profile) {
        return Ok(());
    }
    Err(SetupError::ProfileNotFound {
        profile: profile.to_string(),
        known,
    })
}
