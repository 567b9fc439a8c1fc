//! The unit sc-assoc reconciles: a (product, provisioning artifact, service action) triple of ids,
//! the id rules every layer checks against, and the deterministic idempotency tokens derived from a
//! triple. Nothing here does I/O, so the token formula can be pinned by tests and documented.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// Longest id the API accepts for products, artifacts and actions (model shape `Id`).
pub const MAX_ID_LEN: usize = 100;

/// One association between a service action and a provisioning artifact of a product.
///
/// Ordered product, then artifact, then action, so sorted collections group by artifact — the
/// shape plans and reports are read in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Triple {
    pub product: String,
    pub artifact: String,
    pub action: String,
}

impl Triple {
    pub fn new(
        product: impl Into<String>,
        artifact: impl Into<String>,
        action: impl Into<String>,
    ) -> Self {
        Self {
            product: product.into(),
            artifact: artifact.into(),
            action: action.into(),
        }
    }

    /// The (product, artifact) pair this triple attaches to.
    pub fn artifact_key(&self) -> (String, String) {
        (self.product.clone(), self.artifact.clone())
    }
}

impl fmt::Display for Triple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} / {} / {}", self.product, self.artifact, self.action)
    }
}

/// Why a string is not a usable id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("id is empty")]
    Empty,
    #[error("id is {0} characters long; the API allows at most 100")]
    TooLong(usize),
    #[error("id contains {0:?}; ids hold only letters, digits, `_` and `-`")]
    BadCharacter(char),
}

/// Checks an id against the API's `Id` shape: 1..=100 characters of `[a-zA-Z0-9_-]`.
///
/// AWS matches the model's pattern `^[a-zA-Z0-9_\-]*` against the whole value, so it refuses
/// `pa-1/x` or `prod bad` with a `ValidationException` before looking anything up; this is the
/// same rule, applied before any call so a typo in a manifest costs none.
pub fn check_id(id: &str) -> Result<(), IdError> {
    if id.is_empty() {
        return Err(IdError::Empty);
    }
    if let Some(bad) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(IdError::BadCharacter(bad));
    }
    let len = id.chars().count();
    if len > MAX_ID_LEN {
        return Err(IdError::TooLong(len));
    }
    Ok(())
}

/// The write operations that carry an idempotency token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenOperation {
    Associate,
    Disassociate,
}

impl TokenOperation {
    /// The AWS operation name, part of the hashed input so the two operations never share a token.
    pub fn api_name(self) -> &'static str {
        match self {
            TokenOperation::Associate => "AssociateServiceActionWithProvisioningArtifact",
            TokenOperation::Disassociate => "DisassociateServiceActionFromProvisioningArtifact",
        }
    }
}

/// Domain prefix of the token hash. Changing it changes every token ever sent: never do that
/// within major version 1, or re-runs after an upgrade would no longer replay earlier calls.
const TOKEN_DOMAIN: &str = "sc-assoc/idempotency/v1";

/// The idempotency token for `operation` on `triple`:
/// `hex(sha256(DOMAIN NUL operation NUL product NUL artifact NUL action))`.
///
/// NUL cannot occur in an id, so no two different triples hash the same input. The result is 64
/// lowercase hex characters, inside the API's `[a-zA-Z0-9][a-zA-Z0-9_-]*`, 1..=128 rule.
pub fn idempotency_token(operation: TokenOperation, triple: &Triple) -> String {
    token_with_salt(operation, triple, None)
}

/// A token for a re-application after the stale-token trap: AWS replays the first answer for a
/// token forever, so an association removed out of band cannot be restored with the same token.
/// The salt (for example the attempt number) keeps the new token deterministic.
pub fn idempotency_token_salted(operation: TokenOperation, triple: &Triple, salt: &str) -> String {
    token_with_salt(operation, triple, Some(salt))
}

fn token_with_salt(operation: TokenOperation, triple: &Triple, salt: Option<&str>) -> String {
    let mut hasher = Sha256::new();
    for part in [
        TOKEN_DOMAIN,
        operation.api_name(),
        &triple.product,
        &triple.artifact,
        &triple.action,
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    if let Some(salt) = salt {
        hasher.update(b"salt");
        hasher.update([0u8]);
        hasher.update(salt.as_bytes());
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_api_shape() {
        assert_eq!(check_id("prod-abc_DEF-123"), Ok(()));
        assert_eq!(check_id(""), Err(IdError::Empty));
        assert_eq!(check_id("pa/1"), Err(IdError::BadCharacter('/')));
        // Whole-value, as AWS matches the pattern: a valid prefix does not make a valid id.
        assert_eq!(check_id("prod bad"), Err(IdError::BadCharacter(' ')));
        assert_eq!(check_id("prod-1\n"), Err(IdError::BadCharacter('\n')));
        assert_eq!(check_id(&"a".repeat(100)), Ok(()));
        assert_eq!(check_id(&"a".repeat(101)), Err(IdError::TooLong(101)));
    }

    /// Pinned vectors, computed independently (Python hashlib) from the formula in the README.
    /// If this test fails, re-runs would stop replaying earlier calls: do not "fix" the vectors.
    #[test]
    fn tokens_are_pinned_across_releases() {
        let triple = Triple::new(
            "prod-abcdzk7xy33qa",
            "pa-4abcdjnxjj6ne",
            "act-fs7abcd89wxyz",
        );
        assert_eq!(
            idempotency_token(TokenOperation::Associate, &triple),
            "de9f9a775f39768813b8783e940172a9def4221c5653007d3af11e8bc3cf2061"
        );
        assert_eq!(
            idempotency_token(TokenOperation::Disassociate, &triple),
            "02a5d290bcc743ac2f8dc69f7258ccec8866b31d7eaba6307143628e2a631a49"
        );
        assert_eq!(
            idempotency_token(TokenOperation::Associate, &Triple::new("p", "a", "x")),
            "b76a350e4f440779dc0705b789c6a93a71a78d31a9198e69a38e55e68c9f73a1"
        );
    }

    #[test]
    fn tokens_fit_the_api_pattern_and_differ_by_operation() {
        let triple = Triple::new("prod-1", "pa-1", "act-1");
        let associate = idempotency_token(TokenOperation::Associate, &triple);
        let disassociate = idempotency_token(TokenOperation::Disassociate, &triple);
        assert_ne!(associate, disassociate);
        for token in [&associate, &disassociate] {
            assert_eq!(token.len(), 64);
            assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
        }
        let salted = idempotency_token_salted(TokenOperation::Associate, &triple, "1");
        assert_ne!(salted, associate);
    }
}
