//! Checks made before the client is built, so a setup mistake gets its own message: a profile
//! that is in neither the config nor the credentials file would otherwise surface as "no region"
//! or as a credentials failure naming no profile at all. [`SetupError`] (the seam's) is the typed
//! answer: a caller matches on its variants, never on message text.

use crate::seam::SetupError;
use aws_types::os_shim_internal::{Env, Fs};

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
