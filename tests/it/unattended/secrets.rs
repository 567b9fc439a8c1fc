//! Nothing secret is printed, whoever wrote the text: a server message that echoes the session
//! token and the signature, a `credential_process` that prints keys, an endpoint URL with a
//! password. Checked on stdout and stderr, text and JSON, at every verbosity.

use super::timed;
use crate::hostile::{Answer, Hostile, MANIFEST};
use crate::support::{ACCESS_KEY, Run, SECRET_KEY, SESSION_TOKEN, write_file};
use std::time::Duration;

const GUARD: Duration = Duration::from_secs(60);

fn assert_nothing_secret(run: &Run, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "`{secret}` printed:\n{run:?}"
        );
    }
}

/// What AWS says to a bad signature: the canonical request, token and Authorization included.
fn echo_the_request(request: &crate::hostile::Request) -> Answer {
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    Answer::Error(
        403,
        "InvalidSignatureException",
        format!(
            "The request signature we calculated does not match the signature you provided. \
             The Canonical String for this request should have been 'POST\n/\n\nhost:{}\n\
             x-amz-security-token:{}\n' Authorization: {}",
            header("host"),
            header("x-amz-security-token"),
            header("authorization"),
        ),
    )
}

#[tokio::test]
async fn an_echoed_canonical_request_is_redacted_in_every_output() {
    let endpoint = Hostile::start(echo_the_request).await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "m.yaml", MANIFEST);
    let path = path.to_str().unwrap();
    for args in [
        &["plan", path][..],
        &["apply", path, "--output", "json"],
        &["apply", path, "-vv"],
    ] {
        let (run, _) = timed(
            Some(&endpoint.endpoint),
            args,
            &[("AWS_SESSION_TOKEN", SESSION_TOKEN)],
            GUARD,
        )
        .await;
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr.contains("InvalidSignatureException")
                || run.stdout.contains("InvalidSignatureException"),
            "the error itself is still told: {run:?}"
        );
        assert!(endpoint.total_calls() > 0);
        // The signature is the hex after `Signature=` in what the server echoed.
        assert!(!run.stderr.contains("Signature=0") && !run.stderr.contains("Signature=1"));
        assert_nothing_secret(&run, &[SESSION_TOKEN, SECRET_KEY, &ACCESS_KEY[4..]]);
        let signature_hex = regex_signature(&run.stderr) + &regex_signature(&run.stdout);
        assert!(
            signature_hex.is_empty(),
            "a signature was printed: {signature_hex}"
        );
    }
}

/// Any 64-hex-digit run after `Signature=`.
fn regex_signature(text: &str) -> String {
    text.split("Signature=")
        .skip(1)
        .filter_map(|rest| {
            let hex: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
            (hex.len() >= 16).then_some(hex)
        })
        .collect()
}

#[cfg(unix)]
#[tokio::test]
async fn credential_process_output_is_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "m.yaml", MANIFEST);
    let config = write_file(
        dir.path(),
        "config",
        "[profile leaky]\nregion = us-east-1\ncredential_process = sh -c 'echo \"aws_secret_access_key = LeakedSecretValue1234 token AKIAIOSFODNN7LEAKED1\" >&2; exit 1'\n",
    );
    let (run, took) = timed(
        None,
        &["plan", path.to_str().unwrap(), "--profile", "leaky"],
        &[
            ("AWS_CONFIG_FILE", config.to_str().unwrap()),
            ("AWS_ACCESS_KEY_ID", ""),
            ("AWS_SECRET_ACCESS_KEY", ""),
        ],
        GUARD,
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert!(run.stderr.contains("external process"), "{run:?}");
    assert_nothing_secret(&run, &["LeakedSecretValue1234", "IOSFODNN7LEAKED1"]);
}

#[tokio::test]
async fn a_password_in_the_endpoint_url_is_never_printed() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    drop(listener);
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "m.yaml", MANIFEST);
    let url = format!("http://admin:hunter2secret@{address}");
    let (run, _) = timed(
        Some(&url),
        &["plan", path.to_str().unwrap(), "-vv"],
        &[],
        GUARD,
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("cannot reach"), "{run:?}");
    assert_nothing_secret(&run, &["hunter2secret"]);
}
