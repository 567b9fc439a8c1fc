//! Page tokens and page sizes. A token is opaque to clients: hex of (list identity digest,
//! last key returned) followed by a checksum, so a hand-made, truncated or foreign token — or one
//! from a different list — is rejected with `InvalidParametersException` instead of being
//! misread. Cursors carry the last key rather than an offset so an association added or removed
//! between pages neither repeats nor skips the items that stayed.

use super::wire::ServiceError;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Page size when the request has none or sends 0. The model allows 0..=20 and AWS documents no
/// default; 20 (the most a page may hold) keeps the number of calls lowest.
pub const DEFAULT_PAGE_SIZE: usize = 20;

const DOMAIN: &[u8] = b"sc-assoc/local-catalog/page-token/v1";
const DIGEST_LEN: usize = 8;

fn digest(parts: &[&[u8]]) -> [u8; DIGEST_LEN] {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    let full = h.finalize();
    let mut out = [0u8; DIGEST_LEN];
    out.copy_from_slice(&full[..DIGEST_LEN]);
    out
}

/// Identifies one list: the operation plus every parameter that shapes its contents and order.
pub fn list_identity(parts: &[&str]) -> [u8; DIGEST_LEN] {
    let bytes: Vec<&[u8]> = parts.iter().map(|p| p.as_bytes()).collect();
    digest(&bytes)
}

/// The token that resumes `list` after `last_key`.
pub fn encode(list: &[u8; DIGEST_LEN], last_key: &str) -> String {
    let mut payload = list.to_vec();
    payload.extend_from_slice(last_key.as_bytes());
    let check = digest(&[&payload]);
    payload.extend_from_slice(&check);
    hex::encode(payload)
}

/// The last key a token carries, if the token is genuine and belongs to `list`.
pub fn decode(list: &[u8; DIGEST_LEN], token: &str) -> Result<String, ServiceError> {
    let invalid = || ServiceError::invalid_parameters("The page token is not valid.");
    let bytes = hex::decode(token).map_err(|_| invalid())?;
    if bytes.len() < 2 * DIGEST_LEN {
        return Err(invalid());
    }
    let (payload, check) = bytes.split_at(bytes.len() - DIGEST_LEN);
    if digest(&[payload]) != check || &payload[..DIGEST_LEN] != list {
        return Err(invalid());
    }
    String::from_utf8(payload[DIGEST_LEN..].to_vec()).map_err(|_| invalid())
}

/// Requested page size; 0 and absent mean the default. The model already bounded it to 0..=20.
pub fn page_size(body: &Value) -> usize {
    match body.get("PageSize").and_then(Value::as_u64) {
        None | Some(0) => DEFAULT_PAGE_SIZE,
        Some(n) => usize::try_from(n).unwrap_or(DEFAULT_PAGE_SIZE),
    }
}

/// The decoded cursor of a request, `None` on the first page (absent or empty token).
pub fn cursor(body: &Value, list: &[u8; DIGEST_LEN]) -> Result<Option<String>, ServiceError> {
    match body.get("PageToken").and_then(Value::as_str) {
        None | Some("") => Ok(None),
        Some(t) => decode(list, t).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let list = list_identity(&["ListServiceActions"]);
        let token = encode(&list, "act-7");
        assert_eq!(decode(&list, &token), Ok("act-7".to_string()));
        assert!(!token.contains("act-7"));
        let other = list_identity(&["ListServiceActions", "x"]);
        assert!(decode(&other, &token).is_err());
        let mut tampered = token.clone();
        tampered.replace_range(20..21, if &token[20..21] == "0" { "1" } else { "0" });
        assert!(decode(&list, &tampered).is_err());
        assert!(decode(&list, "2").is_err());
        assert!(decode(&list, "zz").is_err());
    }
}
