//! Keeping secrets out of everything sc-assoc prints or logs, whoever wrote the text. AWS's
//! `InvalidSignatureException` message echoes the canonical request, session token and
//! `Authorization` header included; a `credential_process` may print keys in its error output;
//! an endpoint URL may carry a password. sc-assoc passes such texts on, so every one goes through
//! [`redact`] first: error messages from the SDK adapter, the report, the CLI's errors, and every
//! log line (the CLI writes its logs through it).
//!
//! What is masked: session tokens (`x-amz-security-token`, `SessionToken`), signatures
//! (`Signature=`, `X-Amz-Signature`), access-key ids (`AKIA…`, `ASIA…`), secret keys written as
//! `aws_secret_access_key = …` or `SecretAccessKey`, and the password of `scheme://user:pass@`.

use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;

/// What replaces a secret.
pub const MASK: &str = "***";

struct Rule {
    pattern: Regex,
    replacement: &'static str,
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |pattern: &str, replacement: &'static str| {
        Regex::new(pattern).ok().map(|pattern| Rule {
            pattern,
            replacement,
        })
    };
    [
        // Header or query parameter, in any case: `x-amz-security-token:AQo…`,
        // `X-Amz-Security-Token=AQo…`. A token is base64: it may hold `/`, `+` and `=`.
        rule(
            r"(?i)(x-amz-security-token\s*[:=]\s*)[A-Za-z0-9/+=%_-]+",
            "${1}***",
        ),
        // JSON, XML or env spellings of session tokens and secret keys.
        rule(
            r#"(?i)((?:session_?token|secret_?access_?key|aws_secret_access_key|aws_session_token)["']?\s*[:=>]\s*["']?)[A-Za-z0-9/+=%_-]+"#,
            "${1}***",
        ),
        // SigV4 signatures: `Signature=abcdef…` in the Authorization header, `X-Amz-Signature=`.
        rule(r"(?i)(signature\s*=\s*)[0-9a-f]{16,}", "${1}***"),
        // `Credential=AKIA…/20260101/us-east-1/servicecatalog/aws4_request`: the key id.
        rule(r"(?i)(credential\s*=\s*)[A-Za-z0-9]+", "${1}***"),
        // Access-key ids anywhere else: a four-letter type prefix and 16 or more characters.
        rule(
            r"\b(AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|APKA|ABIA|ACCA)[A-Z0-9]{12,124}\b",
            "${1}***",
        ),
        // `https://user:password@host`: the password.
        rule(r"([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@", "${1}***@"),
    ]
    .into_iter()
    .flatten()
    .collect()
});

/// `text` with every secret it holds masked.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut text = Cow::Borrowed(text);
    for rule in RULES.iter() {
        if rule.pattern.is_match(&text) {
            text = Cow::Owned(
                rule.pattern
                    .replace_all(&text, rule.replacement)
                    .into_owned(),
            );
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_echoed_canonical_request_loses_its_token_signature_and_key_id() {
        let message = "The request signature we calculated does not match. The Canonical String \
            for this request should have been 'POST\n/\n\nhost:servicecatalog.us-east-1.amazonaws.com\n\
            x-amz-date:20261201T000000Z\nx-amz-security-token:IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==\n' \
            Authorization: AWS4-HMAC-SHA256 Credential=ASIAQWERTYUIOPASDFGH/20261201/us-east-1/servicecatalog/aws4_request, \
            SignedHeaders=host;x-amz-date, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let redacted = redact(message);
        assert!(!redacted.contains("IQoJb3JpZ2lu"), "{redacted}");
        assert!(!redacted.contains("0123456789abcdef0123"), "{redacted}");
        assert!(!redacted.contains("QWERTYUIOPASDFGH"), "{redacted}");
        assert!(redacted.contains("x-amz-security-token:***"), "{redacted}");
        assert!(redacted.contains("Signature=***"), "{redacted}");
        assert!(redacted.contains("The request signature we calculated does not match"));
    }

    #[test]
    fn secrets_in_other_spellings_are_masked() {
        for (text, secret) in [
            (r#"{"SessionToken": "FwoGZXIvYXdzEJr"}"#, "FwoGZXIvYXdzEJr"),
            (
                "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "wJalrXUtnFEMI",
            ),
            ("key AKIAIOSFODNN7EXAMPLE expired", "IOSFODNN7EXAMPLE"),
            ("http://admin:hunter2@proxy.example:8080/", "hunter2"),
            ("X-Amz-Security-Token=FQoGZXIvYXdz%2F", "FQoGZXIvYXdz"),
        ] {
            let redacted = redact(text);
            assert!(!redacted.contains(secret), "{text} -> {redacted}");
        }
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        let text = "ResourceNotFoundException: product prod-abcdzk7xy33qa has no artifact pa-4abcdjnxjj6ne (request id 7f3a)";
        assert!(matches!(redact(text), Cow::Borrowed(_)));
    }
}
